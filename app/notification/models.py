from __future__ import annotations

from django.conf import settings
from django.db import models


class SmsKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Booking confirmation"
    REMINDER = "reminder", "Reminder"
    CANCELLATION = "cancellation", "Cancellation notice"
    RESCHEDULE = "reschedule", "Reschedule notice"
    VERIFICATION = "verification", "Phone verification code"
    STAFF_ALERT = "staff_alert", "Booking alert to staff"


class SmsStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class SmsMessage(models.Model):
    """The message log. A row is written in the same transaction as the change that causes it;
    the worker sends it and stores the provider's message SID, so a retried job never sends
    twice."""

    kind = models.CharField(max_length=16, choices=SmsKind.choices)
    status = models.CharField(max_length=16, choices=SmsStatus.choices, default=SmsStatus.PENDING)
    to = models.CharField(max_length=16)
    body = models.CharField(max_length=640)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sms_messages",
    )
    appointment = models.ForeignKey(
        "appointment.Appointment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sms_messages",
    )
    send_after = models.DateTimeField(null=True, blank=True)
    provider_sid = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(to__regex=r"^\+[1-9][0-9]{6,14}$"), name="sms_to_e164"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | ~models.Q(provider_sid=""),
                name="sms_sent_has_sid",
            ),
            models.UniqueConstraint(
                fields=["provider_sid"],
                condition=~models.Q(provider_sid=""),
                name="sms_provider_sid_unique",
            ),
        ]
        indexes = [models.Index(fields=["appointment", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"
