"""Invalidate a salon's cached availability (appointment/availability_cache.py) on commit of
every write that can change it, from any path: the API's services, the admin, the shell.

Model signals rather than calls in the services, so admin edits and future write paths are
covered. ``queryset.update()`` and ``bulk_create`` send none: call ``availability_cache_bump``
next to any such write on these models (there is none in the app today).
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from salon.models import Closure, OpeningHours, Salon, Service, StaffMember, TimeOff, WorkingHours

from appointment.availability_cache import availability_cache_bump
from appointment.models import Appointment


def _salon_changed(sender, instance: Salon, **kwargs) -> None:
    availability_cache_bump(instance.pk)


def _salon_part_changed(sender, instance, **kwargs) -> None:
    """Rows with a ``salon_id``: bookings (all their status changes and reschedules), opening
    hours, closures, staff members, services."""
    availability_cache_bump(instance.salon_id)


def _staff_part_changed(sender, instance: WorkingHours | TimeOff, **kwargs) -> None:
    """Rows of a staff member: their salon. When the staff member itself is being deleted
    (cascade), its row may be gone: its own post_delete bumps the salon."""
    cached = instance._state.fields_cache.get("staff")
    if cached is not None:
        salon_id = cached.salon_id
    else:
        salon_id = (
            StaffMember.objects.filter(pk=instance.staff_id)
            .values_list("salon_id", flat=True)
            .first()
        )
    availability_cache_bump(salon_id)


def _service_staff_changed(sender, instance: Service | StaffMember, action: str, **kwargs) -> None:
    # service.staff.set/add/remove/clear, or staff.services... from the other side.
    if action in ("post_add", "post_remove", "post_clear"):
        availability_cache_bump(instance.salon_id)


def connect() -> None:
    """Called once from AppointmentConfig.ready()."""
    uid = "availability_cache"
    post_save.connect(_salon_changed, sender=Salon, dispatch_uid=f"{uid}:salon:save")
    post_delete.connect(_salon_changed, sender=Salon, dispatch_uid=f"{uid}:salon:delete")
    for model in (Appointment, OpeningHours, Closure, StaffMember, Service):
        name = model._meta.label_lower
        post_save.connect(_salon_part_changed, sender=model, dispatch_uid=f"{uid}:{name}:save")
        post_delete.connect(_salon_part_changed, sender=model, dispatch_uid=f"{uid}:{name}:delete")
    for model in (WorkingHours, TimeOff):
        name = model._meta.label_lower
        post_save.connect(_staff_part_changed, sender=model, dispatch_uid=f"{uid}:{name}:save")
        post_delete.connect(_staff_part_changed, sender=model, dispatch_uid=f"{uid}:{name}:delete")
    m2m_changed.connect(
        _service_staff_changed, sender=Service.staff.through, dispatch_uid=f"{uid}:service_staff"
    )
