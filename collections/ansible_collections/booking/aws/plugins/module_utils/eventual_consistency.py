# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded retries for AWS's eventual consistency, shared by booking.aws modules.

AWS's control planes are eventually consistent: a role created a second ago may not be usable by
another service yet, a load balancer still provisioning cannot be protected by WAF, a resource
read right after its create may be missing. botocore retries throttling only, and
AWSRetry.jittered_backoff counts attempts rather than time; these helpers retry for a bounded
time instead, so each caller states how long AWS may take.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

try:
    from botocore.exceptions import ClientError
except ImportError:  # handled by AnsibleAWSModule
    ClientError = Exception  # type: ignore[assignment,misc]

T = TypeVar("T")


def _code(error: Exception) -> str:
    return (getattr(error, "response", None) or {}).get("Error", {}).get("Code", "")


def call_until_accepted(call: Callable[[], T], codes: Iterable[str], timeout: float,
                        delay: float = 1.0, max_delay: float = 10.0,
                        sleep: Callable[[float], None] = time.sleep) -> T:
    """call() until AWS stops answering one of `codes`, for up to `timeout` seconds.

    Waits `delay` seconds after the first refusal, doubling up to `max_delay` (equal values poll
    at a fixed pace). Any other error, or one of `codes` once the time is up, is raised.
    """
    retried = set(codes)
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        try:
            return call()
        except ClientError as error:
            if _code(error) not in retried or time.monotonic() + delay > deadline:
                raise
        sleep(delay)
        delay = min(delay * 2, max(max_delay, delay))


def read_until_found(read: Callable[[], Any], timeout: float = 30.0, delay: float = 0.5,
                     max_delay: float = 5.0,
                     sleep: Callable[[float], None] = time.sleep) -> Any:
    """read() until it answers something (not None, not empty), for up to `timeout` seconds.

    For the read right after a create: AWS may leave a new resource out of its describe call for
    a few seconds. Returns the last answer, empty if the resource never showed: the caller fails
    with its own message rather than an IndexError.
    """
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        found = read()
        if found or time.monotonic() + delay > deadline:
            return found
        sleep(delay)
        delay = min(delay * 2, max_delay)
