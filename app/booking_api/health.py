"""Health endpoints answered before host validation and before any database access.

The load balancer probes tasks by private IP, which is not in ``ALLOWED_HOSTS``; this
middleware sits first in ``MIDDLEWARE`` so ``/health/`` never reaches ``request.get_host()``.

Liveness (``/health/``, the container's and the load balancer's check) also asks for a
writable temporary directory: on Fargate the root file system is read-only and /tmp is a task
volume, writable by the app's user only because the image declares it a ``VOLUME`` (see the
Dockerfile). Without it, uploads over 2.5 MB (Django's temporary upload files), ``tempfile``
and gunicorn's control socket fail at random; failing the health check instead keeps such a
task out of service, and a release of such an image is rolled back by ECS.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

LIVENESS_PATHS = frozenset({"/health", "/health/"})
READINESS_PATHS = frozenset({"/health/ready", "/health/ready/"})


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def temp_dir_writable() -> bool:
    """A file can be created (and is removed at once) where uploads and ``tempfile`` write."""
    try:
        with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir()):
            return True
    except OSError as exc:  # FileNotFoundError ("No usable temporary directory"), EACCES, EROFS
        logger.error("temporary directory not writable", extra={"error": repr(exc)})
        return False


def liveness() -> HttpResponse:
    if not temp_dir_writable():
        return _json(503, {"status": "error", "tmp": "not writable",
                           "revision": settings.REVISION})
    return _json(200, {"status": "ok", "revision": settings.REVISION})


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_redis() -> None:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def readiness() -> HttpResponse:
    checks: dict[str, str] = {}
    for name, check in (("database", check_database), ("redis", check_redis)):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:
            logger.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            checks[name] = "error"
    healthy = all(v == "ok" for v in checks.values())
    return _json(200 if healthy else 503, {"status": "ok" if healthy else "error", **checks})


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path in LIVENESS_PATHS:
                return liveness()
            if request.path in READINESS_PATHS:
                return readiness()
        return self.get_response(request)
