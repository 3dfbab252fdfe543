"""The availability cache (appointment/availability_cache.py) against the real Redis.

Every test gets its own key prefix on ``REDIS_URL`` (its keys are deleted afterwards), so no
state leaks between tests or into other users of that Redis database. Writes run inside
``django_capture_on_commit_callbacks(execute=True)``: the test's transaction never commits,
and the cache is invalidated on commit only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
import redis
from appointment import services as appointment_services
from appointment.availability_cache import AvailabilityCacheLookup, version_key
from appointment.models import Appointment
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import timezone
from salon import services as salon_services
from salon.models import OpeningHours, WorkingHours

from tests.conftest import World
from tests.factories import SalonFactory, ServiceFactory, StaffFactory, open_every_day
from tests.factories import work_every_day as work_days

pytestmark = pytest.mark.django_db

HEADER = "X-Availability-Cache"


def _redis_cache(location: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }


@pytest.fixture
def redis_cache(settings):
    """Django's cache on the real Redis, under a key prefix of this test's own."""
    prefix = f"test-availability-{uuid.uuid4().hex[:12]}"
    settings.CACHES = _redis_cache(settings.REDIS_URL, prefix)
    settings.AVAILABILITY_CACHE_ENABLED = True
    settings.AVAILABILITY_CACHE_SECONDS = 300
    yield prefix
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a write as if its transaction committed (on_commit callbacks executed)."""

    def run(write: Callable[[], object]) -> object:
        with django_capture_on_commit_callbacks(execute=True):
            return write()

    return run


def url(world: World, day, staff: int | None = None, service: int | None = None) -> str:
    query = f"service={service or world.service.pk}&date={day.isoformat()}"
    if staff is not None:
        query += f"&staff={staff}"
    return f"/api/salons/{world.salon.pk}/availability?{query}"


def fresh(api_client, settings, path: str):
    """The answer computed without the cache: what a cached answer must equal."""
    settings.AVAILABILITY_CACHE_ENABLED = False
    try:
        response = api_client.get(path)
        assert response.status_code != 200 or response[HEADER] == "off"
        return response.status_code, response.json()
    finally:
        settings.AVAILABILITY_CACHE_ENABLED = True


def warm(api_client, path: str) -> list[dict]:
    first = api_client.get(path)
    assert first.status_code == 200, first.content
    assert first[HEADER] == "miss"
    second = api_client.get(path)
    assert second[HEADER] == "hit"
    assert second.json() == first.json()
    return first.json()


def starts(body: list[dict]) -> list[str]:
    return [slot["start"] for slot in body]


# --- Hits --------------------------------------------------------------------------------------


def test_hit_serves_the_miss_body_with_no_query(
    world, api_client, redis_cache, settings, django_assert_num_queries
):
    path = url(world, world.bookable_day)
    miss = api_client.get(path)
    assert miss.status_code == 200
    assert miss[HEADER] == "miss"
    assert len(miss.json()) > 10
    with django_assert_num_queries(0):
        hit = api_client.get(path)
    assert hit.status_code == 200
    assert hit[HEADER] == "hit"
    assert hit.content == miss.content
    assert fresh(api_client, settings, path) == (200, miss.json())


def test_only_successful_answers_are_cached(world, api_client, redis_cache):
    inactive = ServiceFactory(salon=world.salon, staff=[world.staff], is_active=False)
    path = url(world, world.bookable_day, service=inactive.pk)
    for _ in range(2):
        response = api_client.get(path)
        assert response.status_code == 400
    missing = api_client.get("/api/salons/999999999/availability?service=1&date=2030-01-01")
    assert missing.status_code == 404
    bad = api_client.get(f"/api/salons/{world.salon.pk}/availability?service=x&date=y")
    assert bad.status_code == 400


def test_staff_filter_is_keyed_separately(world, api_client, redis_cache, settings):
    other = StaffFactory(salon=world.salon)
    work_days(other, time(13), time(17))
    world.service.staff.add(other)
    day = world.bookable_day
    any_staff = warm(api_client, url(world, day))
    only_other = api_client.get(url(world, day, staff=other.pk))
    assert only_other[HEADER] == "miss"
    assert only_other.json() != any_staff
    assert all(slot["staff_ids"] == [other.pk] for slot in only_other.json())
    assert only_other.json() == fresh(api_client, settings, url(world, day, staff=other.pk))[1]
    assert api_client.get(url(world, day, staff=other.pk))[HEADER] == "hit"
    assert api_client.get(url(world, day))[HEADER] == "hit"


