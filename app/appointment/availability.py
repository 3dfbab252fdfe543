"""Bookable slots for one salon-local day.

All interval arithmetic happens on aware UTC datetimes. Opening and working hours are
wall-clock times in the salon's IANA zone, turned into instants for the given date, so a DST
change day is 23 or 25 hours long and no slot falls into the skipped hour or is offered twice
in the repeated one. A fixed number of queries is made whatever the number of staff or
appointments (see tests/test_availability.py).
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from salon.models import Closure, OpeningHours, Salon, Service, StaffMember, TimeOff, WorkingHours

from appointment.models import ACTIVE_STATUSES, Appointment

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Slot:
    """Start and end are UTC. (Python compares two datetimes of the same zone by wall clock,
    ignoring ``fold``, which is wrong in the repeated hour; UTC avoids that.)"""

    start: datetime
    end: datetime
    staff_ids: tuple[int, ...]


def wall_time_to_utc(day: date, at: time, tz: zoneinfo.ZoneInfo) -> datetime:
    """The instant a wall clock in ``tz`` shows ``at`` on ``day``.

    Ambiguous times (the repeated hour) resolve to their first occurrence; times in the skipped
    hour resolve, with the offset in force before the change, to the instant just after it.
    """
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def _intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    out = []
    for a_start, a_end in a:
        for b_start, b_end in b:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                out.append((start, end))
    return out


def _overlaps(start: datetime, end: datetime, busy: list[Interval]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def _wall_intervals(day: date, rows: Iterable[tuple[time, time]], tz) -> list[Interval]:
    return sorted(
        (wall_time_to_utc(day, start, tz), wall_time_to_utc(day, end, tz)) for start, end in rows
    )


def compute_slots(
    *,
    salon: Salon,
    service: Service,
    day: date,
    staff_id: int | None = None,
    now: datetime | None = None,
    include_appointments: bool = True,
) -> list[Slot]:
    """Slots where ``service`` can start on salon-local ``day``.

    ``include_appointments=False`` gives the slots the schedule allows, ignoring bookings:
    booking validates against it and leaves overlaps to the database constraint (HTTP 409).
    """
    now = now or timezone.now()
    tz = salon.tz
    today = now.astimezone(tz).date()
    if day < today or day > today + timedelta(days=salon.booking_horizon_days):
        return []

    if Closure.objects.filter(salon=salon, start_date__lte=day, end_date__gte=day).exists():
        return []

    weekday = day.weekday()
    opening = _wall_intervals(
        day,
        OpeningHours.objects.filter(salon=salon, weekday=weekday).values_list("opens", "closes"),
        tz,
    )
    if not opening:
        return []

    staff_qs = StaffMember.objects.filter(salon=salon, is_active=True, services=service)
    if staff_id is not None:
        staff_qs = staff_qs.filter(pk=staff_id)
    staff_ids = list(staff_qs.values_list("pk", flat=True))
    if not staff_ids:
        return []

    hours_by_staff: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for sid, starts, ends in WorkingHours.objects.filter(
        staff_id__in=staff_ids, weekday=weekday
    ).values_list("staff_id", "starts", "ends"):
        hours_by_staff[sid].append((starts, ends))

    duration = timedelta(minutes=service.duration_minutes)
    blocked = duration + timedelta(minutes=service.buffer_minutes)
    window_start = opening[0][0]
    window_end = max(end for _, end in opening) + blocked

    busy: dict[int, list[Interval]] = defaultdict(list)
    for sid, starts_at, ends_at in TimeOff.objects.filter(
        staff_id__in=staff_ids, starts_at__lt=window_end, ends_at__gt=window_start
    ).values_list("staff_id", "starts_at", "ends_at"):
        busy[sid].append((starts_at, ends_at))
    if include_appointments:
        for sid, starts_at, blocked_until in Appointment.objects.filter(
            staff_id__in=staff_ids,
            status__in=ACTIVE_STATUSES,
            starts_at__lt=window_end,
            blocked_until__gt=window_start,
        ).values_list("staff_id", "starts_at", "blocked_until"):
            busy[sid].append((starts_at, blocked_until))

    free: dict[int, list[Interval]] = {
        sid: _intersect(opening, _wall_intervals(day, hours_by_staff.get(sid, ()), tz))
        for sid in staff_ids
    }

    earliest = now + timedelta(minutes=salon.lead_time_minutes)
    step = timedelta(minutes=salon.slot_interval_minutes)
    slots: list[Slot] = []
    for open_start, open_end in opening:
        start = open_start
        while start + duration <= open_end:
            if start >= earliest:
                end = start + duration
                available = tuple(
                    sid
                    for sid in staff_ids
                    if any(f_start <= start and end <= f_end for f_start, f_end in free[sid])
                    and not _overlaps(start, start + blocked, busy[sid])
                )
                if available:
                    slots.append(Slot(start, end, available))
            start += step
    return slots
