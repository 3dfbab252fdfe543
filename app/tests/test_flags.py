"""Feature flags (flag/): evaluation, the cache on the real Redis and its invalidation, the API
and the admin. The feature behind ``staff_booking_sms`` is in tests/test_staff_booking_sms.py."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from flag import services
from flag.models import Flag
from flag.selectors import flag_is_active, flag_states
from salon.models import Salon
from user.models import User

from tests.factories import SalonFactory, UserFactory

pytestmark = pytest.mark.django_db

NAME = "test_feature"


def make_flag(name: str = NAME, **fields) -> Flag:
    flag, _ = Flag.objects.update_or_create(
        name=name,
        defaults={"everyone": None, "percent": None, "superusers": False, **fields},
    )
    return flag


@pytest.fixture
def redis_cache(settings):
    """Django's cache (and so waffle's) on the real Redis, under a key prefix of this test's
    own; its keys are deleted afterwards."""
    prefix = f"test-flags-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        yield lambda: sorted(key.decode() for key in client.scan_iter(f"{prefix}:*"))
    finally:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a write as if its transaction committed (on_commit callbacks executed): the test's
    own transaction never commits, and flags are flushed on commit only."""

    def run(write):
        with django_capture_on_commit_callbacks(execute=True):
            return write()

    return run


# --- Evaluation --------------------------------------------------------------------------------


def test_a_flag_that_does_not_exist_is_off(world):
    assert flag_is_active("no_such_flag", user=world.customer, salon=world.salon) is False


def test_everyone_overrides_named_users_and_salons(world):
    flag = make_flag()
    flag.users.add(world.customer)
    flag.salons.add(world.salon)
    other_salon = SalonFactory()

    def state(**kwargs) -> bool:
        return Flag.objects.get(pk=flag.pk).is_active_for(**kwargs)

    assert state(user=world.customer) is True
    assert state(salon=world.salon) is True
    assert state(user=world.other_customer) is False
    assert state(user=world.other_customer, salon=other_salon) is False
    assert state(user=AnonymousUser()) is False

    flag.everyone = True
    flag.save()
    assert state(user=world.other_customer) is True
    assert state(user=AnonymousUser()) is True
    assert state() is True

    flag.everyone = False
    flag.save()
    assert state(user=world.customer) is False
    assert state(salon=world.salon) is False
    assert state(user=world.admin) is False


def test_named_salon_is_on_for_everyone_evaluated_with_it(world):
    make_flag().salons.add(world.salon)
    other_salon = SalonFactory()
    for user in (world.customer, world.staff_user, AnonymousUser(), None):
        assert flag_is_active(NAME, user=user, salon=world.salon) is True
        assert flag_is_active(NAME, user=user, salon=other_salon) is False


def test_waffle_user_rules_still_apply(world):
    make_flag(superusers=True)
    assert flag_is_active(NAME, user=world.admin) is True  # a superuser
    assert flag_is_active(NAME, user=world.customer) is False


def _users(n: int) -> list[User]:
    # Unsaved users with ids: the percentage needs nothing else, so no query per user.
    return [User(pk=pk, email=f"u{pk}@example.com") for pk in range(1, n + 1)]


def test_percentage_of_users_is_stable_proportional_and_grows_monotonically(db):
    users = _users(4000)
    flag = make_flag(percent=Decimal("25.0"))

    def on(f: Flag) -> set[int]:
        return {u.pk for u in users if f.is_active_for(user=u)}

    at_25 = on(flag)
    assert 900 <= len(at_25) <= 1100  # 25 % of 4000, the hash spreads them evenly
    assert on(Flag.objects.get(pk=flag.pk)) == at_25  # the same users every time (no dice)

    flag.percent = Decimal("50.0")
    at_50 = on(flag)
    assert 1850 <= len(at_50) <= 2150
    assert at_25 < at_50  # raising the percentage keeps everyone who was in

    flag.percent = Decimal("0")
    assert on(flag) == set()
    flag.percent = None
    assert on(flag) == set()

    # Another flag at the same percentage picks other users.
    other = make_flag("other_feature", percent=Decimal("25.0"))
    at_25_other = on(other)
    assert 900 <= len(at_25_other) <= 1100
    assert len(at_25 & at_25_other) < 400  # about 25 % of 25 %, not all of them


def test_percentage_with_a_salon_goes_by_salon(db):
    flag = make_flag(percent=Decimal("30.0"))
    salons = [Salon(pk=pk) for pk in range(1, 2001)]
    users = _users(50)
    salons_on = {s.pk for s in salons if flag.is_active_for(salon=s)}
    assert 500 <= len(salons_on) <= 700
    # Every user evaluated with a salon gets the salon's answer.
    for salon in salons[:40]:
        assert {flag.is_active_for(user=u, salon=salon) for u in users} == {salon.pk in salons_on}


