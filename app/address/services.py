from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from address.models import Address
from address.validation import normalize_country, normalize_postal_code

FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")


def _clean(data: dict[str, Any]) -> dict[str, str]:
    cleaned = {field: " ".join(str(data.get(field) or "").split()) for field in FIELDS}
    errors: dict[str, str] = {}
    for required in ("line1", "city", "postal_code", "country"):
        if not cleaned[required]:
            errors[required] = "This field is required."
    if errors:
        raise ValidationError(errors)
    cleaned["country"] = normalize_country(cleaned["country"])
    cleaned["postal_code"] = normalize_postal_code(cleaned["country"], cleaned["postal_code"])
    return cleaned


def address_create(**data: Any) -> Address:
    address = Address(**_clean(data))
    address.full_clean()
    address.save()
    return address


def address_update(address: Address, **data: Any) -> Address:
    merged = {field: getattr(address, field) for field in FIELDS} | data
    for field, value in _clean(merged).items():
        setattr(address, field, value)
    address.full_clean()
    address.save()
    return address
