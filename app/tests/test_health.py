from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

APP_DIR = Path(__file__).resolve().parent.parent


def test_liveness_without_database_and_any_host():
    # No django_db mark: pytest-django makes any database access raise here.
    client = Client()
    # The ALB probes by private IP, which is not in ALLOWED_HOSTS.
    response = client.get("/health/", HTTP_HOST="10.0.10.37:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "revision": settings.REVISION}
    # Any other path with that Host is still rejected.
    assert client.get("/api/salons/", HTTP_HOST="10.0.10.37:8000").status_code == 400


def test_liveness_fails_without_a_writable_temp_dir(monkeypatch, tmp_path):
    """As on Fargate when the image does not declare /tmp a VOLUME: the task volume is root-owned
    0755 and the app's user cannot create a file there."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    response = Client().get("/health/", HTTP_HOST="10.0.10.37:8000")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "tmp": "not writable",
                               "revision": settings.REVISION}
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert Client().get("/health/", HTTP_HOST="10.0.10.37:8000").status_code == 200
    assert list(tmp_path.iterdir()) == []  # the probe's file is gone


@pytest.mark.django_db
def test_readiness_checks_database_and_redis():
    response = Client().get("/health/ready", HTTP_HOST="10.0.10.37")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.django_db
@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readiness_fails_when_redis_is_down():
    response = Client().get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["redis"] == "error"
    assert response.json()["database"] == "ok"


def _run(args, env):
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=APP_DIR,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_collectstatic_without_database_or_redis(tmp_path):
    """The image build runs collectstatic with a dummy secret and no services."""
    result = _run(
        ["collectstatic", "--noinput"],
        {
            "DJANGO_SECRET_KEY": "build-time-dummy",
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        },
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert list((tmp_path / "static").glob("drf_spectacular_sidecar/swagger-ui-dist/*.js"))


def test_settings_refuse_to_start_without_secret_key():
    result = _run(["check"], {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_debug_is_off_by_default():
    from django.conf import settings

    assert settings.DEBUG is False


@pytest.mark.django_db
def test_container_health_check_command_reports_the_server(live_server, monkeypatch):
    """`python -m booking_api.healthcheck` (the ECS task definition's check) exits 0 or 1."""
    from booking_api import healthcheck

    port = live_server.url.rsplit(":", 1)[1]
    monkeypatch.setenv("GUNICORN_BIND", f"0.0.0.0:{port}")
    assert healthcheck.main() == 0
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("GUNICORN_BIND", f"0.0.0.0:{sock.getsockname()[1]}")
        assert healthcheck.main() == 1


@override_settings(REVISION="3f2c1aa")
def test_liveness_reports_the_revision():
    assert Client().get("/health/").json()["revision"] == "3f2c1aa"