def test_percentage_is_off_for_anonymous_users_without_a_salon(db):
    flag = make_flag(percent=Decimal("99.9"))
    assert flag.is_active_for(user=AnonymousUser()) is False
    assert flag.is_active_for() is False
    assert flag.is_active_for(user=_users(1)[0]) in (True, False)


def test_waffle_request_api_answers_like_the_selector(world, rf):
    import waffle

    make_flag().users.add(world.customer)
    request = rf.get("/")
    request.user = world.customer
    assert waffle.flag_is_active(request, NAME) is True
    request.user = world.other_customer
    assert waffle.flag_is_active(request, NAME) is False
    assert waffle.flag_is_active(request, "no_such_flag") is False


# --- The cache (real Redis) and its invalidation ------------------------------------------------


def test_lookups_are_cached_in_redis(world, redis_cache, django_assert_num_queries):
    make_flag().salons.add(world.salon)
    assert flag_is_active(NAME, user=world.customer, salon=world.salon) is True
    assert flag_states(user=world.customer, salon=world.salon)[NAME] is True  # every flag
    assert redis_cache(), "nothing was cached in Redis"
    with django_assert_num_queries(0):
        assert flag_is_active(NAME, user=world.customer, salon=world.salon) is True
        assert flag_states(user=world.customer, salon=world.salon)[NAME] is True


def test_saving_a_flag_is_visible_at_once(world, redis_cache, committed):
    flag = make_flag()
    assert flag_is_active(NAME, user=world.customer) is False  # cached: off

    committed(lambda: services.flag_update(user=world.admin, flag=flag, everyone=True))
    assert flag_is_active(NAME, user=world.customer) is True
    assert flag_states(user=world.customer)[NAME] is True

    committed(lambda: services.flag_update(user=world.admin, flag=flag, everyone=None))
    assert flag_is_active(NAME, user=world.customer) is False

    committed(lambda: services.flag_update(user=world.admin, flag=flag, percent=Decimal("99.9")))
    in_bucket = flag.bucket(f"user:{world.customer.pk}") < Decimal("99.9")
    assert flag_states(user=world.customer)[NAME] is in_bucket


def test_changing_named_salons_and_users_is_visible_at_once(world, redis_cache, committed):
    flag = make_flag()

    def on_for_salon() -> bool:
        return flag_is_active(NAME, salon=world.salon)

    def on_for_customer() -> bool:
        return flag_is_active(NAME, user=world.customer)

    assert on_for_salon() is False
    committed(lambda: flag.salons.add(world.salon))
    assert on_for_salon() is True
    committed(lambda: flag.salons.clear())  # waffle's own signal misses clear()
    assert on_for_salon() is False
    committed(lambda: world.salon.feature_flags.add(flag))  # from the other side
    assert on_for_salon() is True
    committed(lambda: world.salon.feature_flags.clear())
    assert on_for_salon() is False

    assert on_for_customer() is False
    committed(lambda: flag.users.add(world.customer))
    assert on_for_customer() is True
    committed(lambda: flag.users.clear())
    assert on_for_customer() is False


def test_a_new_flag_replaces_the_cached_absence(world, redis_cache, committed):
    assert flag_is_active(NAME, user=world.customer) is False  # "missing" is cached too
    committed(lambda: make_flag(everyone=True))
    assert flag_is_active(NAME, user=world.customer) is True
    assert NAME in flag_states(user=world.customer)


def test_api_change_is_visible_on_the_next_request(world, client_for, redis_cache, committed):
    make_flag()
    customer = client_for(world.customer)
    admin = client_for(world.admin)
    assert customer.get("/api/flags/").json()[NAME] is False

    response = committed(
        lambda: admin.patch(f"/api/admin/flags/{NAME}/", {"everyone": True}, format="json")
    )
    assert response.status_code == 200, response.content
    assert customer.get("/api/flags/").json()[NAME] is True

    committed(
        lambda: admin.patch(
            f"/api/admin/flags/{NAME}/",
            {"everyone": None, "salons": [world.salon.pk]},
            format="json",
        )
    )
    assert customer.get("/api/flags/").json()[NAME] is False
    assert customer.get(f"/api/flags/?salon={world.salon.pk}").json()[NAME] is True


