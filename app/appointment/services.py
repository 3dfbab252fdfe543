"""Booking, rescheduling, cancelling and closing appointments.

The exclusion constraint ``appointment_no_double_booking`` is the authority on overlaps: no
lock or prior read can prevent two inserts racing for a slot that has no row yet, so the
insert runs in a savepoint and its exclusion violation becomes ``ConflictError`` (HTTP 409).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from datetime import UTC, datetime, timedelta

import psycopg.errors
from booking_api.exceptions import ApplicationError, ConflictError, NotAllowedError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from flag.selectors import flag_is_active
from notification.models import SmsKind
from notification.services import sms_cancel_pending, sms_queue
from salon.models import Salon, Service, StaffMember
from salon.permissions import can_work_salon

from appointment.availability import compute_slots
from appointment.models import EXCLUSION_CONSTRAINT_NAME, Appointment, AppointmentStatus

# Feature flag (flag/migrations/0002_staff_booking_sms.py, off until rolled out): SMS alerts to
# the staff member whose appointment is booked, moved or cancelled by someone else.
STAFF_BOOKING_SMS = "staff_booking_sms"


class IdempotencyMismatch(ApplicationError):
    status_code = 422
    code = "idempotency_key_reused"


def _constraint_name(exc: IntegrityError) -> str | None:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", None)


def _is_double_booking(exc: IntegrityError) -> bool:
    return isinstance(exc.__cause__, psycopg.errors.ExclusionViolation) and (
        _constraint_name(exc) == EXCLUSION_CONSTRAINT_NAME
    )


def _fingerprint(**parts) -> str:
    canonical = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fmt(appointment: Appointment) -> str:
    local = appointment.starts_at.astimezone(appointment.salon.tz)
    return local.strftime("%a %d %b %Y %H:%M")


def _validate_slot(
    *, salon: Salon, service: Service, staff: StaffMember, starts_at: datetime, now: datetime
) -> None:
    if starts_at <= now:
        raise ValidationError({"starts_at": "This time is in the past."})
    day = starts_at.astimezone(salon.tz).date()
    offered = compute_slots(
        salon=salon,
        service=service,
        day=day,
        staff_id=staff.pk,
        now=now,
        include_appointments=False,
    )
    starts_utc = starts_at.astimezone(UTC)
    if not any(slot.start == starts_utc for slot in offered):
        raise ValidationError(
            {
                "starts_at": "This time is not bookable for this staff member "
                "(opening hours, working hours, time off, lead time or booking horizon)."
            }
        )


def _resolve(salon: Salon, service_id: int, staff_id: int) -> tuple[Service, StaffMember]:
    service = Service.objects.filter(pk=service_id, salon=salon, is_active=True).first()
    if service is None:
        raise ValidationError({"service": "This salon offers no such service."})
    staff = (
        StaffMember.objects.select_related("user")
        .filter(pk=staff_id, salon=salon, is_active=True)
        .first()
    )
    if staff is None:
        raise ValidationError({"staff": "No such staff member at this salon."})
    if not service.staff.filter(pk=staff.pk).exists():
        raise ValidationError({"service": "This staff member does not offer this service."})
    return service, staff


def _queue_booking_sms(appointment: Appointment, kind: SmsKind, text: str) -> None:
    customer = appointment.customer
    if not customer.phone_verified:
        return
    sms_queue(kind=kind, to=customer.phone, body=text, user=customer, appointment=appointment)
    remind_at = appointment.starts_at - timedelta(minutes=settings.SMS_REMINDER_BEFORE_MINUTES)
    if remind_at > timezone.now():
        sms_queue(
            kind=SmsKind.REMINDER,
            to=customer.phone,
            body=f"Reminder: {appointment.service.name} at {appointment.salon.name} "
            f"on {_fmt(appointment)}.",
            user=customer,
            appointment=appointment,
            send_after=remind_at,
        )


def _queue_staff_alert(appointment: Appointment, staff: StaffMember, text: str, *, actor) -> None:
    """Tell ``staff`` about a change to their schedule that ``actor`` made, by SMS to their
    verified phone, if the ``staff_booking_sms`` flag is on for them and the salon."""
    staff_user = staff.user
    if actor.pk == staff_user.pk or not staff_user.phone_verified:
        return
    if not flag_is_active(STAFF_BOOKING_SMS, user=staff_user, salon=appointment.salon):
        return
    sms_queue(
        kind=SmsKind.STAFF_ALERT,
        to=staff_user.phone,
        body=text,
        user=staff_user,
        appointment=appointment,
    )


def appointment_book(
    *,
    customer,
    salon: Salon,
    service_id: int,
    staff_id: int,
    starts_at: datetime,
    notes: str = "",
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[Appointment, bool]:
    """Book and return ``(appointment, created)``. A repeated ``idempotency_key`` with the same
    request returns the first booking (``created`` False)."""
    now = now or timezone.now()
    fingerprint = _fingerprint(
        salon=salon.pk,
        service=service_id,
        staff=staff_id,
        starts_at=starts_at.astimezone(UTC).isoformat(),
        notes=notes,
    )
    if idempotency_key:
        existing = _replay(customer, idempotency_key, fingerprint)
        if existing:
            return existing, False

    service, staff = _resolve(salon, service_id, staff_id)
    _validate_slot(salon=salon, service=service, staff=staff, starts_at=starts_at, now=now)
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    appointment = Appointment(
        salon=salon,
        staff=staff,
        service=service,
        customer=customer,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_until=ends_at + timedelta(minutes=service.buffer_minutes),
        price=service.price,
        currency=service.currency,
        notes=notes,
        idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint,
    )
    with transaction.atomic():
        try:
            _insert(appointment)
        except IntegrityError as exc:
            if _is_double_booking(exc):
                raise ConflictError("This slot has just been taken. Pick another time.") from exc
            if idempotency_key and _constraint_name(exc) == "appointment_idempotency_key_unique":
                replay = _replay(customer, idempotency_key, fingerprint)
                if replay:
                    return replay, False
            raise
        _queue_booking_sms(
            appointment,
            SmsKind.CONFIRMATION,
            f"Booked: {service.name} with {staff.display_name} at {salon.name} on "
            f"{_fmt(appointment)}. Ref #{appointment.pk}.",
        )
        _queue_staff_alert(
            appointment,
            staff,
            f"New booking: {service.name} on {_fmt(appointment)}. Ref #{appointment.pk}.",
            actor=customer,
        )
    return appointment, True


# Concurrent inserts that overlap under an exclusion constraint can deadlock: each waits for the
# other's uncommitted row, and PostgreSQL aborts one with "deadlock detected" instead of an
# exclusion violation. The aborted insert is retried: it then waits for the survivor and gets
# the violation (HTTP 409) or, if the survivor rolled back, the slot. Many racers can deadlock
# again on the retry (12 racers beside a busy CI ran out of 3 retries, 2026-12-07): retry more,
# after a short random pause so that the racers stop meeting in lockstep.
_DEADLOCK_RETRIES = 8


def _insert(appointment: Appointment) -> None:
    for attempt in range(_DEADLOCK_RETRIES + 1):
        try:
            with transaction.atomic():  # savepoint: a failure must not poison the outer one
                appointment.save()
            return
        except OperationalError as exc:
            if not isinstance(exc.__cause__, psycopg.errors.DeadlockDetected) or (
                attempt == _DEADLOCK_RETRIES
            ):
                raise
            appointment.pk = None  # the aborted insert left nothing behind
            time.sleep(random.uniform(0, 0.02) * (attempt + 1))


def _replay(customer, key: str, fingerprint: str) -> Appointment | None:
    existing = Appointment.objects.filter(customer=customer, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.request_fingerprint != fingerprint:
        raise IdempotencyMismatch("This Idempotency-Key was used for a different booking request.")
    return existing


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("salon", "service", "staff__user", "customer")
        .get(pk=appointment.pk)
    )


def _check_customer_window(user, appointment: Appointment, now: datetime, action: str) -> None:
    """Customers change a booking only before the salon's cancellation window opens;
    staff and owners may always."""
    if can_work_salon(user, appointment.salon):
        return
    if appointment.customer_id != user.pk:
        raise NotAllowedError("This is not your appointment.")
    deadline = appointment.starts_at - timedelta(
        minutes=appointment.salon.cancellation_window_minutes
    )
    if now > deadline:
        raise ValidationError(
            {"detail": f"Too late to {action}: the salon's cancellation window has passed."}
        )


@transaction.atomic
def appointment_cancel(
    *, user, appointment: Appointment, now: datetime | None = None
) -> Appointment:
    now = now or timezone.now()
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ConflictError(f"The appointment is {appointment.get_status_display().lower()}.")
    _check_customer_window(user, appointment, now, "cancel")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by = user
    appointment.save(update_fields=["status", "cancelled_at", "cancelled_by", "updated_at"])
    sms_cancel_pending(appointment=appointment, kinds=(SmsKind.REMINDER,))
    if appointment.customer.phone_verified:
        sms_queue(
            kind=SmsKind.CANCELLATION,
            to=appointment.customer.phone,
            body=f"Cancelled: {appointment.service.name} at {appointment.salon.name} on "
            f"{_fmt(appointment)}. Ref #{appointment.pk}.",
            user=appointment.customer,
            appointment=appointment,
        )
    _queue_staff_alert(
        appointment,
        appointment.staff,
        f"Cancelled: {appointment.service.name} on {_fmt(appointment)}. Ref #{appointment.pk}.",
        actor=user,
    )
    return appointment


@transaction.atomic
def appointment_reschedule(
    *,
    user,
    appointment: Appointment,
    starts_at: datetime,
    staff_id: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    now = now or timezone.now()
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ConflictError(f"The appointment is {appointment.get_status_display().lower()}.")
    _check_customer_window(user, appointment, now, "reschedule")
    salon = appointment.salon
    service, staff = _resolve(salon, appointment.service_id, staff_id or appointment.staff_id)
    _validate_slot(salon=salon, service=service, staff=staff, starts_at=starts_at, now=now)
    old_text = _fmt(appointment)
    old_staff = appointment.staff
    appointment.staff = staff
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    appointment.blocked_until = appointment.ends_at + timedelta(minutes=service.buffer_minutes)
    try:
        with transaction.atomic():
            appointment.save(
                update_fields=["staff", "starts_at", "ends_at", "blocked_until", "updated_at"]
            )
    except IntegrityError as exc:
        if _is_double_booking(exc):
            raise ConflictError("This slot is taken. Pick another time.") from exc
        raise
    sms_cancel_pending(appointment=appointment, kinds=(SmsKind.REMINDER,))
    _queue_booking_sms(
        appointment,
        SmsKind.RESCHEDULE,
        f"Moved: {service.name} at {salon.name} from {old_text} to {_fmt(appointment)} "
        f"with {staff.display_name}. Ref #{appointment.pk}.",
    )
    ref = f"Ref #{appointment.pk}."
    if old_staff.pk == staff.pk:
        _queue_staff_alert(
            appointment,
            staff,
            f"Moved: {service.name} from {old_text} to {_fmt(appointment)}. {ref}",
            actor=user,
        )
    else:
        _queue_staff_alert(
            appointment,
            old_staff,
            f"Reassigned: {service.name} on {old_text} is no longer yours. {ref}",
            actor=user,
        )
        _queue_staff_alert(
            appointment,
            staff,
            f"New booking: {service.name} on {_fmt(appointment)}. {ref}",
            actor=user,
        )
    return appointment


def _close(user, appointment: Appointment, status: AppointmentStatus, now: datetime) -> Appointment:
    appointment = _lock(appointment)
    if not can_work_salon(user, appointment.salon):
        raise NotAllowedError("Only the salon's staff can do this.")
    if appointment.status != AppointmentStatus.BOOKED:
        raise ConflictError(f"The appointment is {appointment.get_status_display().lower()}.")
    if appointment.starts_at > now:
        raise ValidationError({"detail": "The appointment has not started yet."})
    appointment.status = status
    appointment.save(update_fields=["status", "updated_at"])
    sms_cancel_pending(appointment=appointment, kinds=(SmsKind.REMINDER,))
    return appointment


@transaction.atomic
def appointment_complete(
    *, user, appointment: Appointment, now: datetime | None = None
) -> Appointment:
    return _close(user, appointment, AppointmentStatus.COMPLETED, now or timezone.now())


@transaction.atomic
def appointment_mark_no_show(
    *, user, appointment: Appointment, now: datetime | None = None
) -> Appointment:
    return _close(user, appointment, AppointmentStatus.NO_SHOW, now or timezone.now())
