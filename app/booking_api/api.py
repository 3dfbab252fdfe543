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


def get_or_404(obj):
    if obj is None:
        raise Http404
    return obj


def inline_serializer(*, name: str, fields: dict, **kwargs) -> serializers.Serializer:
    serializer_class = type(name, (serializers.Serializer,), fields)
    return serializer_class(**kwargs)
