"""Writes for salons and their schedules. Database constraints are the last word on overlaps;
these functions turn their violations into field-level validation errors."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any

from address.services import address_create, address_update
from booking_api.exceptions import NotAllowedError
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from user.models import Role
from user.phone import normalize_phone_field

from salon.models import Closure, OpeningHours, Salon, Service, StaffMember, TimeOff, WorkingHours
from salon.permissions import can_edit_staff_schedule, can_manage_salon, is_admin

User = get_user_model()

SALON_FIELDS = (
    "name",
    "timezone",
    "phone",
    "slot_interval_minutes",
    "lead_time_minutes",
    "booking_horizon_days",
    "cancellation_window_minutes",
    "is_active",
)


def _require_manage(user, salon: Salon) -> None:
    if not can_manage_salon(user, salon):
        raise NotAllowedError("Only the salon's owner can change this.")


def _save_checked(obj, *, overlap_field: str) -> None:
    """full_clean() (which also checks exclusion constraints), then save; a concurrent insert
    that slips past the check still hits the database constraint."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
        if NON_FIELD_ERRORS in errors:
            errors[overlap_field] = errors.pop(NON_FIELD_ERRORS)
        raise ValidationError(errors) from exc
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError({overlap_field: "This overlaps existing hours."}) from exc


@transaction.atomic
def salon_create(*, user, address: dict[str, Any], **data: Any) -> Salon:
    if not (is_admin(user) or user.role == Role.OWNER):
        raise NotAllowedError("Only salon owners can create salons.")
    if data.get("phone"):
        data["phone"] = normalize_phone_field(data["phone"])
    salon = Salon(owner=user, address=address_create(**address), **data)
    salon.full_clean()
    salon.save()
    return salon


@transaction.atomic
def salon_update(
    *, user, salon: Salon, address: dict[str, Any] | None = None, **data: Any
) -> Salon:
    _require_manage(user, salon)
    if data.get("phone"):
        data["phone"] = normalize_phone_field(data["phone"])
    for field, value in data.items():
        if field in SALON_FIELDS:
            setattr(salon, field, value)
    if address:
        address_update(salon.address, **address)
    salon.full_clean()
    salon.save()
    return salon


def opening_hours_create(
    *, user, salon: Salon, weekday: int, opens: time, closes: time
) -> OpeningHours:
    _require_manage(user, salon)
    hours = OpeningHours(salon=salon, weekday=weekday, opens=opens, closes=closes)
    _save_checked(hours, overlap_field="opens")
    return hours


def opening_hours_delete(*, user, hours: OpeningHours) -> None:
    _require_manage(user, hours.salon)
    hours.delete()


def closure_create(*, user, salon: Salon, start_date, end_date, reason: str = "") -> Closure:
    _require_manage(user, salon)
    closure = Closure(salon=salon, start_date=start_date, end_date=end_date, reason=reason)
    closure.full_clean()
    closure.save()
    return closure


def closure_delete(*, user, closure: Closure) -> None:
    _require_manage(user, closure.salon)
    closure.delete()


@transaction.atomic
def staff_add(*, user, salon: Salon, email: str, display_name: str) -> StaffMember:
    _require_manage(user, salon)
    member_user = User.objects.filter(email__iexact=email.strip()).first()
    if member_user is None:
        raise ValidationError({"email": "No user with this email address exists."})
    if StaffMember.objects.filter(salon=salon, user=member_user).exists():
        raise ValidationError({"email": "This user is already on the staff."})
    member = StaffMember(salon=salon, user=member_user, display_name=display_name)
    member.full_clean()
    member.save()
    if member_user.role == Role.CUSTOMER:
        member_user.role = Role.STAFF
    member_user.is_staff = True  # may use the admin, limited to their salon
    member_user.save(update_fields=["role", "is_staff"])
    return member


def staff_update(*, user, staff: StaffMember, **data: Any) -> StaffMember:
    _require_manage(user, staff.salon)
    for field in ("display_name", "is_active"):
        if field in data:
            setattr(staff, field, data[field])
    staff.full_clean()
    staff.save()
    return staff


def working_hours_create(
    *, user, staff: StaffMember, weekday: int, starts: time, ends: time
) -> WorkingHours:
    if not can_edit_staff_schedule(user, staff):
        raise NotAllowedError("You cannot change this staff member's hours.")
    hours = WorkingHours(staff=staff, weekday=weekday, starts=starts, ends=ends)
    _save_checked(hours, overlap_field="starts")
    return hours


def working_hours_delete(*, user, hours: WorkingHours) -> None:
    if not can_edit_staff_schedule(user, hours.staff):
        raise NotAllowedError("You cannot change this staff member's hours.")
    hours.delete()


def time_off_create(
    *, user, staff: StaffMember, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> TimeOff:
    if not can_edit_staff_schedule(user, staff):
        raise NotAllowedError("You cannot change this staff member's time off.")
    time_off = TimeOff(staff=staff, starts_at=starts_at, ends_at=ends_at, reason=reason)
    time_off.full_clean()
    time_off.save()
    return time_off


def time_off_delete(*, user, time_off: TimeOff) -> None:
    if not can_edit_staff_schedule(user, time_off.staff):
        raise NotAllowedError("You cannot change this staff member's time off.")
    time_off.delete()


def _set_service_staff(service: Service, staff_ids: list[int]) -> None:
    members = list(StaffMember.objects.filter(salon=service.salon, pk__in=staff_ids))
    unknown = set(staff_ids) - {m.pk for m in members}
    if unknown:
        raise ValidationError(
            {"staff_ids": f"Not staff of this salon: {', '.join(map(str, sorted(unknown)))}."}
        )
    service.staff.set(members)


@transaction.atomic
def service_create(
    *,
    user,
    salon: Salon,
    name: str,
    duration_minutes: int,
    price: Decimal,
    staff_ids: list[int] | None = None,
    **data: Any,
) -> Service:
    _require_manage(user, salon)
    service = Service(
        salon=salon, name=name, duration_minutes=duration_minutes, price=price, **data
    )
    service.full_clean()
    service.save()
    _set_service_staff(service, staff_ids or [])
    return service


@transaction.atomic
def service_update(
    *, user, service: Service, staff_ids: list[int] | None = None, **data: Any
) -> Service:
    _require_manage(user, service.salon)
    for field in (
        "name",
        "description",
        "duration_minutes",
        "buffer_minutes",
        "price",
        "currency",
        "is_active",
    ):
        if field in data:
            setattr(service, field, data[field])
    service.full_clean()
    service.save()
    if staff_ids is not None:
        _set_service_staff(service, staff_ids)
    return service
