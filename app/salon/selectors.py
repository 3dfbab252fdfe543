from __future__ import annotations

from django.db.models import QuerySet

from salon.models import Closure, OpeningHours, Salon, Service, StaffMember, TimeOff, WorkingHours


def salon_list() -> QuerySet[Salon]:
    return Salon.objects.filter(is_active=True).select_related("address").order_by("id")


def salon_get(salon_id: int) -> Salon | None:
    return Salon.objects.select_related("address").filter(pk=salon_id).first()


def opening_hours_list(salon: Salon) -> QuerySet[OpeningHours]:
    return OpeningHours.objects.filter(salon=salon)


def closure_list(salon: Salon) -> QuerySet[Closure]:
    return Closure.objects.filter(salon=salon)


def staff_list(salon: Salon, *, include_inactive: bool = False) -> QuerySet[StaffMember]:
    qs = StaffMember.objects.filter(salon=salon)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.prefetch_related("working_hours")


def staff_get(salon: Salon, staff_id: int) -> StaffMember | None:
    return StaffMember.objects.select_related("salon").filter(salon=salon, pk=staff_id).first()


def working_hours_list(staff: StaffMember) -> QuerySet[WorkingHours]:
    return WorkingHours.objects.filter(staff=staff)


def time_off_list(staff: StaffMember) -> QuerySet[TimeOff]:
    return TimeOff.objects.filter(staff=staff)


def service_list(salon: Salon, *, include_inactive: bool = False) -> QuerySet[Service]:
    qs = Service.objects.filter(salon=salon)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.prefetch_related("staff")


def service_get(salon: Salon, service_id: int) -> Service | None:
    return Service.objects.filter(salon=salon, pk=service_id).first()
