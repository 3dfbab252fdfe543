from __future__ import annotations

from django.contrib import admin
from salon.admin import SalonScopedAdmin

from appointment.models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(SalonScopedAdmin):
    """Read-only: bookings change through the API so constraints, windows and SMS apply."""

    list_display = ["id", "salon", "staff", "service", "customer", "starts_at", "status"]
    list_filter = ["status", "salon"]
    date_hierarchy = "starts_at"
    search_fields = ["customer__email"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
