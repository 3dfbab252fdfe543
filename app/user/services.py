from __future__ import annotations

import secrets
from datetime import timedelta

from booking_api.exceptions import ApplicationError
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from notification.models import SmsKind
from notification.services import sms_queue

from user.models import PhoneVerification, User
from user.phone import normalize_phone_field

CODE_TTL = timedelta(minutes=10)
RESEND_INTERVAL = timedelta(seconds=30)


class TooManyRequests(ApplicationError):
    status_code = 429
    code = "throttled"


def user_update_profile(*, user: User, **data) -> User:
    for field in ("first_name", "last_name"):
        if field in data:
            setattr(user, field, data[field])
    user.full_clean(exclude=["password"])
    user.save(update_fields=["first_name", "last_name"])
    return user


@transaction.atomic
def phone_verification_start(*, user: User, phone: str) -> PhoneVerification:
    """Send a 6-digit code to ``phone``; the number is set on the user once confirmed."""
    phone = normalize_phone_field(phone)
    if (
        User.objects.filter(phone=phone, phone_verified_at__isnull=False)
        .exclude(pk=user.pk)
        .exists()
    ):
        raise ValidationError({"phone": "This phone number belongs to another account."})
    latest = PhoneVerification.objects.filter(user=user).order_by("-created_at").first()
    if latest and timezone.now() - latest.created_at < RESEND_INTERVAL:
        raise TooManyRequests("Wait a little before asking for another code.")
    code = f"{secrets.randbelow(1_000_000):06d}"
    verification = PhoneVerification.objects.create(
        user=user,
        phone=phone,
        code_hash=make_password(code),
        expires_at=timezone.now() + CODE_TTL,
    )
    sms_queue(
        kind=SmsKind.VERIFICATION,
        to=phone,
        body=f"Your booking verification code is {code}. It expires in 10 minutes.",
        user=user,
    )
    return verification


def phone_verification_confirm(*, user: User, code: str) -> User:
    """Check ``code``; a wrong code still counts as an attempt (committed before the 400)."""
    with transaction.atomic():
        verification = (
            PhoneVerification.objects.select_for_update()
            .filter(user=user, verified_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
        if verification is None:
            raise ValidationError({"code": "No pending verification. Request a new code."})
        if verification.attempts >= PhoneVerification.MAX_ATTEMPTS:
            raise ValidationError({"code": "Too many wrong codes. Request a new code."})
        verification.attempts += 1
        code = (code or "").strip()
        matched = code.isdigit() and check_password(code, verification.code_hash)
        if matched:
            now = timezone.now()
            verification.verified_at = now
            # A number belongs to one account: an unverified claim elsewhere is dropped.
            User.objects.filter(phone=verification.phone).exclude(pk=user.pk).update(
                phone=None, phone_verified_at=None
            )
            user.phone = verification.phone
            user.phone_verified_at = now
            user.save(update_fields=["phone", "phone_verified_at"])
        verification.save(update_fields=["attempts", "verified_at"])
    if not matched:
        raise ValidationError({"code": "Wrong code."})
    return user
