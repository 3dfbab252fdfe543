from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from salon.models import Salon, Service, StaffMember

from appointment.availability import Slot, compute_slots
from appointment.models import Appointment


def appointment_visible_to(user) -> QuerySet[Appointment]:
    """Customers see their own appointments; staff and owners see their salons'."""
    qs = Appointment.objects.select_related("salon", "staff", "service", "customer")
    if not user.is_authenticated:
        return qs.none()
    if user.is_platform_admin:
        return qs
    works_there = StaffMember.objects.filter(salon=OuterRef("salon"), user=user, is_active=True)
    return qs.filter(Q(customer=user) | Q(salon__owner=user) | Q(Exists(works_there)))


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


def availability(
    *, salon: Salon, service: Service, day: date, staff_id: int | None = None
) -> list[Slot]:
    return compute_slots(salon=salon, service=service, day=day, staff_id=staff_id)
