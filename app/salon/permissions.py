"""Who may do what with a salon. Used by services (the rule) and APIs (the 403/404)."""

from __future__ import annotations

from salon.models import Salon, StaffMember


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_platform_admin)


def can_manage_salon(user, salon: Salon) -> bool:
    """Owners (and platform admins) change a salon's setup."""
    return is_admin(user) or (user.is_authenticated and salon.owner_id == user.pk)


def is_salon_staff(user, salon: Salon) -> bool:
    return (
        user.is_authenticated
        and StaffMember.objects.filter(salon=salon, user=user, is_active=True).exists()
    )


def can_work_salon(user, salon: Salon) -> bool:
    """Owners, admins and the salon's staff handle its appointments."""
    return can_manage_salon(user, salon) or is_salon_staff(user, salon)


def can_edit_staff_schedule(user, staff: StaffMember) -> bool:
    """Staff keep their own hours and time off; owners keep everybody's."""
    return can_manage_salon(user, staff.salon) or (
        user.is_authenticated and staff.user_id == user.pk and staff.is_active
    )
