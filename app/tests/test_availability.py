from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
from appointment.availability import compute_slots
from appointment.models import Appointment
from django.db import connection
from django.test.utils import CaptureQueriesContext
from salon.models import Closure, OpeningHours, TimeOff, WorkingHours

from tests.factories import (
    SalonFactory,
    ServiceFactory,
    StaffFactory,
    VerifiedCustomerFactory,
    open_every_day,
    work_every_day,
)

pytestmark = pytest.mark.django_db


def _night_salon(tz: str):
    """Open 00:00-06:00 local every day, so the DST change falls inside opening hours."""
    salon = SalonFactory(timezone=tz, slot_interval_minutes=60, lead_time_minutes=0)
    open_every_day(salon, time(0), time(6))
    staff = StaffFactory(salon=salon)
    work_every_day(staff, time(0), time(6))
    service = ServiceFactory(salon=salon, staff=[staff], duration_minutes=60, buffer_minutes=0)
    return salon, service


def _before(day: date) -> datetime:
    return datetime.combine(day - timedelta(days=2), time(12), tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        # Spring forward: 02:00 local does not exist, the night has 5 hours.
        (
            "Europe/Berlin",
            date(2026, 3, 29),
            ["00:00+01:00", "01:00+01:00", "03:00+02:00", "04:00+02:00", "05:00+02:00"],
        ),
        # Fall back: 02:00-03:00 happens twice, the night has 7 hours.
        (
            "Europe/Berlin",
            date(2026, 10, 25),
            [
                "00:00+02:00",
                "01:00+02:00",
                "02:00+02:00",
                "02:00+01:00",
                "03:00+01:00",
                "04:00+01:00",
                "05:00+01:00",
            ],
        ),
        (
            "America/New_York",
            date(2026, 3, 8),
            ["00:00-05:00", "01:00-05:00", "03:00-04:00", "04:00-04:00", "05:00-04:00"],
        ),
        (
            "America/New_York",
            date(2026, 11, 1),
            [
                "00:00-04:00",
                "01:00-04:00",
                "01:00-05:00",
                "02:00-05:00",
                "03:00-05:00",
                "04:00-05:00",
                "05:00-05:00",
            ],
        ),
    ],
)
def test_slots_across_dst_change(tz, day, expected):
    salon, service = _night_salon(tz)
    slots = compute_slots(salon=salon, service=service, day=day, now=_before(day))
    local = [s.start.astimezone(salon.tz).isoformat()[11:] for s in slots]
    assert local == [e[:5] + ":00" + e[5:] for e in expected]
    # Every slot is one real hour long and they do not overlap.
    for a, b in itertools.pairwise(slots):
        assert a.end - a.start == timedelta(hours=1)
        assert b.start >= a.end


@pytest.mark.parametrize(
    ("tz", "day", "utc_open_before", "utc_open_on"),
    [
        ("Europe/Berlin", date(2026, 3, 29), "08:00", "07:00"),
        ("America/New_York", date(2026, 11, 1), "13:00", "14:00"),
    ],
)
def test_daytime_hours_follow_the_wall_clock_on_dst_day(tz, day, utc_open_before, utc_open_on):
    salon = SalonFactory(timezone=tz, lead_time_minutes=0)
    open_every_day(salon)
    staff = StaffFactory(salon=salon)
    work_every_day(staff)
    service = ServiceFactory(salon=salon, staff=[staff], buffer_minutes=0)
    now = _before(day - timedelta(days=1))
    before = compute_slots(salon=salon, service=service, day=day - timedelta(days=1), now=now)
    on = compute_slots(salon=salon, service=service, day=day, now=now)
    assert before[0].start.astimezone(UTC).strftime("%H:%M") == utc_open_before
    assert on[0].start.astimezone(UTC).strftime("%H:%M") == utc_open_on
    assert before[0].start.astimezone(salon.tz).strftime("%H:%M") == "09:00"
    assert on[0].start.astimezone(salon.tz).strftime("%H:%M") == "09:00"
    assert len(before) == len(on) == (8 * 60 - 30) // 15 + 1


