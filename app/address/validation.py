"""Postal address validation: ISO 3166-1 country codes and per-country postal code formats."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError

# Postal code formats for the countries we serve; other countries get a generic check.
POSTAL_CODE_PATTERNS: dict[str, str] = {
    "US": r"\d{5}(-\d{4})?",
    "CA": r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d",
    "DE": r"\d{5}",
    "AT": r"\d{4}",
    "CH": r"\d{4}",
    "FR": r"\d{5}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "BE": r"\d{4}",
    "ES": r"\d{5}",
    "IT": r"\d{5}",
    "PL": r"\d{2}-\d{3}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "IE": r"[A-Z]\d[\dW] ?[A-Z\d]{4}",
    "AU": r"\d{4}",
}
GENERIC_POSTAL_CODE = r"[A-Z0-9][A-Z0-9 \-]{1,9}"

# Every region phonenumbers knows is a real ISO 3166-1 alpha-2 code (plus "001", non-geographic).
COUNTRY_CODES = frozenset(
    code for code in phonenumbers.SUPPORTED_REGIONS if len(code) == 2 and code.isalpha()
)


def normalize_country(value: str) -> str:
    code = (value or "").strip().upper()
    if code not in COUNTRY_CODES:
        raise ValidationError(
            {"country": "Enter an ISO 3166-1 alpha-2 country code, e.g. DE or US."}
        )
    return code


def normalize_postal_code(country: str, value: str) -> str:
    code = " ".join((value or "").upper().split())
    pattern = POSTAL_CODE_PATTERNS.get(country, GENERIC_POSTAL_CODE)
    if not re.fullmatch(pattern, code):
        raise ValidationError({"postal_code": f"Enter a valid postal code for {country}."})
    return code
