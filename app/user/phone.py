"""Phone numbers are stored in E.164 (``+4930123456``) after validation with ``phonenumbers``."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def normalize_phone(value: str) -> str:
    """Return ``value`` in E.164 or raise ``ValidationError``."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("Enter a phone number.", code="invalid_phone")
    try:
        parsed = phonenumbers.parse(value.strip(), settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            "Enter a valid phone number in international format, e.g. +14155550123.",
            code="invalid_phone",
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            "Enter a valid phone number in international format, e.g. +14155550123.",
            code="invalid_phone",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    if normalize_phone(value) != value:
        raise ValidationError("Phone numbers are stored in E.164 format.", code="invalid_phone")


def normalize_phone_field(value: str, field: str = "phone") -> str:
    """``normalize_phone`` with the error attached to ``field``."""
    try:
        return normalize_phone(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
