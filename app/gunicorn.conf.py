"""gunicorn settings shared by the image and bin/run-local.

Equivalent to ``gunicorn --bind 0.0.0.0:8000 --workers 3 --threads 2 --timeout 120
--keep-alive 75 booking_api.wsgi:application``; each value can be overridden by environment.
keepalive must exceed the ALB idle timeout (60 s), or the ALB reuses connections gunicorn has
closed and answers 502.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
graceful_timeout = 30
wsgi_app = "booking_api.wsgi:application"

# Logs to stdout as one JSON object per line, like the application's own logs.
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"time": "%(t)s", "logger": "gunicorn.access", "remote": "%(h)s", '
    '"method": "%(m)s", "path": "%(U)s", "query": "%(q)s", "status": %(s)s, '
    '"bytes": "%(B)s", "duration_us": %(D)s, "user_agent": "%(a)s"}'
)
# Heartbeat files in memory: /tmp may be a slow or read-only layer in containers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# gunicorn's own messages as JSON too; access lines are already JSON (see access_log_format).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "booking_api.logging.JsonFormatter"},
        "raw": {"format": "%(message)s"},
    },
    "handlers": {
        "error": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "raw",
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"level": "INFO", "handlers": ["error"]},
    "loggers": {
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}
