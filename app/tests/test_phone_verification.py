from __future__ import annotations

import re

from notification.models import SmsKind, SmsMessage
from user.models import PhoneVerification


def _code() -> str:
    body = SmsMessage.objects.filter(kind=SmsKind.VERIFICATION).latest("created_at").body
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_verify_phone_by_sms_code(world, client_for):
    user = world.other_owner
    client = client_for(user)
    r = client.post("/api/me/phone/", {"phone": "+1 415 555 2671"}, format="json")
    assert r.status_code == 202
    message = SmsMessage.objects.get(kind=SmsKind.VERIFICATION, user=user)
    assert message.to == "+14155552671"  # normalized to E.164

    r = client.post("/api/me/phone/confirm/", {"code": "not-it"}, format="json")
    assert r.status_code == 400
    assert "code" in r.json()
    assert PhoneVerification.objects.get(user=user).attempts == 1  # counted despite the 400

    r = client.post("/api/me/phone/confirm/", {"code": _code()}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["phone"] == "+14155552671"
    assert r.json()["phone_verified"] is True


def test_too_many_wrong_codes_and_resend_throttle(world, client_for):
    client = client_for(world.other_owner)
    assert (
        client.post("/api/me/phone/", {"phone": "+14155552671"}, format="json").status_code == 202
    )
    assert (
        client.post("/api/me/phone/", {"phone": "+14155552671"}, format="json").status_code == 429
    )
    for _ in range(PhoneVerification.MAX_ATTEMPTS):
        client.post("/api/me/phone/confirm/", {"code": "000000"}, format="json")
    r = client.post("/api/me/phone/confirm/", {"code": _code()}, format="json")
    assert r.status_code == 400
    assert "Too many" in r.json()["code"][0]


def test_number_of_another_verified_account_is_refused(world, client_for):
    client = client_for(world.other_owner)
    r = client.post("/api/me/phone/", {"phone": world.customer.phone}, format="json")
    assert r.status_code == 400
    assert "another account" in r.json()["phone"][0]
