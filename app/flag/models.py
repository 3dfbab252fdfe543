"""Feature flags: django-waffle's flag model, extended with named salons and evaluated without a
request (services and the Dramatiq worker have none).

Why django-waffle: it is maintained (5.0.0 supports Django 5.2), stores flags in the database
with an admin, a ``waffle_flag`` management command, on/off, percentage, named users and groups,
caches every lookup in the Django cache (Redis here) and flushes it when a flag is saved; and it
lets a project swap in its own flag model (``WAFFLE_FLAG_MODEL``), which is how salons are added.
django-flags (5.2, also maintained) was the alternative: its conditions (user, parameter, path,
dates...) are evaluated against a request, it has no percentage rollout, and it reads the
database on every request instead of a shared cache.

What is changed from waffle: the evaluation (``is_active_for``). Waffle's percentage draws a
random number per request and keeps it in a cookie; API clients with a JWT keep no cookie, so
the percentage is a stable hash of the flag's name and the subject instead. Waffle's request-only
rules (testing mode, languages, ``WAFFLE_OVERRIDE``, rollout cookies) are not evaluated; the
admin hides their fields.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.db import models
from waffle.models import CACHE_EMPTY, AbstractUserFlag
from waffle.utils import get_cache, get_setting, keyfmt

FLAG_SALONS_CACHE_KEY = "flag:%s:salons"


class Flag(AbstractUserFlag):
    """A flag is active for a user and/or a salon, checked in this order:

    1. ``everyone`` set: on (True) or off (False) for all, whatever the other rules say;
    2. waffle's user rules: ``superusers``, ``staff``, ``authenticated``, named ``users``,
       ``groups``;
    3. named ``salons``;
    4. ``percent``: the subject's stable bucket (0.0 to 99.9, a hash of the flag's name and the
       subject) is below ``percent``. The subject is the salon when one is given (a salon's staff
       and customers all see the same), else the user; raising the percentage keeps everyone who
       was in. Different flags pick different subjects.

    Otherwise (and for a flag that does not exist) the flag is off.
    """

    salons = models.ManyToManyField(
        "salon.Salon",
        blank=True,
        related_name="feature_flags",
        help_text="Activate this flag for these salons.",
    )

    class Meta(AbstractUserFlag.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent__isnull=True) | models.Q(percent__gte=0),
                name="flag_percent_not_negative",
            ),
        ]

    def get_flush_keys(self, flush_keys: list[str] | None = None) -> list[str]:
        keys = super().get_flush_keys(flush_keys)
        keys.append(keyfmt(FLAG_SALONS_CACHE_KEY, self.name))
        return keys

    def _get_salon_ids(self) -> set[int]:
        """Cached like waffle's ``_get_user_ids``."""
        cache = get_cache()
        key = keyfmt(FLAG_SALONS_CACHE_KEY, self.name)
        cached = cache.get(key)
        if cached == CACHE_EMPTY:
            return set()
        if cached:
            return cached
        salon_ids = set(self.salons.values_list("pk", flat=True))
        cache.add(key, salon_ids or CACHE_EMPTY)
        return salon_ids

    def bucket(self, subject: str) -> Decimal:
        """0.0 to 99.9, the same for the same flag name and subject in every process."""
        digest = hashlib.sha256(f"{self.name}:{subject}".encode()).digest()
        return Decimal(int.from_bytes(digest[:8], "big") % 1000) / 10

    def _in_percent(self, *, user, salon) -> bool:
        if not self.percent or self.percent <= 0:
            return False
        if salon is not None:
            subject = f"salon:{salon.pk}"
        elif user is not None and user.is_authenticated:
            subject = f"user:{user.pk}"
        else:
            return False
        return self.bucket(subject) < self.percent

    def is_active_for(self, *, user=None, salon=None) -> bool:
        if not self.pk:  # not in the database: waffle's default (off)
            return bool(get_setting("FLAG_DEFAULT"))
        if self.everyone is not None:
            return self.everyone
        if user is not None and self.is_active_for_user(user):
            return True
        if salon is not None and salon.pk in self._get_salon_ids():
            return True
        return self._in_percent(user=user, salon=salon)

    def is_active(self, request, read_only: bool = False) -> bool:
        """Waffle's request API (``waffle.flag_is_active``, its template tags and decorators)
        answers as ``is_active_for`` does for the request's user."""
        if not self.pk:  # waffle logs (or creates) missing flags as its settings say
            return bool(super().is_active(request, read_only=read_only))
        return self.is_active_for(user=getattr(request, "user", None))
