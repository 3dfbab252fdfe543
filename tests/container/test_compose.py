"""The Dockerfile and docker-compose.yml without running anything: hadolint, and compose
checked against the image's contract (podman-compose is not installed here, so the YAML is
loaded and compared: the same commands, port and variables the Dockerfile and the app use)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from container_support import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def dockerfile_cmd() -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert match, "the Dockerfile has no exec-form CMD"
    return json.loads(match.group(1))


def test_hadolint_is_clean():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, "Dockerfile"], cwd=REPO, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_contract():
    # The official base, pinned by digest (make pin-base-image re-pins it).
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim@sha256:[0-9a-f]{64}$", DOCKERFILE,
                     re.MULTILINE)
    froms = re.findall(r"^FROM (\S+) AS (\S+)$", DOCKERFILE, re.MULTILINE)
    assert froms == [("${BASE_IMAGE}", "builder"), ("builder", "static"), ("builder", "venv"),
                     ("${BASE_IMAGE}", "pgclient"), ("${BASE_IMAGE}", "runtime")], (
        "builder, the PostgreSQL client's stage and runtime build on BASE_IMAGE")
    runtime = DOCKERFILE.split("AS runtime", 1)[1]
    # Read-only root at run time: no byte code written, gunicorn's control socket in /tmp.
    assert "PYTHONDONTWRITEBYTECODE=1" in runtime
    assert "XDG_RUNTIME_DIR=/tmp" in runtime
    # /tmp as Fargate mounts it (test_image.py: test_uid_1000_writes_tmp_as_fargate_mounts_it):
    # declared a VOLUME after the last RUN (later build steps' writes there would be dropped),
    # root-owned with mode 1777.
    assert re.search(r'^VOLUME \["/tmp"\]$', runtime, re.MULTILINE), 'VOLUME ["/tmp"]'
    assert runtime.rindex("\nRUN ") < runtime.index('\nVOLUME ["/tmp"]')
    assert "chown root:root /tmp" in runtime
    assert "chmod 1777 /tmp" in runtime
    assert "EXPOSE 8000" in DOCKERFILE
    assert re.search(r"^USER 1000", DOCKERFILE, re.MULTILINE)
    assert "--mount=type=secret,id=pip_ca,required=false" in DOCKERFILE
    assert dockerfile_cmd()[:3] == ["gunicorn", "--config", "gunicorn.conf.py"]


def test_gunicorn_settings_are_the_plans():
    """3 workers x 2 threads, timeout 120 s, keep-alive 75 s (> the ALB's 60 s idle timeout),
    bind 0.0.0.0:8000, each from the environment with those defaults."""
    namespace: dict = {}
    exec(compile((REPO / "app" / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"),
         namespace)
    assert (namespace["bind"], namespace["workers"], namespace["threads"]) == ("0.0.0.0:8000", 3, 2)
    assert (namespace["timeout"], namespace["keepalive"]) == (120, 75)
    assert namespace["wsgi_app"] == "booking_api.wsgi:application"


def test_compose_services_follow_the_image_contract():
    assert {"db", "redis", "migrate", "web", "worker"} <= set(SERVICES)
    assert SERVICES["db"]["image"] == "postgres:15"
    assert SERVICES["redis"]["image"].startswith("redis:7")
    web, worker, migrate = SERVICES["web"], SERVICES["worker"], SERVICES["migrate"]
    assert web["command"] == dockerfile_cmd()
    assert "8000:8000" in web["ports"]
    assert worker["command"][:3] == ["python", "manage.py", "rundramatiq"]
    assert "--processes" in worker["command"]
    assert "--threads" in worker["command"], "set rundramatiq's threads explicitly"
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for service in (web, worker, migrate):
        assert service["build"]["context"] == "."
        assert service["image"] == web["image"], "one image for web, worker and migrate"


def test_compose_start_order_and_health():
    for name in ("db", "redis"):
        assert SERVICES[name]["healthcheck"]["test"], f"{name} has no healthcheck"
    assert "healthcheck" not in SERVICES["web"], "web keeps the image's HEALTHCHECK"
    for name in ("worker", "migrate"):  # no HTTP server: the image's check would fail
        assert SERVICES[name]["healthcheck"] == {"disable": True}
    assert SERVICES["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"


def test_compose_tmp_agrees_with_the_image():
    """The app services leave /tmp to the image's VOLUME (an anonymous volume per container,
    root 1777 like the image's /tmp) or mount a writable tmpfs there; nothing read-only or
    owner-restricted on /tmp, which uid 1000 must write."""
    for name in ("web", "worker", "migrate"):
        service = SERVICES[name]
        tmpfs = service.get("tmpfs", [])
        for entry in [tmpfs] if isinstance(tmpfs, str) else tmpfs:
            path, _, options = entry.partition(":")
            if path == "/tmp":
                assert "ro" not in options.split(","), f"{name}: read-only tmpfs on /tmp"
                assert "mode=" not in options or "mode=1777" in options, f"{name}: {entry}"
        for volume in service.get("volumes", []):
            if isinstance(volume, dict):
                target = volume.get("target")
            else:  # SOURCE:TARGET[:MODE], or TARGET alone (an anonymous volume)
                target = volume.split(":")[1] if ":" in volume else volume
            assert target != "/tmp", f"{name}: a volume on /tmp hides the image's (root 1777)"


def test_compose_environment_is_what_the_app_reads():
    settings = (REPO / "app" / "booking_api" / "settings.py").read_text()
    for name in ("web", "worker", "migrate"):
        env = SERVICES[name]["environment"]
        for key in env:
            assert f'"{key}"' in settings, f"{name}: the app does not read {key}"
        db = env["DATABASE_URL"]
        assert db.startswith("postgres://")
        assert "@db:5432/" in db
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert env["DJANGO_SECRET_KEY"]
    db_env = SERVICES["db"]["environment"]
    expected = (f"postgres://{db_env['POSTGRES_USER']}:{db_env['POSTGRES_PASSWORD']}"
                f"@db:5432/{db_env['POSTGRES_DB']}")
    assert SERVICES["web"]["environment"]["DATABASE_URL"] == expected


def test_app_code_never_switches_language():
    """The image keeps English translations only (Dockerfile): nothing may activate another."""
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "app").rglob("*.py")
        if "tests" not in path.parts
        and re.search(r"translation\.(activate|override)\(|LocaleMiddleware", path.read_text())
    ]
    assert offenders == []
