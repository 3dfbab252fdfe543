"""Every endpoint by every role: who gets through, who gets 401/403/404."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from appointment.models import Appointment
from django.utils import timezone
from flag.models import Flag
from salon.models import Closure, OpeningHours, TimeOff, WorkingHours

ROLES = ["anonymous", "customer", "other_customer", "staff", "owner", "other_owner", "admin"]


def _user(world, role):
    return {
        "anonymous": None,
        "customer": world.customer,
        "other_customer": world.other_customer,
        "staff": world.staff_user,
        "owner": world.owner,
        "other_owner": world.other_owner,
        "admin": world.admin,
    }[role]


def public(code=200):
    return dict.fromkeys(ROLES, code)


def managers(ok, *, staff_self=False):
    out = {
        "anonymous": 401,
        "customer": 403,
        "other_customer": 403,
        "staff": 403,
        "owner": ok,
        "other_owner": 403,
        "admin": ok,
    }
    if staff_self:
        out["staff"] = ok
    return out


def authenticated(ok):
    return {role: (401 if role == "anonymous" else ok) for role in ROLES}


def platform_admins(ok):
    return {role: 401 if role == "anonymous" else ok if role == "admin" else 403 for role in ROLES}


def appointment_handlers(ok, *, customer=None):
    return {
        "anonymous": 401,
        "customer": customer or ok,
        "other_customer": 404,
        "staff": ok,
        "owner": ok,
        "other_owner": 404,
        "admin": ok,
    }


class Ctx:
    """Objects each request may refer to, made fresh for every case."""

    def __init__(self, world):
        self.w = world
        s = world.salon
        day = world.bookable_day
        self.day = day
        self.hours = OpeningHours.objects.filter(salon=s).first()
        self.closure = Closure.objects.create(
            salon=s, start_date=day + timedelta(days=20), end_date=day + timedelta(days=21)
        )
        self.work = WorkingHours.objects.filter(staff=world.staff).first()
        self.time_off = TimeOff.objects.create(
            staff=world.staff,
            starts_at=world.local(day + timedelta(days=9), 9),
            ends_at=world.local(day + timedelta(days=9), 12),
        )
        common = dict(
            salon=s,
            staff=world.staff,
            service=world.service,
            customer=world.customer,
            price=1,
            currency="EUR",
        )
        start = world.local(day, 10)
        self.appt = Appointment.objects.create(
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            blocked_until=start + timedelta(minutes=40),
            **common,
        )
        self.flag, _ = Flag.objects.get_or_create(name="matrix_flag")
        past = timezone.now() - timedelta(hours=3)
        self.past = Appointment.objects.create(
            starts_at=past,
            ends_at=past + timedelta(minutes=30),
            blocked_until=past + timedelta(minutes=40),
            **common,
        )


S = "/api/salons/{c.w.salon.pk}"
ST = S + "/staff/{c.w.staff.pk}"

# (id, method, url template, body factory, expected by role)
CASES = [
    ("salon-list", "get", "/api/salons/", None, public()),
    (
        "salon-create",
        "post",
        "/api/salons/",
        lambda c: {
            "name": "New",
            "timezone": "Europe/Paris",
            "address": {
                "line1": "1 Rue de Rivoli",
                "city": "Paris",
                "postal_code": "75001",
                "country": "FR",
            },
        },
        managers(201) | {"other_owner": 201},
    ),
    ("salon-detail", "get", S + "/", None, public()),
    ("salon-update", "patch", S + "/", lambda c: {"name": "Renamed"}, managers(200)),
    (
        "availability",
        "get",
        S + "/availability?service={c.w.service.pk}&date={c.day}",
        None,
        public(),
    ),
    ("opening-hours-list", "get", S + "/opening-hours/", None, public()),
    (
        "opening-hours-create",
        "post",
        S + "/opening-hours/",
        lambda c: {"weekday": 0, "opens": "18:00", "closes": "20:00"},
        managers(201),
    ),
    ("opening-hours-delete", "delete", S + "/opening-hours/{c.hours.pk}/", None, managers(204)),
    ("closure-list", "get", S + "/closures/", None, public()),
    (
        "closure-create",
        "post",
        S + "/closures/",
        lambda c: {"start_date": "2030-12-24", "end_date": "2030-12-26"},
        managers(201),
    ),
    ("closure-delete", "delete", S + "/closures/{c.closure.pk}/", None, managers(204)),
    ("staff-list", "get", S + "/staff/", None, public()),
    (
        "staff-add",
        "post",
        S + "/staff/",
        lambda c: {"email": c.w.other_customer.email, "display_name": "New"},
        managers(201),
    ),
    ("staff-detail", "get", ST + "/", None, public()),
    ("staff-update", "patch", ST + "/", lambda c: {"display_name": "Renamed"}, managers(200)),
    ("working-hours-list", "get", ST + "/working-hours/", None, public()),
    (
        "working-hours-create",
        "post",
        ST + "/working-hours/",
        lambda c: {"weekday": 0, "starts": "18:00", "ends": "19:00"},
        managers(201, staff_self=True),
    ),
    (
        "working-hours-delete",
        "delete",
        ST + "/working-hours/{c.work.pk}/",
        None,
        managers(204, staff_self=True),
    ),
    ("time-off-list", "get", ST + "/time-off/", None, managers(200, staff_self=True)),
    (
        "time-off-create",
        "post",
        ST + "/time-off/",
        lambda c: {"starts_at": "2030-01-01T09:00:00Z", "ends_at": "2030-01-01T12:00:00Z"},
        managers(201, staff_self=True),
    ),
    (
        "time-off-delete",
        "delete",
        ST + "/time-off/{c.time_off.pk}/",
        None,
        managers(204, staff_self=True),
    ),
    ("service-list", "get", S + "/services/", None, public()),
    (
        "service-create",
        "post",
        S + "/services/",
        lambda c: {
            "name": "Colour",
            "duration_minutes": 90,
            "price": "80.00",
            "staff_ids": [c.w.staff.pk],
        },
        managers(201),
    ),
    ("service-detail", "get", S + "/services/{c.w.service.pk}/", None, public()),
    (
        "service-update",
        "patch",
        S + "/services/{c.w.service.pk}/",
        lambda c: {"price": "40.00"},
        managers(200),
    ),
    ("appointment-list", "get", "/api/appointments/", None, authenticated(200)),
    (
        "appointment-book",
        "post",
        "/api/appointments/",
        lambda c: {
            "salon": c.w.salon.pk,
            "service": c.w.service.pk,
            "staff": c.w.staff.pk,
            "starts_at": c.w.local(c.day, 13).isoformat(),
        },
        authenticated(201),
    ),
    (
        "appointment-detail",
        "get",
        "/api/appointments/{c.appt.pk}/",
        None,
        appointment_handlers(200),
    ),
    (
        "appointment-cancel",
        "post",
        "/api/appointments/{c.appt.pk}/cancel/",
        None,
        appointment_handlers(200),
    ),
    (
        "appointment-reschedule",
        "post",
        "/api/appointments/{c.appt.pk}/reschedule/",
        lambda c: {"starts_at": c.w.local(c.day, 15).isoformat()},
        appointment_handlers(200),
    ),
    (
        "appointment-complete",
        "post",
        "/api/appointments/{c.past.pk}/complete/",
        None,
        appointment_handlers(200, customer=403),
    ),
    (
        "appointment-no-show",
        "post",
        "/api/appointments/{c.past.pk}/no-show/",
        None,
        appointment_handlers(200, customer=403),
    ),
    ("me", "get", "/api/me/", None, authenticated(200)),
    ("me-update", "patch", "/api/me/", lambda c: {"first_name": "Ada"}, authenticated(200)),
    (
        "phone-start",
        "post",
        "/api/me/phone/",
        lambda c: {"phone": "+14155552671"},
        authenticated(202),
    ),
    (
        "phone-confirm",
        "post",
        "/api/me/phone/confirm/",
        lambda c: {"code": "000000"},
        authenticated(400),
    ),
    ("flags", "get", "/api/flags/?salon={c.w.salon.pk}", None, authenticated(200)),
    ("flag-admin-list", "get", "/api/admin/flags/", None, platform_admins(200)),
    ("flag-admin-detail", "get", "/api/admin/flags/{c.flag.name}/", None, platform_admins(200)),
    (
        "flag-admin-update",
        "patch",
        "/api/admin/flags/{c.flag.name}/",
        lambda c: {"percent": "10.0", "salons": [c.w.salon.pk]},
        platform_admins(200),
    ),
    ("schema", "get", "/api/schema/", None, public()),
    ("docs", "get", "/api/docs/", None, public()),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "method", "url", "body", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_authorization_matrix(world, client_for, role, name, method, url, body, expected):
    ctx = Ctx(world)
    client = client_for(_user(world, role))
    kwargs = {"format": "json"} if body else {}
    args = (body(ctx),) if body else ()
    response = getattr(client, method)(url.format(c=ctx), *args, **kwargs)
    assert response.status_code == expected[role], (name, role, response.content[:300])


def test_matrix_covers_every_api_route():
    """Every (route, HTTP method) the API serves has a row in CASES: a new endpoint fails here
    until it is added to the matrix."""
    import re

    from django.urls import get_resolver, resolve

    covered = set()
    for _name, method, url, *_ in CASES:
        path = re.sub(r"\{[^}]*\}", "1", url).split("?")[0]
        covered.add((resolve(path).url_name, method))

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    served = set()
    for route, pattern in walk(get_resolver().url_patterns):
        view_class = getattr(pattern.callback, "view_class", None)
        if not route.startswith("api/") or view_class is None:
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view_class, method):
                served.add((pattern.name, method))
    assert len(served) >= 35
    assert served - covered == set()


def test_visibility_of_appointment_lists(world, client_for):
    ctx = Ctx(world)

    def ids(user):
        return {a["id"] for a in client_for(user).get("/api/appointments/").json()["results"]}

    both = {ctx.appt.pk, ctx.past.pk}
    assert ids(world.customer) == both
    assert ids(world.other_customer) == set()
    assert ids(world.staff_user) == both
    assert ids(world.owner) == both
    assert ids(world.other_owner) == set()
    assert ids(world.admin) >= both


def test_customer_cannot_cancel_inside_window(world, client_for):
    start = timezone.now() + timedelta(hours=5)
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
    )
    r = client_for(world.customer).post(f"/api/appointments/{appt.pk}/cancel/")
    assert r.status_code == 400
    assert "cancellation window" in str(r.json())
    # The salon can still cancel.
    assert (
        client_for(world.staff_user).post(f"/api/appointments/{appt.pk}/cancel/").status_code == 200
    )
    # Twice is a conflict.
    assert client_for(world.owner).post(f"/api/appointments/{appt.pk}/cancel/").status_code == 409


def test_opening_hours_keep_time(world):
    assert OpeningHours.objects.filter(salon=world.salon, opens=time(9)).count() == 7
