from django.contrib import admin

from notification.models import SmsMessage


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    """Platform admins only (superusers): the log holds customers' numbers."""

    list_display = ["id", "kind", "to", "status", "attempts", "provider_sid", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in SmsMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
