"""The production cache settings give up on a Redis that accepts connections but never answers.

Without socket timeouts a hung Redis (a failover in progress, a full network path) holds every
request that touches the cache - the availability cache, allauth's rate limits - until gunicorn
kills the worker. The test settings use a local-memory cache, so this builds the production
backend from booking_api.settings itself, pointed at a listener that never replies.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from booking_api import settings as production
from django.core.cache.backends.redis import RedisCache


@pytest.fixture
def silent_redis():
    """A TCP listener that completes connections (the kernel's backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_a_redis_that_never_answers_fails_the_call_within_the_timeout(silent_redis):
    params = {k: v for k, v in production.CACHES["default"].items()
              if k not in ("BACKEND", "LOCATION")}
    cache = RedisCache(silent_redis, params)
    outcome: dict[str, object] = {}

    def call() -> None:
        try:
            outcome["value"] = cache.get("anything")
        except Exception as exc:  # the timeout, as redis-py raises it
            outcome["error"] = exc

    # In a thread, so that a missing timeout fails the test instead of hanging it.
    caller = threading.Thread(target=call, daemon=True)
    started = time.monotonic()
    caller.start()
    caller.join(timeout=production.REDIS_SOCKET_TIMEOUT + 3)
    assert not caller.is_alive(), "the cache call still hangs on a Redis that never answers"
    assert time.monotonic() - started < production.REDIS_SOCKET_TIMEOUT + 2
    assert "timeout" in repr(outcome.get("error")).lower(), outcome
    assert production.REDIS_SOCKET_TIMEOUT <= 5, "a timeout this long holds requests too long"
