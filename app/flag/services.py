"""Changing feature flags: platform admins only (the operator rolls features out; salon owners
and staff only see which flags are on for them, through ``GET /api/flags/``).

Flags are created with the code that reads them (a data migration), or in the admin, or with
``manage.py waffle_flag NAME --create``; the API changes existing ones. Every change flushes the
flag's cached state once the transaction commits (``Flag.save`` and ``flag/signals.py``), and is
recorded in the admin's history of the flag.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from booking_api.exceptions import NotAllowedError
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from salon.models import Salon
from salon.permissions import is_admin

from flag.models import Flag

User = get_user_model()

_UNSET: Any = object()


def _existing_ids(model, field: str, ids: list[int]) -> list[int]:
    wanted = set(ids)
    found = set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = sorted(wanted - found)
    if missing:
        raise ValidationError({field: f"No such {field}: {', '.join(map(str, missing))}."})
    return sorted(found)


@transaction.atomic
def flag_update(
    *,
    user,
    flag: Flag,
    everyone: bool | None = _UNSET,
    percent: Decimal | None = _UNSET,
    users: list[int] | None = None,
    salons: list[int] | None = None,
    note: str = _UNSET,
) -> Flag:
    """Change the given fields; ``users`` and ``salons`` replace the named ones."""
    if not is_admin(user):
        raise NotAllowedError("Only platform admins can change feature flags.")
    user_ids = _existing_ids(User, "users", users) if users is not None else None
    salon_ids = _existing_ids(Salon, "salons", salons) if salons is not None else None
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    changed: list[str] = []
    for field, value in (("everyone", everyone), ("percent", percent), ("note", note)):
        if value is not _UNSET:
            setattr(flag, field, value)
            changed.append(field)
    changed += [
        field for field, ids in (("users", user_ids), ("salons", salon_ids)) if ids is not None
    ]
    if not changed:
        return flag
    flag.full_clean()
    flag.save()  # sets ``modified``; flushes the flag's cache on commit
    if user_ids is not None:
        flag.users.set(user_ids)  # m2m signals flush on commit too (flag/signals.py)
    if salon_ids is not None:
        flag.salons.set(salon_ids)
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[flag],
        action_flag=CHANGE,
        change_message=[{"changed": {"fields": changed}}],
        single_object=True,
    )
    return flag
