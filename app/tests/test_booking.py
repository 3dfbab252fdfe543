from __future__ import annotations

from datetime import timedelta

import pytest
from appointment.availability_cache import bump_now
from appointment.models import Appointment, AppointmentStatus
from notification.models import SmsKind, SmsMessage


def book(client, world, start, *, staff=None, service=None, **extra):
    return client.post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": (service or world.service).pk,
            "staff": (staff or world.staff).pk,
            "starts_at": start.isoformat(),
        },
        format="json",
        **extra,
    )


def test_book_then_slot_disappears_and_sms_logged(
    world, client_for, django_capture_on_commit_callbacks
):
    day = world.bookable_day
    client = client_for(world.customer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = book(client, world, world.local(day, 10))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "booked"
    # Confirmation now, reminder later; the third callback invalidates the cached availability.
    sms_callbacks = [c for c in callbacks if getattr(c, "func", None) is not bump_now]
    assert len(sms_callbacks) == 2
    assert len(callbacks) == 3

    appointment = Appointment.objects.get(pk=body["id"])
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    assert appointment.blocked_until - appointment.ends_at == timedelta(minutes=10)
    kinds = set(SmsMessage.objects.filter(appointment=appointment).values_list("kind", flat=True))
    assert kinds == {SmsKind.CONFIRMATION, SmsKind.REMINDER}

    slots = client.get(
        f"/api/salons/{world.salon.pk}/availability",
        {"service": world.service.pk, "date": day.isoformat()},
    ).json()
    starts = {s["start"] for s in slots}
    # Booked: [10:00, 10:40) with the buffer. A new one needs [start, start + 40min) free.
    for hour, minute in ((9, 30), (9, 45), (10, 0), (10, 15), (10, 30)):
        assert world.local(day, hour, minute).isoformat() not in starts
    assert world.local(day, 9, 15).isoformat() in starts  # 09:15-09:55 incl. buffer
    assert world.local(day, 10, 45).isoformat() in starts


def test_overlap_is_409(world, client_for):
    day = world.bookable_day
    first = book(client_for(world.customer), world, world.local(day, 11))
    assert first.status_code == 201
    second = book(client_for(world.other_customer), world, world.local(day, 11, 15))
    assert second.status_code == 409
    assert second.json()["code"] == "conflict"


def test_buffer_blocks_back_to_back(world, client_for):
    day = world.bookable_day
    assert book(client_for(world.customer), world, world.local(day, 11)).status_code == 201
    # 11:30 is inside the 10-minute buffer after the 11:00-11:30 appointment.
    assert (
        book(client_for(world.other_customer), world, world.local(day, 11, 30)).status_code == 409
    )
    assert (
        book(client_for(world.other_customer), world, world.local(day, 11, 45)).status_code == 201
    )


def test_database_constraint_rejects_overlap_directly(world):
    from django.db import IntegrityError, transaction

    day = world.bookable_day
    start = world.local(day, 12)
    common = dict(
        salon=world.salon, staff=world.staff, service=world.service, price=1, currency="EUR"
    )
    Appointment.objects.create(
        customer=world.customer,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40),
        **common,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            customer=world.other_customer,
            starts_at=start + timedelta(minutes=39),
            ends_at=start + timedelta(minutes=69),
            blocked_until=start + timedelta(minutes=79),
            **common,
        )
    # A cancelled appointment frees the time.
    Appointment.objects.filter(starts_at=start).update(status=AppointmentStatus.CANCELLED)
    Appointment.objects.create(
        customer=world.other_customer,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40),
        **common,
    )


def _next_berlin_fall_back():
    """The next last Sunday of October (EU clocks go back at 03:00 CEST), at least 2 days out."""
    from datetime import date

    today = date.today()
    for year in (today.year, today.year + 1):
        day = date(year, 10, 31)
        day -= timedelta(days=(day.weekday() + 1) % 7)
        if day > today + timedelta(days=1):
            return day
    raise AssertionError("unreachable")


def test_booking_both_two_oclocks_on_fall_back_night(client_for, db):
    """On the fall-back night Berlin's wall clock shows 02:00 twice: two different instants,
    both bookable, and the API tells them apart by their offsets."""
    from datetime import time

    from tests.factories import (
        SalonFactory,
        ServiceFactory,
        StaffFactory,
        VerifiedCustomerFactory,
        open_every_day,
        work_every_day,
    )

    salon = SalonFactory(slot_interval_minutes=60, lead_time_minutes=0, booking_horizon_days=366)
    open_every_day(salon, time(0), time(6))
    staff = StaffFactory(salon=salon)
    work_every_day(staff, time(0), time(6))
    service = ServiceFactory(salon=salon, staff=[staff], duration_minutes=60, buffer_minutes=0)
    client = client_for(VerifiedCustomerFactory())
    day = _next_berlin_fall_back()

    slots = client.get(
        f"/api/salons/{salon.pk}/availability", {"service": service.pk, "date": day.isoformat()}
    ).json()
    assert [s["start"][11:] for s in slots][2:4] == ["02:00:00+02:00", "02:00:00+01:00"]

    ids = []
    for start in (f"{day}T02:00:00+02:00", f"{day}T02:00:00+01:00"):
        r = client.post(
            "/api/appointments/",
            {"salon": salon.pk, "service": service.pk, "staff": staff.pk, "starts_at": start},
            format="json",
        )
        assert r.status_code == 201, r.json()
        ids.append(r.json()["starts_at"])
    assert ids == [f"{day}T00:00:00Z", f"{day}T01:00:00Z"]
    # 02:30 summer time falls inside the first booking.
    r = client.post(
        "/api/appointments/",
        {
            "salon": salon.pk,
            "service": service.pk,
            "staff": staff.pk,
            "starts_at": f"{day}T02:30:00+02:00",
        },
        format="json",
    )
    assert r.status_code == 400  # not on the slot grid


def test_insert_aborted_by_a_deadlock_is_retried(world, client_for, monkeypatch):
    """PostgreSQL may abort one of two overlapping concurrent inserts with "deadlock detected"
    (exclusion constraints wait on each other's rows); the booking retries instead of a 500."""
    import psycopg.errors
    from appointment.models import Appointment
    from django.db import OperationalError

    save = Appointment.save
    calls = []

    def deadlock_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            try:
                raise psycopg.errors.DeadlockDetected("deadlock detected")
            except psycopg.errors.DeadlockDetected as cause:
                raise OperationalError("deadlock detected") from cause
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Appointment, "save", deadlock_once)
    start = world.local(world.bookable_day, 11)
    response = client_for(world.customer).post("/api/appointments/", {
        "salon": world.salon.pk, "service": world.service.pk, "staff": world.staff.pk,
        "starts_at": start.isoformat()}, format="json")
    assert response.status_code == 201, response.content
    assert len(calls) == 2
