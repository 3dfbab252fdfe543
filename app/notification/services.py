"""Queueing and delivering SMS. Rows are written inside the caller's transaction and the job is
enqueued on commit, so a rolled-back booking sends nothing and the worker never sees an
uncommitted row."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from notification.backends import SmsError, get_backend
from notification.models import SmsKind, SmsMessage, SmsStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# The Redis broker refuses delays of 7 days or more: longer waits hop in steps.
MAX_DELAY = timedelta(days=6)


def _enqueue(message_id: int, delay: timedelta | None = None) -> None:
    from notification.tasks import send_sms

    if delay is not None and delay > timedelta(0):
        send_sms.send_with_options(
            args=(message_id,), delay=int(min(delay, MAX_DELAY).total_seconds() * 1000)
        )
    else:
        send_sms.send(message_id)


def sms_queue(
    *,
    kind: SmsKind,
    to: str,
    body: str,
    user=None,
    appointment=None,
    send_after: datetime | None = None,
) -> SmsMessage:
    message = SmsMessage.objects.create(
        kind=kind, to=to, body=body, user=user, appointment=appointment, send_after=send_after
    )
    delay = (send_after - timezone.now()) if send_after else None
    transaction.on_commit(lambda: _enqueue(message.pk, delay))
    return message


def sms_cancel_pending(*, appointment, kinds: tuple[SmsKind, ...]) -> int:
    return SmsMessage.objects.filter(
        appointment=appointment, kind__in=kinds, status=SmsStatus.PENDING
    ).update(status=SmsStatus.CANCELLED)


def _still_relevant(message: SmsMessage) -> bool:
    """A reminder is pointless once its appointment is cancelled or has started."""
    if message.kind != SmsKind.REMINDER or message.appointment_id is None:
        return True
    appointment = message.appointment
    return appointment.status == "booked" and appointment.starts_at > timezone.now()


def sms_deliver(message_id: int) -> str:
    """Send one logged SMS exactly once. Returns what happened (for logs and tests).

    Raises ``SmsError`` with ``retryable=True`` when the worker should try again later.
    """
    now = timezone.now()
    with transaction.atomic():
        message = (
            SmsMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("appointment")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            # Gone, or another worker holds it right now and will finish it.
            return "skipped"
        if message.provider_sid or message.status != SmsStatus.PENDING:
            return "already-done"
        if message.send_after and message.send_after - now > timedelta(seconds=1):
            transaction.on_commit(lambda: _enqueue(message.pk, message.send_after - now))
            return "deferred"
        if not _still_relevant(message):
            message.status = SmsStatus.CANCELLED
            message.save(update_fields=["status"])
            return "cancelled"

        message.attempts += 1
        try:
            sid = get_backend().send(to=message.to, body=message.body)
        except SmsError as exc:
            message.last_error = str(exc)[:2000]
            give_up = not exc.retryable or message.attempts >= MAX_ATTEMPTS
            if give_up:
                message.status = SmsStatus.FAILED
            message.save(update_fields=["attempts", "last_error", "status"])
            logger.warning(
                "SMS sending failed",
                extra={"sms_id": message.pk, "attempt": message.attempts, "final": give_up},
            )
            if give_up:
                return "failed"
            retry = exc  # raised after the block, once the attempt count is committed
        else:
            message.provider_sid = sid
            message.status = SmsStatus.SENT
            message.sent_at = timezone.now()
            message.save(update_fields=["attempts", "provider_sid", "status", "sent_at"])
            return "sent"
    raise retry