# --- Invalidation ------------------------------------------------------------------------------


def _book(world: World, start: datetime) -> Appointment:
    appointment, created = appointment_services.appointment_book(
        customer=world.customer,
        salon=world.salon,
        service_id=world.service.pk,
        staff_id=world.staff.pk,
        starts_at=start,
    )
    assert created
    return appointment


def test_booking_and_cancel_invalidate_at_once(
    world, api_client, client_for, redis_cache, committed
):
    day = world.bookable_day
    path = url(world, day)
    ten = world.local(day, 10).isoformat()
    assert ten in starts(warm(api_client, path))

    customer = client_for(world.customer)
    booked = committed(
        lambda: customer.post(
            "/api/appointments/",
            {
                "salon": world.salon.pk,
                "service": world.service.pk,
                "staff": world.staff.pk,
                "starts_at": ten,
            },
            format="json",
        )
    )
    assert booked.status_code == 201, booked.content
    after_booking = api_client.get(path)
    assert after_booking[HEADER] == "miss"
    assert ten not in starts(after_booking.json())

    cancelled = committed(
        lambda: customer.post(f"/api/appointments/{booked.json()['id']}/cancel/", format="json")
    )
    assert cancelled.status_code == 200, cancelled.content
    after_cancel = api_client.get(path)
    assert after_cancel[HEADER] == "miss"
    assert ten in starts(after_cancel.json())


def test_a_write_that_rolls_back_changes_nothing(world, api_client, redis_cache, settings):
    """No commit, no bump: the entry stays (and it is still right, the write never happened)."""
    path = url(world, world.bookable_day)
    warm(api_client, path)
    _book(world, world.local(world.bookable_day, 10))  # never committed: no callback runs
    assert api_client.get(path)[HEADER] == "hit"


def test_reschedule_complete_and_no_show_invalidate(world, api_client, redis_cache, committed):
    day = world.bookable_day
    path = url(world, day)
    ten, two = world.local(day, 10), world.local(day, 14)
    appointment = committed(lambda: _book(world, ten))
    assert ten.isoformat() not in starts(warm(api_client, path))

    committed(
        lambda: appointment_services.appointment_reschedule(
            user=world.customer, appointment=appointment, starts_at=two
        )
    )
    moved = api_client.get(path)
    assert moved[HEADER] == "miss"
    assert ten.isoformat() in starts(moved.json())
    assert two.isoformat() not in starts(moved.json())

    for hour, close in (
        (11, appointment_services.appointment_complete),
        (12, appointment_services.appointment_mark_no_show),
    ):
        other = committed(lambda hour=hour: _book(world, world.local(day, hour)))
        warm(api_client, path)
        committed(
            lambda close=close, other=other: close(
                user=world.owner, appointment=other, now=two + timedelta(hours=1)
            )
        )
        closed = api_client.get(path)
        assert closed[HEADER] == "miss"
        # Completed and no-show appointments still hold their time (ACTIVE_STATUSES).
        assert world.local(day, hour).isoformat() not in starts(closed.json())


def _weekday_hours(world: World, day) -> OpeningHours:
    return OpeningHours.objects.get(salon=world.salon, weekday=day.weekday())


def _staff_hours(world: World, day) -> WorkingHours:
    return WorkingHours.objects.get(staff=world.staff, weekday=day.weekday())


def _admin_style_edit(world: World, day) -> None:
    hours = _weekday_hours(world, day)  # a plain save, as the admin does
    hours.closes = time(12)
    hours.save()


