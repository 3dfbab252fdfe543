"""Admin for salon owners and staff: each sees only their own salons' data.

Owners change their salons' setup; staff see it and keep their own time off. Platform admins
see everything. Django model permissions are not used for this: the salon is the boundary.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet

from salon.models import Closure, OpeningHours, Salon, Service, StaffMember, TimeOff, WorkingHours


def _is_admin(request) -> bool:
    return request.user.is_active and request.user.is_platform_admin


def salon_filter(user, path: str) -> Q:
    prefix = f"{path}__" if path else ""
    return Q(**{f"{prefix}owner": user}) | Q(
        **{f"{prefix}staff__user": user, f"{prefix}staff__is_active": True}
    )


class SalonScopedAdmin(admin.ModelAdmin):
    salon_path = "salon"  # lookup from this model to its Salon ("" for Salon itself)
    staff_may_edit = False

    def get_queryset(self, request) -> QuerySet:
        qs = super().get_queryset(request)
        if _is_admin(request):
            return qs
        return qs.filter(salon_filter(request.user, self.salon_path)).distinct()

    def _salon_of(self, obj) -> Salon:
        for part in filter(None, self.salon_path.split("__")):
            obj = getattr(obj, part)
        return obj

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        if _is_admin(request):
            return True
        if not self.has_module_permission(request):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def _may_edit(self, request, obj) -> bool:
        if _is_admin(request):
            return True
        if not self.has_module_permission(request):
            return False
        if obj is None:
            return Salon.objects.filter(owner=request.user).exists() or self.staff_may_edit
        salon = self._salon_of(obj)
        if salon.owner_id == request.user.pk:
            return True
        return self.staff_may_edit and self._staff_owns(request, obj)

    def _staff_owns(self, request, obj) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_edit(request, obj)

    def has_add_permission(self, request) -> bool:
        return self._may_edit(request, None)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not _is_admin(request):
            if db_field.related_model is Salon:
                kwargs["queryset"] = Salon.objects.filter(owner=request.user)
            elif db_field.related_model is StaffMember:
                kwargs["queryset"] = StaffMember.objects.filter(
                    Q(salon__owner=request.user) | Q(user=request.user)
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


@admin.register(Salon)
class SalonAdmin(SalonScopedAdmin):
    salon_path = ""
    list_display = ["name", "timezone", "owner", "is_active"]
    search_fields = ["name"]
    inlines = [OpeningHoursInline, ClosureInline]
    readonly_fields = ["owner"]

    def has_add_permission(self, request) -> bool:
        return _is_admin(request)  # owners create salons through the API


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(StaffMember)
class StaffMemberAdmin(SalonScopedAdmin):
    list_display = ["display_name", "salon", "user", "is_active"]
    list_filter = ["is_active"]
    inlines = [WorkingHoursInline]


@admin.register(Service)
class ServiceAdmin(SalonScopedAdmin):
    list_display = ["name", "salon", "duration_minutes", "buffer_minutes", "price", "is_active"]
    filter_horizontal = ["staff"]


@admin.register(TimeOff)
class TimeOffAdmin(SalonScopedAdmin):
    salon_path = "staff__salon"
    staff_may_edit = True
    list_display = ["staff", "starts_at", "ends_at", "reason"]

    def _staff_owns(self, request, obj) -> bool:
        return obj.staff.user_id == request.user.pk
