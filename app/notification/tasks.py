from __future__ import annotations

import dramatiq

from notification.backends import SmsError
from notification.services import sms_deliver


def _should_retry(retries: int, exception: BaseException) -> bool:
    # sms_deliver gives up (and marks the row failed) after its own attempt limit.
    return isinstance(exception, SmsError) and exception.retryable and retries < 20


@dramatiq.actor(
    queue_name="sms",
    min_backoff=5_000,
    max_backoff=15 * 60_000,
    retry_when=_should_retry,
    time_limit=60_000,
)
def send_sms(message_id: int) -> None:
    """Pass only the row's id: the worker reads the text from the message log."""
    sms_deliver(message_id)