WRITES: dict[str, Callable[[World, object], object]] = {
    "salon update (lead time, interval)": lambda w, d: salon_services.salon_update(
        user=w.owner, salon=w.salon, slot_interval_minutes=30
    ),
    "opening hours deleted": lambda w, d: salon_services.opening_hours_delete(
        user=w.owner, hours=_weekday_hours(w, d)
    ),
    "opening hours edited in the admin": _admin_style_edit,
    "closure": lambda w, d: salon_services.closure_create(
        user=w.owner, salon=w.salon, start_date=d, end_date=d
    ),
    "staff deactivated": lambda w, d: salon_services.staff_update(
        user=w.owner, staff=w.staff, is_active=False
    ),
    "staff added": lambda w, d: salon_services.staff_add(
        user=w.owner, salon=w.salon, email=w.other_customer.email, display_name="New"
    ),
    "working hours deleted": lambda w, d: salon_services.working_hours_delete(
        user=w.owner, hours=_staff_hours(w, d)
    ),
    "working hours added": lambda w, d: (
        salon_services.working_hours_delete(user=w.owner, hours=_staff_hours(w, d)),
        salon_services.working_hours_create(
            user=w.owner, staff=w.staff, weekday=d.weekday(), starts=time(9), ends=time(11)
        ),
    ),
    "time off": lambda w, d: salon_services.time_off_create(
        user=w.owner, staff=w.staff, starts_at=w.local(d, 9), ends_at=w.local(d, 13)
    ),
    "time off deleted": lambda w, d: salon_services.time_off_delete(
        user=w.owner, time_off=w.staff.time_off.get()
    ),
    "service updated": lambda w, d: salon_services.service_update(
        user=w.owner, service=w.service, duration_minutes=60
    ),
    "service deactivated": lambda w, d: salon_services.service_update(
        user=w.owner, service=w.service, is_active=False
    ),
    "service staff set": lambda w, d: salon_services.service_update(
        user=w.owner, service=w.service, staff_ids=[]
    ),
    "service staff removed from the staff side": lambda w, d: w.staff.services.remove(w.service),
    "service created": lambda w, d: salon_services.service_create(
        user=w.owner, salon=w.salon, name="Shave", duration_minutes=15, price=10
    ),
}


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_every_schedule_write_invalidates(
    write, world, api_client, redis_cache, settings, committed
):
    day = world.bookable_day
    path = url(world, day)
    if write == "time off deleted":  # needs a time off to delete, cached with it
        committed(lambda: WRITES["time off"](world, day))
    before = warm(api_client, path)

    committed(lambda: WRITES[write](world, day))
    after = api_client.get(path)
    assert after.status_code == 400 or after[HEADER] == "miss"  # 400: the service is inactive
    assert (after.status_code, after.json()) == fresh(api_client, settings, path)
    if write not in ("staff added", "service created"):  # those change no slot of this service
        assert after.json() != before
    if after.status_code == 200:
        assert api_client.get(path)[HEADER] == "hit"


def test_a_write_leaves_other_salons_cached(world, api_client, redis_cache, committed):
    other_salon = SalonFactory()
    open_every_day(other_salon)
    staff = StaffFactory(salon=other_salon)
    work_days(staff)
    service = ServiceFactory(salon=other_salon, staff=[staff])
    other_path = (
        f"/api/salons/{other_salon.pk}/availability?service={service.pk}"
        f"&date={world.bookable_day.isoformat()}"
    )
    warm(api_client, other_path)
    warm(api_client, url(world, world.bookable_day))
    committed(lambda: _book(world, world.local(world.bookable_day, 10)))
    assert api_client.get(url(world, world.bookable_day))[HEADER] == "miss"
    assert api_client.get(other_path)[HEADER] == "hit"


def test_an_evicted_version_never_revives_older_entries(world, api_client, redis_cache, committed):
    """Redis lost the salon's version (eviction, restart): entries stored under an older version
    must not be served again - a missing version restarts at the current time, not at 0 or 1."""
    day = world.bookable_day
    path = url(world, day)
    warm(api_client, path)
    committed(lambda: _book(world, world.local(day, 10)))
    cache.delete(version_key(world.salon.pk))
    response = api_client.get(path)
    assert response[HEADER] == "miss"
    assert world.local(day, 10).isoformat() not in starts(response.json())


# --- Time --------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() under the test's control."""
    state = {"now": None}

    def now() -> datetime:
        return state["now"]

    monkeypatch.setattr(timezone, "now", now)

    def set_to(value: datetime) -> None:
        state["now"] = value.astimezone(UTC)

    return set_to


def test_a_hit_drops_slots_that_became_too_close(world, api_client, redis_cache, settings, clock):
    """Lead time 60 min: cached at 08:00 with slots from 09:00; at 11:20 the hit must start at
    12:30, exactly as a fresh computation would."""
    day = world.bookable_day
    path = url(world, day)
    clock(world.local(day, 8))
    morning = warm(api_client, path)
    assert morning[0]["start"] == world.local(day, 9).isoformat()

    clock(world.local(day, 11, 20))
    later = api_client.get(path)
    assert later[HEADER] == "hit"
    assert later.json()[0]["start"] == world.local(day, 12, 30).isoformat()
    assert later.json() == fresh(api_client, settings, path)[1]

    clock(world.local(day, 17))
    assert api_client.get(path).json() == []


