"""Settings for the test suite: production settings plus a stub broker and fast hashing.

DATABASE_URL and REDIS_URL still come from the environment (defaults: local services).
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")

from booking_api.settings import *  # noqa: F403
from booking_api.settings import DRAMATIQ_BROKER

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DRAMATIQ_BROKER = {
    **DRAMATIQ_BROKER,
    "BROKER": "dramatiq.brokers.stub.StubBroker",
    "OPTIONS": {},
}
SMS_BACKEND = "notification.backends.ConsoleBackend"
TWILIO_SID = "AC00000000000000000000000000000000"
TWILIO_TOKEN = "test-token"
TWILIO_PHONE_NUMBER = "+15005550006"
CONN_MAX_AGE = 0
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Every test logs in from 127.0.0.1: allauth's per-IP login limits would trip.
ACCOUNT_RATE_LIMITS = False
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The manifest storage needs collectstatic to have run; tests do not run it.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# manage.py check_recovery connects to a restored copy as the alias "recovery" (the default's
# settings, another host). Declared here, mirroring the test database, so that tests may allow it.
DATABASES["recovery"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
