"""Reading feature flags. Evaluation needs no request: pass the user and/or salon the feature is
for (a service knows them; a Dramatiq task loads them from its arguments).

Lookups go through waffle's cache (Redis): a flag, its named users, its named salons, and the
list of all flags each take one cache read once warm. If Redis fails, flags read as off (one
warning per lookup): a feature behind a flag is never worth failing a booking for.
"""

from __future__ import annotations

import logging

from django.db.models import QuerySet
from redis.exceptions import RedisError
from salon.models import Salon

from flag.models import Flag

logger = logging.getLogger(__name__)


def flag_is_active(name: str, *, user=None, salon: Salon | None = None) -> bool:
    """Whether flag ``name`` is on for ``user`` and/or ``salon`` (see ``Flag``); off if the
    flag does not exist."""
    try:
        return Flag.get(name).is_active_for(user=user, salon=salon)
    except RedisError as exc:
        logger.warning(
            "feature flags: cache unavailable, flag read as off",
            extra={"flag": name, "error": repr(exc)},
        )
        return False


def flag_states(*, user, salon: Salon | None = None) -> dict[str, bool]:
    """Every flag, evaluated for ``user`` (and ``salon``): ``{name: on}``."""
    try:
        flags = Flag.get_all()
        return {
            flag.name: flag.is_active_for(user=user, salon=salon)
            for flag in sorted(flags, key=lambda f: f.name)
        }
    except RedisError as exc:
        logger.warning(
            "feature flags: cache unavailable, flags read as off", extra={"error": repr(exc)}
        )
        return dict.fromkeys(Flag.objects.order_by("name").values_list("name", flat=True), False)


def flag_list() -> QuerySet[Flag]:
    return Flag.objects.prefetch_related("users", "salons").order_by("name")


def flag_get(name: str) -> Flag | None:
    return flag_list().filter(name=name).first()
