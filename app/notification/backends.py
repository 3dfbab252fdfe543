"""SMS backends. ``SMS_BACKEND`` picks one; Twilio when credentials are configured."""

from __future__ import annotations

import logging
import uuid
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """Sending failed. ``retryable`` tells whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class BaseBackend:
    def send(self, *, to: str, body: str) -> str:
        """Send ``body`` to ``to`` and return the provider's message id."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Development backend: writes the SMS to the log (the worker's stdout)."""

    def send(self, *, to: str, body: str) -> str:
        sid = f"console-{uuid.uuid4().hex}"
        logger.info("SMS to %s: %s", to, body, extra={"sms_to": to, "sms_sid": sid})
        return sid


class TwilioBackend(BaseBackend):
    # Twilio error codes that will not succeed on retry (invalid/unreachable number etc.).
    PERMANENT_ERROR_CODES = frozenset({21211, 21214, 21217, 21408, 21610, 21612, 21614})

    def __init__(self) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not (settings.TWILIO_SID and settings.TWILIO_TOKEN and settings.TWILIO_PHONE_NUMBER):
            raise RuntimeError("TWILIO_SID, TWILIO_TOKEN and TWILIO_PHONE_NUMBER must be set.")
        # The worker holds the message row's lock while sending: never wait forever.
        self.client = Client(
            settings.TWILIO_SID, settings.TWILIO_TOKEN, http_client=TwilioHttpClient(timeout=15)
        )
        self.from_ = settings.TWILIO_PHONE_NUMBER

    def send(self, *, to: str, body: str) -> str:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            message = self.client.messages.create(to=to, from_=self.from_, body=body)
        except TwilioRestException as exc:
            retryable = exc.status == 429 or exc.status >= 500
            if exc.code in self.PERMANENT_ERROR_CODES:
                retryable = False
            raise SmsError(
                f"Twilio {exc.status} {exc.code}: {exc.msg}", retryable=retryable
            ) from exc
        except TwilioException as exc:  # connection errors and the like
            raise SmsError(f"Twilio error: {exc}", retryable=True) from exc
        except OSError as exc:
            raise SmsError(f"Network error talking to Twilio: {exc}", retryable=True) from exc
        return message.sid


@cache
def _backend_class(path: str) -> type[BaseBackend]:
    return import_string(path)


def get_backend() -> BaseBackend:
    return _backend_class(settings.SMS_BACKEND)()
