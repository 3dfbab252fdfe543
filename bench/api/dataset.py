"""The API benchmark's data set, in its own database (never the app's or the test database).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/booking_bench \\
        .venv-app/bin/python bench/api/dataset.py status|seed|reset|plan ...

- ``status``: prints JSON ``{"ok": bool, ...}``: the data set is there at the right size and
  was seeded within the last ``FRESH_DAYS`` (appointments are placed relative to the seed date).
- ``seed``: fills an empty, migrated database: SALONS salons (mixed time zones, Mon-Sat hours),
  STAFF_PER_SALON staff each, SERVICES_PER_SALON services, CUSTOMERS customers with verified
  phones, APPOINTMENTS appointments from PAST_DAYS ago to FUTURE_DAYS ahead, on the salons'
  slot grids, inside working hours, never overlapping (the exclusion constraint holds).
  Deterministic for a given ``--seed`` and date. Rows by ``bulk_create``, appointments by COPY.
- ``reset``: deletes the bookings the load runs made (notes = ``bench-load``) and their SMS rows,
  so every run starts from the same data set.
- ``plan``: writes the requests the load runs send (JSON): availability URLs, booking bodies
  (free slots computed with the app's own ``compute_slots``, plus slots already taken, which
  must answer 409) and the customer pool whose tokens the driver fetches.

Standalone on purpose (not a management command): it is bench-only and stays out of the image.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

APP_DIR = Path(__file__).resolve().parents[2] / "app"
sys.path.insert(0, str(APP_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_api.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")

import django  # noqa: E402

django.setup()

from address.models import Address  # noqa: E402
from appointment.availability import compute_slots  # noqa: E402
from appointment.models import (  # noqa: E402
    EXCLUSION_CONSTRAINT_NAME,
    Appointment,
    AppointmentStatus,
)
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from salon.models import OpeningHours, Salon, Service, StaffMember, WorkingHours  # noqa: E402
from user.models import Role, User  # noqa: E402

SALONS = 200
STAFF_PER_SALON = 10
SERVICES_PER_SALON = 5
SERVICES_PER_STAFF = 3
CUSTOMERS = 20_000
APPOINTMENTS = 200_000
PAST_DAYS = 21
FUTURE_DAYS = 14
FRESH_DAYS = 3
PASSWORD = "bench-password-123"
LOAD_NOTE = "bench-load"
EMAIL_DOMAIN = "bench.invalid"

TIMEZONES = ("Europe/Berlin", "Europe/London", "Europe/Paris", "America/New_York", "Europe/Vienna")
CITIES = ("Berlin", "London", "Paris", "New York", "Vienna")
COUNTRIES = ("DE", "GB", "FR", "US", "AT")
OPENS, CLOSES = time(9), time(19)
SHIFTS = ((time(9), time(17)), (time(11), time(19)))
# name, minutes, buffer, price
SERVICES = (
    ("Haircut", 30, 10, "35.00"),
    ("Beard trim", 15, 0, "15.00"),
    ("Colour", 90, 15, "80.00"),
    ("Blow dry", 45, 5, "30.00"),
    ("Highlights", 120, 15, "120.00"),
)


def customer_email(i: int) -> str:
    return f"bench-c{i:05d}@{EMAIL_DOMAIN}"


def _guard() -> None:
    name = connection.settings_dict["NAME"]
    if not str(name).startswith("booking_bench"):
        sys.exit(f"dataset: refusing database {name!r}: the benchmark uses booking_bench*")


def _counts() -> dict[str, int]:
    return {
        "salons": Salon.objects.count(),
        "staff": StaffMember.objects.count(),
        "customers": User.objects.filter(role=Role.CUSTOMER).count(),
        "appointments": Appointment.objects.exclude(notes=LOAD_NOTE).count(),
    }


def status() -> dict[str, object]:
    counts = _counts()
    want = {
        "salons": SALONS,
        "staff": SALONS * STAFF_PER_SALON,
        "customers": CUSTOMERS,
        "appointments": APPOINTMENTS,
    }
    first = Salon.objects.order_by("created_at").values_list("created_at", flat=True).first()
    fresh = first is not None and timezone.now() - first < timedelta(days=FRESH_DAYS)
    return {"ok": counts == want and fresh, "counts": counts, "want": want, "seeded_at": str(first)}


def _working_days(rng_days: range, today: date) -> list[date]:
    days = [today + timedelta(days=d) for d in rng_days]
    return [d for d in days if d.weekday() < 6]  # Monday to Saturday


@transaction.atomic
def seed(seed_value: int) -> dict[str, object]:
    if Salon.objects.exists() or User.objects.exists():
        sys.exit("dataset: the database is not empty (the driver recreates it before seeding)")
    rng = random.Random(seed_value)
    started = clock.monotonic()
    now = timezone.now()
    password = make_password(PASSWORD)  # one hash for all: hashing 22,200 would take minutes

    owners = User.objects.bulk_create(
        User(email=f"bench-o{i:03d}@{EMAIL_DOMAIN}", password=password, role=Role.OWNER)
        for i in range(SALONS)
    )
    staff_users = User.objects.bulk_create(
        (
            User(email=f"bench-s{i:05d}@{EMAIL_DOMAIN}", password=password, role=Role.STAFF)
            for i in range(SALONS * STAFF_PER_SALON)
        ),
        batch_size=5000,
    )
    customers = User.objects.bulk_create(
        (
            User(
                email=customer_email(i),
                password=password,
                first_name=f"Customer {i}",
                phone=f"+4917{i:08d}",
                phone_verified_at=now,
            )
            for i in range(CUSTOMERS)
        ),
        batch_size=5000,
    )
    addresses = Address.objects.bulk_create(
        Address(
            line1=f"Bench Street {i}",
            city=CITIES[i % len(CITIES)],
            postal_code=f"{10000 + i}",
            country=COUNTRIES[i % len(COUNTRIES)],
        )
        for i in range(SALONS)
    )
    salons = Salon.objects.bulk_create(
        Salon(
            name=f"Bench Salon {i}",
            owner=owners[i],
            address=addresses[i],
            timezone=TIMEZONES[i % len(TIMEZONES)],
        )
        for i in range(SALONS)
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(salon=s, weekday=w, opens=OPENS, closes=CLOSES)
        for s in salons
        for w in range(6)
    )
    staff = StaffMember.objects.bulk_create(
        StaffMember(
            salon=s,
            user=staff_users[i * STAFF_PER_SALON + k],
            display_name=f"Stylist {i}-{k}",
        )
        for i, s in enumerate(salons)
        for k in range(STAFF_PER_SALON)
    )
    shift_of = {m.pk: SHIFTS[k % len(SHIFTS)] for k, m in enumerate(staff)}
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=m, weekday=w, starts=shift_of[m.pk][0], ends=shift_of[m.pk][1])
        for m in staff
        for w in range(6)
    )
    services = Service.objects.bulk_create(
        Service(
            salon=s,
            name=name,
            duration_minutes=minutes,
            buffer_minutes=buffer,
            price=Decimal(price),
        )
        for s in salons
        for name, minutes, buffer, price in SERVICES
    )
    links = []
    offered: dict[int, list[Service]] = {}
    for i in range(SALONS):
        salon_services = services[i * SERVICES_PER_SALON : (i + 1) * SERVICES_PER_SALON]
        for k in range(STAFF_PER_SALON):
            member = staff[i * STAFF_PER_SALON + k]
            mine = [salon_services[(k + j) % SERVICES_PER_SALON] for j in range(SERVICES_PER_STAFF)]
            offered[member.pk] = mine
            links += [
                Service.staff.through(service_id=sv.pk, staffmember_id=member.pk) for sv in mine
            ]
    Service.staff.through.objects.bulk_create(links)
    setup_done = clock.monotonic()

    rows = _appointments(rng, now, salons, staff, offered, shift_of, customers)
    generated = clock.monotonic()
    # The exclusion constraint's GiST index is built once after COPY (about 3x faster than
    # row by row); adding it back also proves that no two seeded appointments overlap.
    exclusion = next(
        c for c in Appointment._meta.constraints if c.name == EXCLUSION_CONSTRAINT_NAME
    )
    with connection.schema_editor() as editor:
        editor.remove_constraint(Appointment, exclusion)
    with connection.cursor() as cursor:
        # The rows are consistent by construction: no per-row foreign key triggers during COPY
        # (superuser; local only), and memory for the one index build.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        columns = (
            "salon_id, staff_id, service_id, customer_id, starts_at, ends_at, blocked_until, "
            "status, price, currency, notes, request_fingerprint, cancelled_at, created_at, "
            "updated_at"
        )
        with cursor.cursor.copy(f"COPY appointment_appointment ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        copied = clock.monotonic()
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending FK checks
        checked = clock.monotonic()
    with connection.schema_editor() as editor:
        editor.add_constraint(Appointment, exclusion)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "counts": _counts(),
        "setup_s": round(setup_done - started, 1),
        "appointments_s": round(clock.monotonic() - setup_done, 1),
        "generate_s": round(generated - setup_done, 1),
        "copy_s": round(copied - generated, 1),
        "foreign_keys_s": round(checked - copied, 1),
        "exclusion_index_s": round(clock.monotonic() - checked, 1),
        "total_s": round(clock.monotonic() - started, 1),
    }


def _appointments(rng, now, salons, staff, offered, shift_of, customers) -> list[tuple]:
    """APPOINTMENTS rows spread over the staff: per staff member and working day a few
    appointments on the slot grid, separated by random gaps, inside the shift."""
    per_staff = APPOINTMENTS // len(staff)
    salon_by_id = {s.pk: s for s in salons}
    rows: list[tuple] = []
    for member in staff:
        salon = salon_by_id[member.salon_id]
        tz = ZoneInfo(salon.timezone)
        today = now.astimezone(tz).date()
        days = _working_days(range(-PAST_DAYS, FUTURE_DAYS + 1), today)
        shift_start, shift_end = shift_of[member.pk]
        step = timedelta(minutes=salon.slot_interval_minutes)
        # Spread per_staff appointments over the days: a few per day, as evenly as it goes.
        per_day = [per_staff // len(days)] * len(days)
        for d in rng.sample(range(len(days)), per_staff % len(days)):
            per_day[d] += 1
        for day, wanted in zip(days, per_day, strict=True):
            for _ in range(50):  # redraw the day until the wanted number fits in the shift
                day_rows = _day(
                    rng, day, wanted, tz, shift_start, shift_end, step, offered[member.pk]
                )
                if day_rows is not None:
                    break
            else:
                sys.exit(f"dataset: could not place {wanted} appointments on {day}")
            for service, starts_at, ends_at, blocked_until in day_rows:
                status, cancelled_at = _status(rng, starts_at, now)
                rows.append(
                    (
                        salon.pk,
                        member.pk,
                        service.pk,
                        rng.choice(customers).pk,
                        starts_at,
                        ends_at,
                        blocked_until,
                        status,
                        service.price,
                        service.currency,
                        "",
                        "",
                        cancelled_at,
                        now,
                        now,
                    )
                )
    if len(rows) != per_staff * len(staff):
        sys.exit(f"dataset: placed {len(rows)} appointments, wanted {per_staff * len(staff)}")
    return rows


def _day(rng, day, wanted, tz, shift_start, shift_end, step, services) -> list[tuple] | None:
    """``wanted`` appointments one after the other, each after a random gap of 0-2 grid steps,
    inside the shift; None if they do not fit."""
    cursor = datetime.combine(day, shift_start)
    end_of_day = datetime.combine(day, shift_end)
    out = []
    for _ in range(wanted):
        service = rng.choice(services)
        start = cursor + step * rng.randint(0, 2)
        end = start + timedelta(minutes=service.duration_minutes)
        blocked = end + timedelta(minutes=service.buffer_minutes)
        if end > end_of_day:
            return None
        out.append(
            (
                service,
                start.replace(tzinfo=tz).astimezone(UTC),
                end.replace(tzinfo=tz).astimezone(UTC),
                blocked.replace(tzinfo=tz).astimezone(UTC),
            )
        )
        cursor = start + step * -(-(blocked - start) // step)  # next grid time after the buffer
    return out


def _status(rng, starts_at: datetime, now: datetime) -> tuple[str, datetime | None]:
    r = rng.random()
    if r < 0.1:
        return AppointmentStatus.CANCELLED, min(starts_at, now) - timedelta(days=1)
    if starts_at > now:
        return AppointmentStatus.BOOKED, None
    return (AppointmentStatus.NO_SHOW if r < 0.15 else AppointmentStatus.COMPLETED), None


def reset() -> dict[str, int]:
    deleted, _ = Appointment.objects.filter(notes=LOAD_NOTE).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE appointment_appointment")
    return {"deleted_rows": deleted}


def plan(seed_value: int, bookings: int, conflict_share: float, pool: int) -> dict[str, object]:
    """What the load runs send. Bookings: ``bookings`` requests, ``conflict_share`` of them for
    a slot a seeded appointment holds (409 expected), the rest for distinct free slots that do
    not overlap each other (201 expected), in random order."""
    rng = random.Random(seed_value)
    now = timezone.now()
    salons = list(Salon.objects.order_by("pk"))
    staff_by_salon: dict[int, list[int]] = {}
    for sid, salon_id in StaffMember.objects.values_list("pk", "salon_id").order_by("pk"):
        staff_by_salon.setdefault(salon_id, []).append(sid)
    services = {s.pk: s for s in Service.objects.all()}
    offers: dict[int, list[int]] = {}  # service -> staff
    for service_id, staff_id in Service.staff.through.objects.values_list(
        "service_id", "staffmember_id"
    ):
        offers.setdefault(service_id, []).append(staff_id)
    services_by_salon: dict[int, list[int]] = {}
    for service in services.values():
        services_by_salon.setdefault(service.salon_id, []).append(service.pk)

    # Availability: a salon, one of its services, a salon-local day within the next two weeks
    # (where the seeded bookings are), for one staff member half of the time.
    availability = []
    for _ in range(2000):
        salon = rng.choice(salons)
        service_id = rng.choice(services_by_salon[salon.pk])
        day = now.astimezone(salon.tz).date() + timedelta(days=rng.randint(1, FUTURE_DAYS))
        url = f"/api/salons/{salon.pk}/availability?service={service_id}&date={day.isoformat()}"
        if rng.random() < 0.5:
            url += f"&staff={rng.choice(offers[service_id])}"
        availability.append(url)

    # Conflicts: booked seeded appointments far enough ahead (lead time), same staff/service/time.
    taken = list(
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED, starts_at__gt=now + timedelta(hours=3)
        )
        .exclude(notes=LOAD_NOTE)
        .values_list("salon_id", "service_id", "staff_id", "starts_at")
        .order_by("pk")[:50_000]
    )
    n_conflicts = round(bookings * conflict_share)
    conflicts = [
        {"salon": a, "service": b, "staff": c, "starts_at": d.isoformat(), "expect": 409}
        for a, b, c, d in rng.sample(taken, n_conflicts)
    ]

    # Free slots: staff-days beyond the seeded bookings (days FUTURE_DAYS+2..), slots from the
    # app's own compute_slots, picked so that no two planned bookings overlap.
    free: list[dict[str, object]] = []
    used: set[tuple[int, date]] = set()
    while len(free) < bookings - n_conflicts:
        salon = rng.choice(salons)
        staff_id = rng.choice(staff_by_salon[salon.pk])
        day = now.astimezone(salon.tz).date() + timedelta(
            days=rng.randint(FUTURE_DAYS + 2, salon.booking_horizon_days - 1)
        )
        if (staff_id, day) in used:
            continue
        used.add((staff_id, day))
        service_id = rng.choice([s for s in services_by_salon[salon.pk] if staff_id in offers[s]])
        service = services[service_id]
        busy_until = None
        for slot in compute_slots(salon=salon, service=service, day=day, staff_id=staff_id):
            if busy_until is not None and slot.start < busy_until:
                continue
            busy_until = slot.start + timedelta(
                minutes=service.duration_minutes + service.buffer_minutes
            )
            free.append(
                {
                    "salon": salon.pk,
                    "service": service_id,
                    "staff": staff_id,
                    "starts_at": slot.start.isoformat(),
                    "expect": 201,
                }
            )
    booking = conflicts + free[: bookings - n_conflicts]
    rng.shuffle(booking)
    for i, body in enumerate(booking):
        body["customer"] = i % pool
    return {
        "customers": [customer_email(i) for i in range(pool)],
        "password": PASSWORD,
        "availability": availability,
        "booking": booking,
        "load_note": LOAD_NOTE,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status")
    seed_p = sub.add_parser("seed")
    seed_p.add_argument("--seed", type=int, default=8)
    sub.add_parser("reset")
    plan_p = sub.add_parser("plan")
    plan_p.add_argument("--seed", type=int, default=8)
    plan_p.add_argument("--bookings", type=int, required=True)
    plan_p.add_argument("--conflict-share", type=float, default=0.2)
    plan_p.add_argument("--pool", type=int, default=50)
    plan_p.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    _guard()
    if args.command == "status":
        print(json.dumps(status()))
    elif args.command == "seed":
        print(json.dumps(seed(args.seed)))
    elif args.command == "reset":
        print(json.dumps(reset()))
    else:
        data = plan(args.seed, args.bookings, args.conflict_share, args.pool)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data))
        print(json.dumps({k: len(data[k]) for k in ("availability", "booking")}))


if __name__ == "__main__":
    main()
