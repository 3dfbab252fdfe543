from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from salon.models import Salon, Service, StaffMember

from appointment.availability import Slot, compute_slots
from appointment.availability_cache import AvailabilityCacheLookup, make_entry
from appointment.models import Appointment


def appointment_visible_to(user) -> QuerySet[Appointment]:
    """Customers see their own appointments; staff and owners see their salons'.

    The salons a user owns or works at are read first (one query, a UNION of two indexed
    lookups), so the filter on appointments is ``customer_id = X OR salon_id IN (...)`` on the
    table's own columns, which PostgreSQL answers from the (customer, starts_at) and (salon,
    starts_at) indexes. Written as one expression with a join to the salon's owner and an
    EXISTS, it used no index and read every appointment, twice per page (count and rows):
    about 50 ms per query at 200,000 appointments (bench/README.md).
    """
    qs = Appointment.objects.select_related("salon", "staff", "service", "customer")
    if not user.is_authenticated:
        return qs.none()
    if user.is_platform_admin:
        return qs
    owned = Salon.objects.filter(owner=user).values_list("pk", flat=True)
    worked = StaffMember.objects.filter(user=user, is_active=True).values_list(
        "salon_id", flat=True
    )
    salon_ids = list(owned.union(worked))
    if not salon_ids:
        return qs.filter(customer=user)
    return qs.filter(Q(customer=user) | Q(salon_id__in=salon_ids))


def appointment_list(*, user, filters: dict | None = None) -> QuerySet[Appointment]:
    qs = appointment_visible_to(user)
    filters = filters or {}
    if filters.get("salon"):
        qs = qs.filter(salon_id=filters["salon"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("starts_after"):
        qs = qs.filter(starts_at__gte=filters["starts_after"])
    if filters.get("starts_before"):
        qs = qs.filter(starts_at__lt=filters["starts_before"])
    return qs.order_by("starts_at", "id")


def _slot_item(slot: Slot, tz) -> dict[str, Any]:
    # Times in the salon's zone, with their UTC offset (DRF would convert them to UTC).
    return {
        "start": slot.start.astimezone(tz).isoformat(),
        "end": slot.end.astimezone(tz).isoformat(),
        "staff_ids": slot.staff_ids,
    }


def availability_cached(
    *, lookup: AvailabilityCacheLookup, resolve: Callable[[], tuple[Salon, Service]]
) -> list[dict[str, Any]]:
    """The availability answer (response items) for ``lookup``'s salon, service, day and staff:
    from the cache when it holds it (no query at all), else computed and cached.

    ``resolve`` loads the salon and the service, or raises the view's 404 / 400: it runs only
    on a miss, as only successful answers are cached (appointment/availability_cache.py).
    """
    now = timezone.now()
    body = lookup.get(now)
    if body is not None:
        return body
    salon, service = resolve()
    tz = salon.tz
    slots = compute_slots(
        salon=salon, service=service, day=lookup.day, staff_id=lookup.staff_id, now=now
    )
    items = [(slot.start, _slot_item(slot, tz)) for slot in slots]
    lookup.store(
        make_entry(
            timezone_name=salon.timezone,
            lead_time_minutes=salon.lead_time_minutes,
            now=now,
            slots=items,
        )
    )
    return [item for _, item in items]
