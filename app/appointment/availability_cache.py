"""Per-day availability answers cached in Django's cache (Redis in production).

A hit answers ``GET /api/salons/<id>/availability`` without a single SQL query: two cache reads
(the salon's version, then the entry) and a filter by the current time.

**Key**: ``availability:<salon>:<version>:<service>:<date>:<staff or "any">``. The salon's
*version* is an integer under ``availability:v:<salon>``; every committed write that can change
the salon's availability bumps it (``availability_cache_bump``, called on commit by the model
signals in ``appointment/signals.py``), so all of the salon's entries are orphaned at once and
expire by their TTL. The version is read *before* the database: an answer computed from data
that a concurrent write replaces is stored under the version that write's bump retires, never
under the new one. ``queryset.update()`` and ``bulk_create`` send no signals: nothing in the
app uses them on the models availability depends on (the benchmark's seeding does, on a fresh
database, before the server starts); the TTL (``AVAILABILITY_CACHE_SECONDS``) bounds the
staleness of anything that slips past. A missing version (never set, evicted, Redis restarted)
starts at the current time in microseconds, never at a number an older entry may still carry.

**Only successful answers are cached** (the salon and the service were found and the service is
active): 404s and 400s are rare and go to the database every time. The cached value holds what
the view needs to answer without the database.

**Time**: ``compute_slots`` depends on "now" in two ways: the lead time (no slot starting before
now + ``lead_time_minutes``) and the salon-local today (no day before today or beyond today +
``booking_horizon_days``). An entry stores the slots computed at its time, the salon's zone, its
lead time and the local date it was computed on; a hit filters the slots by the current now +
lead time (a subset of what was computed, so exactly what ``compute_slots`` would answer now) and
is treated as a miss once the salon's local date has changed (the horizon and "past day" tests
move at midnight). So today is cached too, and never serves a slot that has become too close.

**Failures**: any error of the cache (Redis down, timeout, bad data) makes the request compute
its answer as without the cache; the first error of a request is logged as a warning and the
cache is not touched again for that request. A failed bump is logged as an error: the write has
committed, and the TTL bounds how long the salon's old entries can be served.
"""

from __future__ import annotations

import logging
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

KEY_PREFIX = "availability"

# Values of the X-Availability-Cache response header.
HIT, MISS, OFF, ERROR = "hit", "miss", "off", "error"


def cache_enabled() -> bool:
    return bool(settings.AVAILABILITY_CACHE_ENABLED)


def version_key(salon_id: int) -> str:
    return f"{KEY_PREFIX}:v:{salon_id}"


def entry_key(
    *, salon_id: int, version: int, service_id: int, day: date, staff_id: int | None
) -> str:
    staff = "any" if staff_id is None else str(staff_id)
    return f"{KEY_PREFIX}:{salon_id}:{version}:{service_id}:{day.isoformat()}:{staff}"


def _fresh_version() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class AvailabilityEntry:
    """What a hit needs: the slots (UTC start, response item) computed on ``local_date``."""

    timezone: str
    lead_time_minutes: int
    local_date: date
    slots: tuple[tuple[datetime, dict[str, Any]], ...]

    def body(self, now: datetime) -> list[dict[str, Any]] | None:
        """The answer at ``now``, or None if the entry is of an earlier salon-local day."""
        if now.astimezone(zoneinfo.ZoneInfo(self.timezone)).date() != self.local_date:
            return None
        earliest = now + timedelta(minutes=self.lead_time_minutes)
        return [item for start, item in self.slots if start >= earliest]


@dataclass
class AvailabilityCacheLookup:
    """One request's use of the cache: at most one warning, then no more cache calls."""

    salon_id: int
    service_id: int
    day: date
    staff_id: int | None
    status: str = MISS
    version: int | None = None
    _failed: bool = field(default=False, repr=False)

    def _guard(self, action: str, call: Callable[[], Any]) -> Any:
        if self._failed:
            return None
        try:
            return call()
        except Exception as exc:
            self._failed = True
            self.status = ERROR
            logger.warning(
                "availability cache unavailable, computing without it",
                extra={"cache_action": action, "salon_id": self.salon_id, "error": repr(exc)},
            )
            return None

    def _read_version(self) -> int | None:
        key = version_key(self.salon_id)
        version = cache.get(key)
        if version is None:
            cache.add(key, _fresh_version(), timeout=None)
            version = cache.get(key)
        return int(version) if version is not None else None

    def get(self, now: datetime) -> list[dict[str, Any]] | None:
        """The cached answer, or None (then compute, and ``store`` it)."""
        if not cache_enabled():
            self.status = OFF
            return None
        self.version = self._guard("get version", self._read_version)
        if self.version is None:
            return None
        entry = self._guard("get entry", lambda: cache.get(self._key()))
        if not isinstance(entry, AvailabilityEntry):
            return None
        body = self._guard("read entry", lambda: entry.body(now))
        if body is not None:
            self.status = HIT
        return body

    def store(self, entry: AvailabilityEntry) -> None:
        if self.version is None or self._failed or not cache_enabled():
            return
        self._guard(
            "set entry",
            lambda: cache.set(self._key(), entry, timeout=settings.AVAILABILITY_CACHE_SECONDS),
        )

    def _key(self) -> str:
        assert self.version is not None
        return entry_key(
            salon_id=self.salon_id,
            version=self.version,
            service_id=self.service_id,
            day=self.day,
            staff_id=self.staff_id,
        )


def make_entry(
    *, timezone_name: str, lead_time_minutes: int, now: datetime, slots: list[tuple[datetime, dict]]
) -> AvailabilityEntry:
    return AvailabilityEntry(
        timezone=timezone_name,
        lead_time_minutes=lead_time_minutes,
        local_date=now.astimezone(zoneinfo.ZoneInfo(timezone_name)).date(),
        slots=tuple(slots),
    )


def bump_now(salon_id: int) -> None:
    """Retire every cached availability answer of the salon (use ``availability_cache_bump``
    from write paths: this one does not wait for the transaction to commit)."""
    key = version_key(salon_id)
    try:
        try:
            cache.incr(key)
        except ValueError:  # no version yet (or evicted): start a new one
            if not cache.add(key, _fresh_version(), timeout=None):
                cache.incr(key)
    except Exception as exc:
        logger.error(
            "availability cache: could not invalidate a salon's entries; they expire by TTL",
            extra={"salon_id": salon_id, "error": repr(exc)},
        )


def availability_cache_bump(salon_id: int | None) -> None:
    """Invalidate the salon's cached availability once the current transaction commits
    (at once outside a transaction; never if it rolls back)."""
    if salon_id is None:
        return
    transaction.on_commit(partial(bump_now, salon_id))
