"""The OpenAPI schema served at /api/schema/, made to describe what the API really sends.

drf-spectacular documents only each operation's success response. Client generators and
schema-driven fuzzers (tests/test_fuzz.py) need every status the API can answer, with the body
the exception handler (booking_api/exceptions.py) sends for it. ``AutoSchema`` adds the
statuses that follow from an operation's shape (any operation: 401; path ids: 404; a body or
query/header parameters: 400); views declare the ones their services raise with
``error_responses(403, 409, ...)``. Both come out as the same two components, ``Error`` and
``ValidationError``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from booking_api.api import ReadAnyWriteAuthenticated

# What DRF's TimeField sends ("09:00:00", with microseconds if stored) and the common subset of
# what it accepts ("09:00" too). `format: time` (RFC 3339) would require a UTC offset that a
# salon's wall-clock hours never have, so strict validators reject every real response.
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


class TimeOfDayFieldExtension(OpenApiSerializerFieldExtension):
    """Every TimeField (model fields included): a wall-clock time without offset."""

    target_class = "rest_framework.fields.TimeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "pattern": TIME_OF_DAY_PATTERN,
            "description": "Wall-clock time in the salon's zone, HH:MM[:SS], no UTC offset.",
            "example": "09:00:00",
        }


class ErrorSerializer(serializers.Serializer):
    """The body of every error but 400: `detail` says what went wrong; errors raised by the
    services (403, 409, 422, 429) add a machine-readable `code` (`permission_denied`,
    `conflict`, `idempotency_key_reused`, `throttled`)."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class ValidationErrorSerializer(serializers.Serializer):
    """Schema only (see ``ValidationErrorExtension``): a 400's body has no fixed fields."""


class ValidationErrorExtension(OpenApiSerializerExtension):
    target_class = ValidationErrorSerializer

    def get_name(self, auto_schema, direction):
        return "ValidationError"

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": "The invalid input: each field (or `non_field_errors`, or `detail` "
            "for the request as a whole) to its messages; nested fields and list items nest "
            'the same way. A body that is not JSON answers `{"detail": "JSON parse error '
            '..."}`.',
            "additionalProperties": {
                "anyOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"$ref": "#/components/schemas/ValidationError"},
                    {"type": "string"},
                ]
            },
            "example": {"starts_at": ["This time is in the past."]},
        }


ERROR_DESCRIPTIONS = {
    400: "Invalid input.",
    401: "Not logged in: no `Authorization: Bearer` token, or an invalid or expired one.",
    403: "Logged in, but not allowed to do this.",
    404: "No such object, or not one the caller may see.",
    409: "Conflicts with the current state: the slot is taken, or the appointment is no "
    "longer booked.",
    422: "This `Idempotency-Key` was used with a different request.",
    429: "Too many requests: wait before trying again.",
}
# Public operations answer 401 only to a bad token: DRF authenticates every request first.
PUBLIC_401_DESCRIPTION = "An invalid or expired token (omit `Authorization` to call anonymously)."


def error_response(status_code: int, description: str | None = None) -> OpenApiResponse:
    serializer = ValidationErrorSerializer if status_code == 400 else ErrorSerializer
    return OpenApiResponse(serializer, description=description or ERROR_DESCRIPTIONS[status_code])


def error_responses(*status_codes: int) -> dict[int, OpenApiResponse]:
    """For ``extend_schema(responses={200: ..., **error_responses(403, 409)})``: the errors an
    operation's service can raise, beyond those ``AutoSchema`` derives from its shape."""
    return {code: error_response(code) for code in status_codes}


class AutoSchema(SpectacularAutoSchema):
    def get_auth(self) -> list[dict[str, Any]]:
        # ReadAnyWriteAuthenticated is IsAuthenticatedOrReadOnly under another name, which
        # drf-spectacular recognises only by its own class: mark its reads as public too.
        auths = super().get_auth()
        if (
            self.method in SAFE_METHODS
            and any(isinstance(p, ReadAnyWriteAuthenticated) for p in self.view.get_permissions())
            and {} not in auths
        ):
            auths.append({})
        return auths

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        public = {} in operation.get("security", [])
        responses = operation["responses"]
        for status_code in self.implied_error_statuses(operation):
            description = PUBLIC_401_DESCRIPTION if status_code == 401 and public else None
            # The same path as extend_schema's responses, so both render identically.
            responses.setdefault(
                str(status_code),
                self._get_response_for_code(
                    error_response(status_code, description), str(status_code)
                ),
            )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def implied_error_statuses(self, operation: dict[str, Any]) -> set[int]:
        statuses = {401}
        if "{" in self.path:
            statuses.add(404)  # ids in the path that match no row the caller may see
        parameters = operation.get("parameters", [])
        if "requestBody" in operation or any(p["in"] in ("query", "header") for p in parameters):
            statuses.add(400)
        return statuses