def test_redis_down_reads_flags_as_off(world, settings, caplog):
    make_flag(everyone=True)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    caplog.set_level(logging.WARNING, logger="flag.selectors")
    assert flag_is_active(NAME, user=world.customer) is False
    assert flag_states(user=world.customer)[NAME] is False
    assert any("cache unavailable" in r.getMessage() for r in caplog.records)


# --- API ---------------------------------------------------------------------------------------


def test_flag_states_for_the_logged_in_user(world, client_for):
    make_flag().users.add(world.customer)
    make_flag("salon_feature").salons.add(world.salon)

    mine = client_for(world.customer).get("/api/flags/")
    assert mine.status_code == 200
    assert mine.json()[NAME] is True
    assert mine.json()["salon_feature"] is False

    theirs = client_for(world.other_customer).get(f"/api/flags/?salon={world.salon.pk}")
    assert theirs.json()[NAME] is False
    assert theirs.json()["salon_feature"] is True

    assert client_for(None).get("/api/flags/").status_code == 401


@pytest.mark.parametrize("salon", ["0", "abc", "999999999", "99999999999999999999999"])
def test_flag_states_reject_unknown_salons(world, client_for, salon):
    response = client_for(world.customer).get(f"/api/flags/?salon={salon}")
    assert response.status_code == 400
    assert "salon" in response.json()


def test_management_is_for_platform_admins_only(world, client_for):
    make_flag()
    detail = f"/api/admin/flags/{NAME}/"
    for user, code in [
        (None, 401),
        (world.customer, 403),
        (world.owner, 403),
        (world.staff_user, 403),  # Django is_staff (the admin for their salon), not an operator
    ]:
        client = client_for(user)
        assert client.get("/api/admin/flags/").status_code == code
        assert client.get(detail).status_code == code
        assert client.patch(detail, {"everyone": True}, format="json").status_code == code
    assert Flag.objects.get(name=NAME).everyone is None

    admin = client_for(world.admin)
    listed = admin.get("/api/admin/flags/")
    assert listed.status_code == 200
    assert NAME in [f["name"] for f in listed.json()]
    assert admin.get("/api/admin/flags/no_such_flag/").status_code == 404


def test_service_refuses_non_admins(world):
    from booking_api.exceptions import NotAllowedError

    with pytest.raises(NotAllowedError):
        services.flag_update(user=world.owner, flag=make_flag(), everyone=True)


def test_admin_toggles_percent_and_names_through_the_api(world, client_for):
    make_flag()
    admin = client_for(world.admin)
    url = f"/api/admin/flags/{NAME}/"

    response = admin.patch(
        url,
        {"percent": "12.5", "users": [world.customer.pk], "salons": [world.salon.pk]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["percent"], body["users"], body["salons"]) == (
        "12.5",
        [world.customer.pk],
        [world.salon.pk],
    )
    assert body["everyone"] is None

    body = admin.patch(url, {"everyone": False, "salons": []}, format="json").json()
    assert (body["everyone"], body["salons"], body["users"]) == (False, [], [world.customer.pk])

    # Who changed what: the flag's history in the admin.
    entry = LogEntry.objects.filter(object_id=str(Flag.objects.get(name=NAME).pk)).first()
    assert entry is not None
    assert entry.user_id == world.admin.pk
    assert "everyone" in entry.get_change_message().lower()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"percent": "100"}, "percent"),
        ({"percent": "-1"}, "percent"),
        ({"percent": "12.55"}, "percent"),
        ({"everyone": "maybe"}, "everyone"),
        ({"users": [987654321]}, "users"),
        ({"salons": [987654321]}, "salons"),
    ],
)
def test_invalid_changes_are_400(world, client_for, body, field):
    make_flag()
    response = client_for(world.admin).patch(f"/api/admin/flags/{NAME}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Flag.objects.get(name=NAME).percent is None


def test_percent_cannot_be_negative_in_the_database(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(name="negative", percent=Decimal("-5"))


# --- Admin -------------------------------------------------------------------------------------


def test_flags_admin_is_for_platform_admins(world, client):
    flag = make_flag()
    flag.salons.add(world.salon)
    client.force_login(world.admin)
    assert client.get("/admin/flag/flag/").status_code == 200
    page = client.get(f"/admin/flag/flag/{flag.pk}/change/")
    assert page.status_code == 200
    assert world.salon.name in page.content.decode()  # the salons' names next to their ids

    owner = UserFactory(is_staff=True)
    client.force_login(owner)
    assert client.get("/admin/flag/flag/").status_code == 403
    client.force_login(world.staff_user)
    assert client.get(f"/admin/flag/flag/{flag.pk}/change/").status_code == 403
