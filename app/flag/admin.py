"""The flags in the admin: platform admins only (like the API), with waffle's admin (its
enable/disable-for-everyone actions flush each flag's cache) plus the named salons."""

from __future__ import annotations

from django.contrib import admin
from waffle import admin as waffle_admin

from flag.models import Flag


def _is_admin(request) -> bool:
    return request.user.is_active and request.user.is_platform_admin


@admin.register(Flag)
class FlagAdmin(waffle_admin.FlagAdmin):
    list_display = ["name", "note", "everyone", "percent", "superusers", "staff", "modified"]
    list_filter = ["everyone", "superusers", "staff", "authenticated"]
    raw_id_fields = ["users", "salons"]
    # Waffle's request-only rules, which Flag.is_active_for does not evaluate.
    exclude = ["testing", "languages", "rollout"]

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        # Code asks for a flag by name: renaming one would switch the feature off.
        return ["name", "created", "modified"] if obj else ["created", "modified"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "salons":  # salons by name next to their ids, as waffle does users
            kwargs.pop("request", None)
            kwargs["widget"] = waffle_admin.InformativeManyToManyRawIdWidget(
                db_field.remote_field, self.admin_site, using=kwargs.get("using")
            )
            return db_field.formfield(**kwargs)
        return super().formfield_for_dbfield(db_field, request=request, **kwargs)

    def has_module_permission(self, request) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return _is_admin(request)
