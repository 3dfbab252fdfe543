from __future__ import annotations

import zoneinfo
from functools import cache

from address.models import Address
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from user.phone import validate_e164


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError(
            "Enter an IANA time zone name, e.g. Europe/Berlin.", code="invalid_timezone"
        )


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class TimeOfDayRange(models.Func):
    """``tsrange`` over two ``time`` columns on a fixed date, so PostgreSQL can compare
    wall-clock intervals in an exclusion constraint (``date + time`` is immutable)."""

    function = "tsrange"
    template = "%(function)s(DATE '2000-01-01' + %(expressions)s, '[)')"
    arg_joiner = ", DATE '2000-01-01' + "
    output_field = DateTimeRangeField()


class Salon(models.Model):
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_salons"
    )
    address = models.OneToOneField(Address, on_delete=models.PROTECT, related_name="salon")
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    phone = models.CharField(max_length=16, blank=True, validators=[validate_e164])
    slot_interval_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    lead_time_minutes = models.PositiveIntegerField(
        default=60, validators=[MaxValueValidator(60 * 24 * 30)]
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    cancellation_window_minutes = models.PositiveIntegerField(
        default=24 * 60, validators=[MaxValueValidator(60 * 24 * 30)]
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slot_interval_minutes__gte=5, slot_interval_minutes__lte=240),
                name="salon_slot_interval_range",
            ),
            models.CheckConstraint(
                condition=models.Q(booking_horizon_days__gte=1, booking_horizon_days__lte=366),
                name="salon_booking_horizon_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class OpeningHours(models.Model):
    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        verbose_name_plural = "opening hours"
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")), name="opening_hours_order"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday"
            ),
            ExclusionConstraint(
                name="opening_hours_no_overlap",
                expressions=[
                    ("salon", RangeOperators.EQUAL),
                    ("weekday", RangeOperators.EQUAL),
                    (TimeOfDayRange("opens", "closes"), RangeOperators.OVERLAPS),
                ],
                violation_error_message="These opening hours overlap existing ones.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(models.Model):
    """Whole local days on which the salon is closed (holidays, renovations)."""

    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="closures")
    start_date = models.DateField()
    end_date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="closure_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.salon_id} closed {self.start_date}..{self.end_date}"


class StaffMember(models.Model):
    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships"
    )
    display_name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["salon", "user"], name="staff_unique_per_salon"),
        ]

    def __str__(self) -> str:
        return self.display_name


class WorkingHours(models.Model):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="working_hours_order"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday"
            ),
            ExclusionConstraint(
                name="working_hours_no_overlap",
                expressions=[
                    ("staff", RangeOperators.EQUAL),
                    ("weekday", RangeOperators.EQUAL),
                    (TimeOfDayRange("starts", "ends"), RangeOperators.OVERLAPS),
                ],
                violation_error_message="These working hours overlap existing ones.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"


class TimeOff(models.Model):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "time off"
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="time_off_order"
            ),
        ]
        indexes = [models.Index(fields=["staff", "starts_at", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.staff} off {self.starts_at}..{self.ends_at}"


class Service(models.Model):
    salon = models.ForeignKey(Salon, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(12 * 60)]
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(4 * 60)]
    )
    price = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="EUR")
    staff = models.ManyToManyField(StaffMember, related_name="services", blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=720),
                name="service_duration_range",
            ),
            models.CheckConstraint(
                condition=models.Q(buffer_minutes__lte=240), name="service_buffer_range"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="service_price_positive"),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="service_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name
