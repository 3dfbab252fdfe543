"""Bad input gets a 400 with a field-level message, never a 500."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from salon.models import Service

from tests.factories import StaffFactory, work_every_day


def _book(client, world, **overrides):
    body = {
        "salon": world.salon.pk,
        "service": world.service.pk,
        "staff": world.staff.pk,
        "starts_at": world.local(world.bookable_day, 10).isoformat(),
    } | overrides
    return client.post("/api/appointments/", body, format="json")


def test_malformed_json_is_400(world, client_for):
    client = client_for(world.customer)
    r = client.generic("POST", "/api/appointments/", "{not json", content_type="application/json")
    assert r.status_code == 400
    assert "detail" in r.json()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_at": "yesterday"}, "starts_at"),
        ({"service": "abc"}, "service"),
        ({"salon": 0}, "salon"),
        ({"salon": 99999}, "salon"),
        ({"service": 99999}, "service"),
        ({"staff": 99999}, "staff"),
    ],
)
def test_bad_booking_fields(world, client_for, overrides, field):
    r = _book(client_for(world.customer), world, **overrides)
    assert r.status_code == 400, r.content
    assert field in r.json()


def test_slot_in_the_past(world, client_for):
    past = (timezone.now() - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    r = _book(client_for(world.customer), world, starts_at=past.isoformat())
    assert r.status_code == 400
    assert "past" in r.json()["starts_at"][0]


def test_slot_outside_hours_or_off_grid(world, client_for):
    client = client_for(world.customer)
    r = _book(client, world, starts_at=world.local(world.bookable_day, 20).isoformat())
    assert r.status_code == 400
    assert "starts_at" in r.json()
    r = _book(client, world, starts_at=world.local(world.bookable_day, 10, 7).isoformat())
    assert r.status_code == 400


def test_unknown_service_for_that_staff(world, client_for):
    other = StaffFactory(salon=world.salon)
    work_every_day(other)
    r = _book(client_for(world.customer), world, staff=other.pk)
    assert r.status_code == 400
    assert "does not offer" in r.json()["service"][0]
    # A service of another salon is unknown here.
    foreign = Service.objects.create(
        salon=StaffFactory().salon, name="X", duration_minutes=30, price=1
    )
    r = _book(client_for(world.customer), world, service=foreign.pk)
    assert r.status_code == 400
    assert "service" in r.json()


def test_invalid_phone(world, client_for):
    client = client_for(world.customer)
    for bad in ("12", "+49 000", "not a number", "+1 555 0100"):
        r = client.post("/api/me/phone/", {"phone": bad}, format="json")
        assert r.status_code == 400, bad
        assert "phone" in r.json()


def test_overlapping_hours_field_error(world, client_for):
    client = client_for(world.owner)
    url = f"/api/salons/{world.salon.pk}/opening-hours/"
    r = client.post(url, {"weekday": 0, "opens": "16:00", "closes": "19:00"}, format="json")
    assert r.status_code == 400
    assert "overlap" in r.json()["opens"][0]
    r = client.post(url, {"weekday": 0, "opens": "19:00", "closes": "18:00"}, format="json")
    assert r.status_code == 400
    assert "closes" in r.json()
    url = f"/api/salons/{world.salon.pk}/staff/{world.staff.pk}/working-hours/"
    r = client.post(url, {"weekday": 2, "starts": "08:00", "ends": "09:30"}, format="json")
    assert r.status_code == 400
    assert "starts" in r.json()


def test_salon_validation(world, client_for):
    client = client_for(world.owner)
    r = client.post(
        "/api/salons/",
        {
            "name": "X",
            "timezone": "Mars/Olympus",
            "address": {"line1": "a", "city": "b", "postal_code": "ABCDE", "country": "DE"},
        },
        format="json",
    )
    assert r.status_code == 400
    body = r.json()
    assert "timezone" in body or "postal_code" in body
    r = client.post(
        "/api/salons/",
        {
            "name": "X",
            "timezone": "Europe/Berlin",
            "address": {"line1": "a", "city": "b", "postal_code": "ABCDE", "country": "DE"},
        },
        format="json",
    )
    assert r.status_code == 400
    assert "postal_code" in r.json()
    r = client.post(
        "/api/salons/",
        {
            "name": "X",
            "timezone": "Europe/Berlin",
            "address": {"line1": "a", "city": "b", "postal_code": "10115", "country": "XX"},
        },
        format="json",
    )
    assert r.status_code == 400
    assert "country" in r.json()


def test_idempotency_key(world, client_for):
    client = client_for(world.customer)
    headers = {"HTTP_IDEMPOTENCY_KEY": "abc-123"}
    first = client.post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": world.service.pk,
            "staff": world.staff.pk,
            "starts_at": world.local(world.bookable_day, 10).isoformat(),
        },
        format="json",
        **headers,
    )
    assert first.status_code == 201
    again = client.post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": world.service.pk,
            "staff": world.staff.pk,
            "starts_at": world.local(world.bookable_day, 10).isoformat(),
        },
        format="json",
        **headers,
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    different = client.post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": world.service.pk,
            "staff": world.staff.pk,
            "starts_at": world.local(world.bookable_day, 11).isoformat(),
        },
        format="json",
        **headers,
    )
    assert different.status_code == 422
    # Another customer may use the same key string.
    other = client_for(world.other_customer).post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": world.service.pk,
            "staff": world.staff.pk,
            "starts_at": world.local(world.bookable_day, 12).isoformat(),
        },
        format="json",
        **headers,
    )
    assert other.status_code == 201


def test_naive_datetime_is_refused(world, client_for):
    naive = world.local(world.bookable_day, 10).replace(tzinfo=None).isoformat()
    r = _book(client_for(world.customer), world, starts_at=naive)
    assert r.status_code == 400
    assert "UTC offset" in r.json()["starts_at"][0]


def test_reschedule_into_taken_slot_is_409_and_keeps_old_time(world, client_for):
    day = world.bookable_day
    mine = _book(client_for(world.customer), world, starts_at=world.local(day, 10).isoformat())
    _book(client_for(world.other_customer), world, starts_at=world.local(day, 12).isoformat())
    pk = mine.json()["id"]
    r = client_for(world.customer).post(
        f"/api/appointments/{pk}/reschedule/",
        {"starts_at": world.local(day, 12, 15).isoformat()},
        format="json",
    )
    assert r.status_code == 409
    got = client_for(world.customer).get(f"/api/appointments/{pk}/").json()
    assert got["starts_at"] == world.local(day, 10).astimezone(UTC).isoformat().replace(
        "+00:00", "Z"
    )


def test_complete_before_start_and_unknown_staff_in_service(world, client_for):
    r = _book(client_for(world.customer), world)
    pk = r.json()["id"]
    r = client_for(world.staff_user).post(f"/api/appointments/{pk}/complete/")
    assert r.status_code == 400
    r = client_for(world.owner).post(
        f"/api/salons/{world.salon.pk}/services/",
        {"name": "X", "duration_minutes": 30, "price": "1.00", "staff_ids": [999999]},
        format="json",
    )
    assert r.status_code == 400
    assert "staff_ids" in r.json()