def test_a_new_local_day_recomputes(world, api_client, redis_cache, settings, clock):
    """The booking horizon and "no past days" move at the salon's midnight: an entry of the
    previous local day is not used."""
    world.salon.booking_horizon_days = 1
    world.salon.save()
    day = world.bookable_day
    clock(world.local(day, 12))
    beyond = url(world, day + timedelta(days=2))
    assert api_client.get(beyond).json() == []
    assert api_client.get(beyond)[HEADER] == "hit"
    today = url(world, day)
    warm(api_client, today)

    clock(world.local(day + timedelta(days=1), 12))  # the next local day
    inside = api_client.get(beyond)
    assert inside[HEADER] == "miss"
    assert len(inside.json()) > 10
    assert inside.json() == fresh(api_client, settings, beyond)[1]
    past = api_client.get(today)
    assert past[HEADER] == "miss"
    assert past.json() == []


# --- Failure and switch ------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    settings.CACHES = _redis_cache("redis://127.0.0.1:1/0", "unreachable")  # nothing listens
    settings.AVAILABILITY_CACHE_ENABLED = True


def test_redis_down_still_answers(world, api_client, redis_down, settings, caplog):
    path = url(world, world.bookable_day)
    expected = fresh(api_client, settings, path)
    caplog.set_level(logging.WARNING, logger="appointment.availability_cache")
    for _ in range(2):
        caplog.clear()
        response = api_client.get(path)
        assert response.status_code == 200
        assert response[HEADER] == "error"
        assert (200, response.json()) == expected
        warnings = [r for r in caplog.records if r.name == "appointment.availability_cache"]
        assert len(warnings) == 1  # once per request, however many cache calls it skipped


def test_writes_succeed_with_redis_down(world, client_for, redis_down, committed, caplog):
    caplog.set_level(logging.ERROR, logger="appointment.availability_cache")
    customer = client_for(world.customer)
    response = committed(
        lambda: customer.post(
            "/api/appointments/",
            {
                "salon": world.salon.pk,
                "service": world.service.pk,
                "staff": world.staff.pk,
                "starts_at": world.local(world.bookable_day, 10).isoformat(),
            },
            format="json",
        )
    )
    assert response.status_code == 201, response.content
    assert any("could not invalidate" in r.getMessage() for r in caplog.records)


def test_a_broken_entry_is_recomputed(world, api_client, redis_cache, settings):
    path = url(world, world.bookable_day)
    body = warm(api_client, path)
    lookup = AvailabilityCacheLookup(
        salon_id=world.salon.pk, service_id=world.service.pk, day=world.bookable_day, staff_id=None
    )
    lookup.get(timezone.now())
    cache.set(lookup._key(), {"not": "an entry"})
    response = api_client.get(path)
    assert response[HEADER] == "miss"
    assert response.json() == body


def test_switched_off_never_caches(world, api_client, redis_cache, settings, redis_cache_keys):
    settings.AVAILABILITY_CACHE_ENABLED = False
    path = url(world, world.bookable_day)
    first = api_client.get(path)
    second = api_client.get(path)
    assert first[HEADER] == second[HEADER] == "off"
    assert first.json() == second.json()
    assert redis_cache_keys() == []


@pytest.fixture
def redis_cache_keys(redis_cache):
    def keys() -> list[bytes]:
        client = redis.Redis.from_url(django_settings.REDIS_URL)
        try:
            return list(client.scan_iter(f"{redis_cache}:*"))
        finally:
            client.close()

    return keys


def test_entries_carry_the_ttl(world, api_client, redis_cache, settings, redis_cache_keys):
    settings.AVAILABILITY_CACHE_SECONDS = 120
    warm(api_client, url(world, world.bookable_day))
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        ttls = {key.decode().split(":", 2)[2]: client.ttl(key) for key in redis_cache_keys()}
    finally:
        client.close()
    version = ttls.pop(version_key(world.salon.pk))
    assert version == -1  # the version never expires
    assert len(ttls) == 1
    assert 0 < next(iter(ttls.values())) <= 120
