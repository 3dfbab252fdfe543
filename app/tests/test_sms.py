"""SMS: Twilio at the HTTP level (the real client, its requests intercepted by ``responses``),
and the Dramatiq actor run by a real worker on the stub broker."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from appointment.models import Appointment
from django.test import override_settings
from django.utils import timezone
from notification import backends
from notification.backends import SmsError
from notification.models import SmsKind, SmsMessage, SmsStatus
from notification.services import MAX_ATTEMPTS, sms_deliver
from notification.tasks import _should_retry

from tests.conftest import wait_until

TWILIO_URL = (
    "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
)
twilio = override_settings(SMS_BACKEND="notification.backends.TwilioBackend")


def _message(**kw) -> SmsMessage:
    return SmsMessage.objects.create(
        kind=kw.pop("kind", SmsKind.CONFIRMATION), to="+4915112345678", body="Hello", **kw
    )


def _twilio_ok(sid="SM0123456789abcdef0123456789abcdef"):
    return {
        "sid": sid,
        "status": "queued",
        "to": "+4915112345678",
        "from": "+15005550006",
        "body": "Hello",
        "account_sid": "AC00000000000000000000000000000000",
    }


@pytest.fixture(autouse=True)
def _clear_backend_cache():
    backends._backend_class.cache_clear()
    yield
    backends._backend_class.cache_clear()


@twilio
@responses.activate
@pytest.mark.django_db
def test_twilio_send_stores_sid_and_never_sends_twice():
    responses.post(TWILIO_URL, json=_twilio_ok(), status=201)
    message = _message()
    assert sms_deliver(message.pk) == "sent"
    assert len(responses.calls) == 1
    sent = parse_qs(responses.calls[0].request.body)
    assert sent == {"To": ["+4915112345678"], "From": ["+15005550006"], "Body": ["Hello"]}
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")

    message.refresh_from_db()
    assert message.status == SmsStatus.SENT
    assert message.provider_sid == "SM0123456789abcdef0123456789abcdef"
    assert message.attempts == 1

    # A retried job (e.g. redelivered after a worker crash) finds the SID and sends nothing.
    assert sms_deliver(message.pk) == "already-done"
    assert len(responses.calls) == 1


@twilio
@responses.activate
@pytest.mark.django_db
def test_twilio_server_error_is_retryable_then_succeeds():
    responses.post(
        TWILIO_URL, json={"code": 20500, "message": "Internal error", "status": 500}, status=500
    )
    responses.post(TWILIO_URL, json=_twilio_ok(), status=201)
    message = _message()
    with pytest.raises(SmsError) as excinfo:
        sms_deliver(message.pk)
    assert excinfo.value.retryable
    assert _should_retry(0, excinfo.value)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_sid) == ("pending", 1, "")
    assert "500" in message.last_error

    assert sms_deliver(message.pk) == "sent"
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.status == SmsStatus.SENT


@twilio
@responses.activate
@pytest.mark.django_db
def test_twilio_invalid_number_fails_without_retry():
    responses.post(
        TWILIO_URL,
        json={"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400},
        status=400,
    )
    message = _message()
    assert sms_deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED
    assert "21211" in message.last_error


@twilio
@responses.activate
@pytest.mark.django_db
def test_gives_up_after_max_attempts():
    responses.post(
        TWILIO_URL, json={"code": 20429, "message": "Too many", "status": 429}, status=429
    )
    message = _message()
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(SmsError):
            sms_deliver(message.pk)
    assert sms_deliver(message.pk) == "failed"
    assert len(responses.calls) == MAX_ATTEMPTS


@pytest.mark.django_db
def test_reminder_for_cancelled_appointment_is_not_sent(world, caplog):
    start = world.local(world.bookable_day, 10)
    appt = Appointment.objects.create(
        salon=world.salon,
        staff=world.staff,
        service=world.service,
        customer=world.customer,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40),
        price=1,
        currency="EUR",
        status="cancelled",
    )
    message = _message(kind=SmsKind.REMINDER, appointment=appt)
    assert sms_deliver(message.pk) == "cancelled"


@pytest.mark.django_db
def test_future_message_is_deferred(django_capture_on_commit_callbacks):
    message = _message(send_after=timezone.now() + timedelta(days=10))
    with django_capture_on_commit_callbacks() as callbacks:
        assert sms_deliver(message.pk) == "deferred"
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == SmsStatus.PENDING


def test_booking_sms_reaches_worker_after_commit(
    transactional_db, world, client_for, stub_worker, caplog
):
    """Booking commits, on_commit enqueues, a real worker thread sends through the console
    backend; the booking is never rolled back by SMS trouble."""
    _broker, _worker = stub_worker
    client = client_for(world.customer)
    caplog.set_level("INFO", logger="notification.backends")
    response = client.post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": world.service.pk,
            "staff": world.staff.pk,
            "starts_at": world.local(world.bookable_day, 10).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    # broker.join()/worker.join() would also wait for the reminder, delayed by days.
    wait_until(lambda: SmsMessage.objects.filter(kind=SmsKind.CONFIRMATION, status="sent").exists())

    confirmation = SmsMessage.objects.get(kind=SmsKind.CONFIRMATION)
    assert confirmation.status == SmsStatus.SENT
    assert confirmation.provider_sid.startswith("console-")
    assert confirmation.to == world.customer.phone
    assert "Booked: Haircut" in confirmation.body
    assert any("Booked: Haircut" in r.getMessage() for r in caplog.records)
    # The reminder waits (delayed message) until 24 h before the appointment.
    reminder = SmsMessage.objects.get(kind=SmsKind.REMINDER)
    assert reminder.status == SmsStatus.PENDING


@twilio
@responses.activate
def test_twilio_outage_keeps_booking(transactional_db, world, client_for, stub_worker):
    _broker, _worker = stub_worker
    responses.post(TWILIO_URL, json={"code": 20500, "message": "down", "status": 500}, status=500)
    client = client_for(world.customer)
    response = client.post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": world.service.pk,
            "staff": world.staff.pk,
            "starts_at": world.local(world.bookable_day, 11).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    # First attempt fails; the retry is scheduled with backoff (seconds), not lost.
    # (broker.join would wait for every retry, minutes with the real backoff.)
    wait_until(lambda: SmsMessage.objects.filter(kind=SmsKind.CONFIRMATION, attempts=1).exists())
    assert Appointment.objects.filter(pk=response.json()["id"], status="booked").exists()
    confirmation = SmsMessage.objects.get(kind=SmsKind.CONFIRMATION)
    assert confirmation.attempts == 1
    assert confirmation.status == SmsStatus.PENDING
    assert len(responses.calls) == 1


def test_cancel_and_reschedule_send_notices(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.customer)
    r = client.post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": world.service.pk,
            "staff": world.staff.pk,
            "starts_at": world.local(world.bookable_day, 10).isoformat(),
        },
        format="json",
    )
    pk = r.json()["id"]
    r = client.post(
        f"/api/appointments/{pk}/reschedule/",
        {"starts_at": world.local(world.bookable_day, 12).isoformat()},
        format="json",
    )
    assert r.status_code == 200, r.json()
    kinds = list(
        SmsMessage.objects.filter(appointment_id=pk).order_by("id").values_list("kind", "status")
    )
    assert kinds == [
        ("confirmation", "pending"),
        ("reminder", "cancelled"),
        ("reschedule", "pending"),
        ("reminder", "pending"),
    ]
    assert client.post(f"/api/appointments/{pk}/cancel/").status_code == 200
    last = SmsMessage.objects.filter(appointment_id=pk).order_by("id").last()
    assert last.kind == SmsKind.CANCELLATION
    assert "Cancelled" in last.body
    assert not SmsMessage.objects.filter(
        appointment_id=pk, kind="reminder", status="pending"
    ).exists()


@twilio
@responses.activate
def test_worker_retries_twilio_failure_then_sends_once(
    transactional_db, world, client_for, stub_worker, monkeypatch
):
    """A real worker: Twilio answers 503 first, the Retries middleware re-delivers after its
    backoff (shortened here), the second attempt sends, and nothing is sent twice."""
    from notification.tasks import send_sms

    monkeypatch.setitem(send_sms.options, "min_backoff", 10)
    monkeypatch.setitem(send_sms.options, "max_backoff", 50)
    responses.post(TWILIO_URL, json={"code": 20503, "message": "busy", "status": 503}, status=503)
    responses.post(TWILIO_URL, json=_twilio_ok("SMfeedfacefeedfacefeedfacefeedface"), status=201)
    r = client_for(world.customer).post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": world.service.pk,
            "staff": world.staff.pk,
            "starts_at": world.local(world.bookable_day, 15).isoformat(),
        },
        format="json",
    )
    assert r.status_code == 201
    wait_until(lambda: SmsMessage.objects.filter(kind=SmsKind.CONFIRMATION, status="sent").exists())
    confirmation = SmsMessage.objects.get(kind=SmsKind.CONFIRMATION)
    assert confirmation.attempts == 2
    assert confirmation.provider_sid == "SMfeedfacefeedfacefeedfacefeedface"
    assert len(responses.calls) == 2
