"""Small helpers shared by the thin API views."""

from __future__ import annotations

from django.http import Http404
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission


class ReadAnyWriteAuthenticated(BasePermission):
    """Public reads; writes need a login (the service decides who may write what)."""

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or bool(
            request.user and request.user.is_authenticated
        )


class IsPlatformAdmin(BasePermission):
    """Platform admins only (superusers and the admin role): 401 without a login, else 403.
    Not Django's ``is_staff``, which salon owners and staff have for their part of the admin."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_platform_admin)


def get_or_404(obj):
    if obj is None:
        raise Http404
    return obj


def inline_serializer(*, name: str, fields: dict, **kwargs) -> serializers.Serializer:
    serializer_class = type(name, (serializers.Serializer,), fields)
    return serializer_class(**kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its UTC offset: a bare "10:00" is ambiguous
    between the client's, the salon's and the server's zone."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if isinstance(value, str) and not _has_offset(value):
            self.fail("naive")
        return parsed

    default_error_messages = {
        **serializers.DateTimeField.default_error_messages,
        "naive": "Include a UTC offset, e.g. 2026-03-29T10:00:00+02:00 or ...Z.",
    }


def _has_offset(value: str) -> bool:
    from django.utils.dateparse import parse_datetime

    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return False
    return parsed is not None and parsed.tzinfo is not None
