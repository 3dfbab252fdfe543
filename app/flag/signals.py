"""Flush a flag's cached state when its named users, groups or salons change.

Waffle flushes a flag when it is saved or deleted (on commit), and when users or groups are
added or removed (at once, before the transaction commits). Here every change of the three
relations, ``clear()`` included (waffle misses it), flushes on commit: a request running between
the change and the commit would otherwise cache the old members again.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import m2m_changed

from flag.models import Flag


def _members_changed(sender, instance, action: str, pk_set: set | None, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if isinstance(instance, Flag):
        flags = [instance]
    elif pk_set:  # changed from the other side, e.g. salon.feature_flags.add(flag)
        flags = list(Flag.objects.filter(pk__in=pk_set))
    else:  # e.g. salon.feature_flags.clear(): which flags is no longer known
        flags = list(Flag.objects.all())
    for flag in flags:
        transaction.on_commit(flag.flush)


def connect() -> None:
    """Called once from FlagConfig.ready()."""
    for field in ("users", "groups", "salons"):
        m2m_changed.connect(
            _members_changed,
            sender=getattr(Flag, field).through,
            dispatch_uid=f"flag:{field}:changed",
        )