def test_rules_closure_time_off_lead_time_horizon(world):
    salon, service, staff = world.salon, world.service, world.staff
    day = world.bookable_day
    now = datetime.now(UTC)
    full = compute_slots(salon=salon, service=service, day=day, now=now)
    assert len(full) == (8 * 60 - 30) // 15 + 1  # 09:00 .. 16:30

    TimeOff.objects.create(
        staff=staff, starts_at=world.local(day, 12), ends_at=world.local(day, 13)
    )
    starts = {s.start for s in compute_slots(salon=salon, service=service, day=day, now=now)}
    assert world.local(day, 11, 15) in starts  # 11:15-11:55 incl. buffer
    assert world.local(day, 11, 30) not in starts  # would run into the time off
    assert world.local(day, 12, 45) not in starts
    assert world.local(day, 13) in starts

    # Lead time: with now at 10:10 local and 60 minutes lead, the first slot is 11:15.
    later = world.local(day, 10, 10)
    first = compute_slots(salon=salon, service=service, day=day, now=later)[0]
    assert first.start == world.local(day, 11, 15)

    # Horizon and the past.
    assert compute_slots(salon=salon, service=service, day=day + timedelta(days=90), now=now) == []
    assert compute_slots(salon=salon, service=service, day=day - timedelta(days=5), now=now) == []

    Closure.objects.create(salon=salon, start_date=day, end_date=day)
    assert compute_slots(salon=salon, service=service, day=day, now=now) == []


def test_staff_hours_intersect_opening_hours_and_staff_filter(world):
    day = world.bookable_day
    second = StaffFactory(salon=world.salon)
    WorkingHours.objects.create(staff=second, weekday=day.weekday(), starts=time(8), ends=time(10))
    world.service.staff.add(second)
    slots = compute_slots(salon=world.salon, service=world.service, day=day)
    by_start = {s.start: s.staff_ids for s in slots}
    assert set(by_start[world.local(day, 9)]) == {world.staff.pk, second.pk}
    assert by_start[world.local(day, 10)] == (world.staff.pk,)
    assert world.local(day, 8) not in by_start  # salon not open yet

    only_second = compute_slots(
        salon=world.salon, service=world.service, day=day, staff_id=second.pk
    )
    assert [s.start for s in only_second] == [
        world.local(day, 9),
        world.local(day, 9, 15),
        world.local(day, 9, 30),
    ]


def _populate(salon, service, day, n_staff: int, per_staff: int):
    for _ in range(n_staff):
        staff = StaffFactory(salon=salon)
        work_every_day(staff)
        service.staff.add(staff)
        TimeOff.objects.create(
            staff=staff,
            starts_at=datetime.combine(day, time(16), tzinfo=salon.tz),
            ends_at=datetime.combine(day, time(17), tzinfo=salon.tz),
        )
        for i in range(per_staff):
            start = datetime.combine(day, time(9), tzinfo=salon.tz) + timedelta(minutes=45 * i)
            Appointment.objects.create(
                salon=salon,
                staff=staff,
                service=service,
                customer=VerifiedCustomerFactory(),
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                blocked_until=start + timedelta(minutes=40),
                price=1,
                currency="EUR",
            )


def test_availability_query_count_is_bounded(api_client, django_assert_max_num_queries):
    salon = SalonFactory(lead_time_minutes=0)
    open_every_day(salon)
    service = ServiceFactory(salon=salon)
    day = (datetime.now(salon.tz) + timedelta(days=2)).date()
    url = f"/api/salons/{salon.pk}/availability"
    params = {"service": service.pk, "date": day.isoformat()}

    _populate(salon, service, day, n_staff=1, per_staff=1)
    with CaptureQueriesContext(connection) as small:
        assert api_client.get(url, params).status_code == 200

    _populate(salon, service, day, n_staff=25, per_staff=8)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = api_client.get(url, params)
    assert response.status_code == 200
    assert len(small.captured_queries) <= 8
    # Still correct with 26 staff: the 16:00-17:00 time off leaves nobody after 15:20.
    assert all(s["start"] < f"{day.isoformat()}T15:21" for s in response.json())
    assert response.json()


def test_availability_api_validates_input(world, api_client):
    url = f"/api/salons/{world.salon.pk}/availability"
    r = api_client.get(url, {"service": "x", "date": "tomorrow"})
    assert r.status_code == 400
    assert set(r.json()) == {"service", "date"}
    r = api_client.get(url, {"service": 999999, "date": "2026-01-01"})
    assert r.status_code == 400
    assert "service" in r.json()
    assert (
        api_client.get(
            "/api/salons/999999/availability", {"service": 1, "date": "2026-01-01"}
        ).status_code
        == 404
    )


def test_overlapping_opening_hours_rejected_by_database():
    from django.db import IntegrityError, transaction

    salon = SalonFactory()
    OpeningHours.objects.create(salon=salon, weekday=0, opens=time(9), closes=time(12))
    OpeningHours.objects.create(salon=salon, weekday=0, opens=time(12), closes=time(18))
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningHours.objects.create(salon=salon, weekday=0, opens=time(11), closes=time(13))
