"""The image end to end with podman: build, migrate, serve, work, book, stop, push and pull.

Runs against the local PostgreSQL (127.0.0.1:5432, user postgres, trust) in a database of its
own and the local Redis (127.0.0.1:6379) in database 9, with every container on the host
network. The web server and the worker run the commands docker-compose.yml gives them, and
every container runs as ECS on Fargate runs it (ecs_run_args): read-only root file system,
TMPDIR=/tmp, and /tmp mounted the way Fargate mounts the task's bind volume there.
Skipped only when podman cannot be installed (see conftest.py); in CI it runs.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from container_support import METRICS, REPO, RUN_DIR, TOOLS, container_env

pytestmark = pytest.mark.usefixtures("podman_ready")

PODMAN = str(TOOLS / "podman.sh")
DB_NAME = "booking_container_test"
PG = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]
REDIS_DB = "9"
DEMO_PASSWORD = "demo-password-123"
SUFFIX = str(os.getpid())
STOP_TIMEOUT = 30
# As roles/ecs_service runs every container: readonlyRootFilesystem, TMPDIR=/tmp, and the task
# volume "tmp" on /tmp (ecs_run_args mounts it). --read-only-tmpfs=false: podman would otherwise
# also mount tmpfs on /run and /var/tmp, which ECS does not. (/dev/shm is a tmpfs in podman as
# on Fargate.)
READ_ONLY = ["--read-only", "--read-only-tmpfs=false", "-e", "TMPDIR=/tmp"]
# EROFS: a write outside /tmp. EACCES: e.g. /tmp not writable by uid 1000, where gunicorn only
# logs "Control server error: [Errno 13] Permission denied" and serves on without its socket.
# ("Permission denied" alone would also match Django's log of a legitimate 403.)
WRITE_ERRORS = ("Read-only file system", "Errno 30", "Errno 13")
# The target, uncompressed, on the local Debian base (python:3.11-slim is bigger): 200 MB,
# plus the PostgreSQL client (pg_dump, pg_restore, libpq and libsasl2: 5.3 MB, 2026-12-07, 195.8
# -> 201.1 MB) that manage.py import_database needs (issue 19, the cutover's data copy).
IMAGE_BUDGET_MB = 206
LOCAL_BASE = "localhost/debian:bookworm-slim"


def podman(*args: str, check: bool = True, timeout: float = 300, **env: str):
    result = subprocess.run(
        [PODMAN, *args], capture_output=True, text=True, timeout=timeout,
        env=container_env(**env), check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(f"podman {' '.join(args)} exited {result.returncode}:\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


# --- /tmp as Fargate mounts it --------------------------------------------------------------
# The task volume "tmp" has no host path: on Fargate that is a bind mount of the task's
# ephemeral storage. AWS, "Use bind mounts with Amazon ECS", section "Considerations when using
# bind mounts" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html):
# the data plane looks for a VOLUME directive; when its absolute path equals the mount's
# containerPath, the image's content there is copied to the volume, and its owner and
# permissions can be set in the Dockerfile; otherwise the volume is empty, owned by root with
# mode 0755 (so uid 1000 cannot write it). Seen in practice: aws/containers-roadmap #938 and
# #863, govuk-forms/forms-api PR #764.
_TMP_MOUNTS: list[tuple[str, str, dict[str, str]]] = []  # ("volume"|"dir", name, store)
_TMP_COUNTER = itertools.count()


def image_volumes(image: str, **store: str) -> set[str]:
    """The paths the image declares as VOLUME (Config.Volumes)."""
    config = json.loads(podman("image", "inspect", image, **store).stdout)[0]["Config"]
    return set(config.get("Volumes") or {})


def ecs_run_args(image: str, **store: str) -> list[str]:
    """podman run arguments for a container as roles/ecs_service runs it on Fargate: read-only
    root, TMPDIR=/tmp, and a fresh /tmp mounted the way Fargate mounts the task's bind volume.

    If the image declares /tmp a VOLUME: a new named podman volume, which podman initialises
    from the image's /tmp (content, owner, mode) on first mount, as Fargate does. If not: a new
    empty host directory owned by root with mode 0755, as Fargate mounts it. Each call makes a
    new one (a Fargate task starts with fresh ephemeral storage); all are removed at the end of
    the module (tmp_mounts_removed). `store` points podman at another image store."""
    number = next(_TMP_COUNTER)
    if "/tmp" in image_volumes(image, **store):
        name = f"booking-test-tmp-{SUFFIX}-{number}"
        podman("volume", "create", name, **store)
        _TMP_MOUNTS.append(("volume", name, store))
        mount = f"{name}:/tmp"
        METRICS["/tmp as Fargate mounts it"] = "image VOLUME: initialised from the image's /tmp"
    else:
        path = tempfile.mkdtemp(prefix=f"booking-fargate-tmp-{SUFFIX}-{number}-")
        if os.geteuid() == 0:  # rootless podman maps the invoking user to root anyway
            os.chown(path, 0, 0)
        os.chmod(path, 0o755)
        _TMP_MOUNTS.append(("dir", path, store))
        mount = f"{path}:/tmp"
        METRICS["/tmp as Fargate mounts it"] = "no VOLUME: empty, root, 0755"
    return [*READ_ONLY, "-v", mount]


@pytest.fixture(scope="module", autouse=True)
def tmp_mounts_removed() -> Iterator[None]:
    """Removes what ecs_run_args made. Autouse, so set up first and torn down last: after the
    containers fixture has removed the containers that use them."""
    yield
    while _TMP_MOUNTS:
        kind, name, store = _TMP_MOUNTS.pop()
        if kind == "dir":
            shutil.rmtree(name, ignore_errors=True)
        elif not store or Path(store["CONTAINERS_ROOT"]).exists():  # else gone with its store
            podman("volume", "rm", "-f", name, check=False, timeout=60, **store)


def compose_command(service: str) -> list[str]:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return compose["services"][service]["command"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, token: str | None = None,
         headers: dict | None = None) -> tuple[int, object]:
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except json.JSONDecodeError:
        return status, raw.decode(errors="replace")


def wait_for(what: str, check, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def image() -> str:
    """Build the image twice: the first build is cold or warm depending on the store, the second
    is all cache hits. Both times, the size and the base are recorded."""
    store = RUN_DIR / "containers" / "storage"
    METRICS["image store before the build"] = "present" if store.exists() else "absent (cold)"
    timings = []
    for _ in range(2):
        start = time.monotonic()
        build = subprocess.run(
            [str(TOOLS / "build.sh")], capture_output=True, text=True, timeout=900,
            env=container_env(IMAGE_BUILDER="podman"), check=False,
        )
        timings.append(time.monotonic() - start)
        assert build.returncode == 0, f"build failed:\n{build.stderr[-5000:]}"
    ref = build.stdout.strip().splitlines()[-1]
    base = re.search(r"building \S+ with podman from (\S+)", build.stderr)
    METRICS["image"] = ref
    METRICS["base image"] = base.group(1) if base else "?"
    METRICS["build time, first build of this run (s)"] = round(timings[0], 1)
    METRICS["build time, cached rebuild (s)"] = round(timings[1], 1)
    size = int(podman("image", "inspect", "--format", "{{.Size}}", ref).stdout.strip())
    METRICS["image size, uncompressed (MB)"] = round(size / 1e6, 1)
    return ref


@pytest.fixture(scope="module")
def database() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database and Redis database 9, dropped and flushed afterwards."""
    subprocess.run([*PG, "-c", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"], check=True)
    subprocess.run([*PG, "-c", f"CREATE DATABASE {DB_NAME}"], check=True)
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], check=True, capture_output=True)
    yield {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "DJANGO_SECRET_KEY": "container-test-only-not-a-secret",
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
    }
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], check=False, capture_output=True)
    subprocess.run([*PG, "-c", f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"], check=False)


def env_args(env: dict[str, str]) -> list[str]:
    return [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]


@pytest.fixture(scope="module")
def migrated(image: str, database: dict[str, str]) -> dict[str, str]:
    """migrate and seed_demo by command override, each in a throwaway container."""
    for command in (["python", "manage.py", "migrate", "--noinput"],
                    ["python", "manage.py", "seed_demo"]):
        run = podman("run", "--rm", "--network=host", *ecs_run_args(image),
                     *env_args(database), image, *command, check=False)
        assert run.returncode == 0, f"{command} exited {run.returncode}:\n{run.stderr[-3000:]}"
    return database


@pytest.fixture(scope="module")
def containers() -> Iterator[list[str]]:
    """Names of the containers the tests start; all removed at the end, failed or not."""
    names: list[str] = []
    yield names
    for name in names:
        podman("rm", "-f", "-t", "0", name, check=False, timeout=60)


@pytest.fixture(scope="module")
def web(image: str, migrated: dict[str, str], containers: list[str]) -> dict[str, object]:
    """The web server with docker-compose.yml's command on a free port; healthy within 60 s."""
    port = free_port()
    name = f"booking-test-web-{SUFFIX}"
    containers.append(name)
    start = time.monotonic()
    podman("run", "-d", "--name", name, "--network=host", *ecs_run_args(image),
           *env_args({**migrated, "GUNICORN_BIND": f"127.0.0.1:{port}"}),
           image, *compose_command("web"))

    def healthy():
        check = podman("healthcheck", "run", name, check=False, timeout=30)
        if check.returncode == 0:
            return True
        state = podman("inspect", "--format", "{{.State.Status}}", name, check=False)
        if state.stdout.strip() not in ("running", "created"):
            logs = podman("logs", name, check=False)
            pytest.fail(f"web container {state.stdout.strip()}:\n{logs.stdout[-3000:]}"
                        f"{logs.stderr[-3000:]}")
        return False

    wait_for("web container healthy", healthy, timeout=60)
    METRICS["web: start to healthy (s)"] = round(time.monotonic() - start, 1)
    return {"name": name, "url": f"http://127.0.0.1:{port}"}


@pytest.fixture(scope="module")
def worker(image: str, migrated: dict[str, str], containers: list[str]) -> str:
    name = f"booking-test-worker-{SUFFIX}"
    containers.append(name)
    # --no-healthcheck: the image's check probes the web server, which the worker does not run.
    podman("run", "-d", "--name", name, "--network=host", "--no-healthcheck",
           *ecs_run_args(image), *env_args(migrated), image, *compose_command("worker"))
    return name


def logs(name: str) -> str:
    result = podman("logs", name, check=False)
    return result.stdout + result.stderr


def run_python(image: str, code: str, **env: str) -> str:
    """Run a Python snippet in the image (read-only, no network), return the last line it
    printed (the app logs to stdout too)."""
    run = podman("run", "--rm", "--network=none", *ecs_run_args(image), *env_args(env),
                 image, "python", "-c", code, check=False)
    assert run.returncode == 0, (f"exited {run.returncode}:\n{run.stdout[-2000:]}"
                                 f"{run.stderr[-3000:]}")
    return run.stdout.strip().splitlines()[-1]


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


# --- tests ------------------------------------------------------------------------------------

def test_image_contract(image: str):
    inspect = json.loads(podman("image", "inspect", image).stdout)[0]
    config = inspect["Config"]
    assert config["User"] == "1000:1000"
    assert "8000/tcp" in config["ExposedPorts"]
    assert config["Cmd"] == compose_command("web")
    # Kept only in the docker format (build.sh: --format docker); podman lists it apart.
    assert inspect["Healthcheck"]["Test"][:2] == ["CMD", "python"]
    labels = config["Labels"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert labels["org.opencontainers.image.revision"] == head
    assert f"BOOKING_REVISION={head}" in config["Env"]  # what /health/ reports
    assert "org.opencontainers.image.source" in labels
    assert image.split(":")[-1].startswith(head)
    # Nothing of the build toolchain in the runtime stage.
    tools = podman("run", "--rm", "--network=host", *ecs_run_args(image), image, "sh", "-c",
                   "command -v gcc cc curl || true").stdout.strip()
    assert tools == "", f"found in the image: {tools}"


def test_image_size_within_budget(image: str):
    if METRICS["base image"] != LOCAL_BASE:
        pytest.skip(f"the {IMAGE_BUDGET_MB} MB budget is measured on {LOCAL_BASE}")
    size = METRICS["image size, uncompressed (MB)"]
    assert size < IMAGE_BUDGET_MB, f"{size} MB: see the Dockerfile for what is trimmed"


# The Dockerfile leaves out what these settings make unused: translations other than English
# (no LocaleMiddleware), the browsable API's static files (only with DEBUG), Redoc (no view),
# django.contrib.gis (neither app nor database engine).
SETTINGS_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.urls import get_resolver

def views(resolver):
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):
            yield from views(pattern)
        else:
            view = getattr(pattern.callback, "view_class", None) or pattern.callback
            yield f"{view.__module__}.{view.__qualname__}"

print(json.dumps({
    "middleware": settings.MIDDLEWARE,
    "language": settings.LANGUAGE_CODE,
    "renderers": settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"],
    "apps": settings.INSTALLED_APPS,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "views": sorted(set(views(get_resolver()))),
}))
"""


def test_what_the_image_leaves_out_stays_unused(image: str):
    probe = json.loads(run_python(image, SETTINGS_PROBE, DJANGO_SECRET_KEY="probe"))
    assert "django.middleware.locale.LocaleMiddleware" not in probe["middleware"]
    assert probe["language"].startswith("en")
    assert not any("Browsable" in r for r in probe["renderers"]), probe["renderers"]
    assert not any(app.startswith("django.contrib.gis") for app in probe["apps"])
    assert probe["engine"] == "django.db.backends.postgresql"
    assert not any("Redoc" in view for view in probe["views"]), "Redoc is not collected"
    assert any("SpectacularSwaggerView" in view for view in probe["views"])


# The worker's SMS path with the real twilio client (trimmed to its api/ product) and the real
# requests stack, down to the HTTP adapter: only Session.send is replaced.
TWILIO_PROBE = """
import json, django
django.setup()
import requests
from notification.backends import TwilioBackend

sent = []

def send(session, request, **kwargs):
    sent.append(request)
    response = requests.Response()
    response.status_code = 201
    response.headers["Content-Type"] = "application/json"
    response._content = json.dumps({"sid": "SM" + "1" * 32, "status": "queued"}).encode()
    response.request, response.url = request, request.url
    return response

requests.Session.send = send
sid = TwilioBackend().send(to="+4915112345678", body="Probe")
print(json.dumps({"sid": sid, "url": sent[0].url, "body": sent[0].body}))
"""


def test_twilio_sms_path_works_in_the_image(image: str):
    account = "AC" + "0" * 32
    result = json.loads(run_python(
        image, TWILIO_PROBE, DJANGO_SECRET_KEY="probe", TWILIO_SID=account,
        TWILIO_TOKEN="probe-token", TWILIO_PHONE_NUMBER="+15005550006"))
    assert result["sid"] == "SM" + "1" * 32
    assert result["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{account}/Messages.json"
    assert "To=%2B4915112345678" in result["body"]
    assert "Body=Probe" in result["body"]


def test_web_serves_and_runs_as_uid_1000(web: dict[str, object]):
    status, body = http("GET", f"{web['url']}/health/")
    assert status == 200
    assert body["status"] == "ok"
    assert body["revision"] != "unknown"  # the image's revision (test_image_metadata: HEAD)
    status, body = http("GET", f"{web['url']}/health/ready")
    assert status == 200, body
    assert podman("exec", web["name"], "id", "-u").stdout.strip() == "1000"
    # gunicorn is PID 1 (exec form), so it receives podman stop's SIGTERM itself.
    comm = podman("exec", web["name"], "cat", "/proc/1/cmdline").stdout
    assert "gunicorn" in comm
    # Static files come from the image (collectstatic at build time, served by WhiteNoise).
    status, _ = http("GET", f"{web['url']}/api/docs/")
    assert status == 200


def test_worker_starts(worker: str):
    wait_for("worker ready log line",
             lambda: "is ready for action" in logs(worker), timeout=60)
    assert "Dramatiq" in logs(worker)


def test_booking_through_the_api_and_the_worker_sends_the_sms(
        web: dict[str, object], worker: str):
    url = web["url"]
    status, body = http("POST", f"{url}/_allauth/app/v1/auth/login",
                        {"email": "customer@example.com", "password": DEMO_PASSWORD})
    assert status == 200, body
    token = body["meta"]["access_token"]

    status, salons = http("GET", f"{url}/api/salons/")
    assert status == 200, salons
    salons = salons["results"] if isinstance(salons, dict) else salons
    salon = next(s for s in salons if s["name"] == "Demo Salon Berlin")
    status, services = http("GET", f"{url}/api/salons/{salon['id']}/services/")
    assert status == 200, services
    items = services["results"] if isinstance(services, dict) else services
    haircut = next(s for s in items if s["name"] == "Haircut")

    slot = None
    for days in range(1, 8):  # the next day the salon is open (closed on Sundays)
        day = (date.today() + timedelta(days=days)).isoformat()
        query = f"service={haircut['id']}&date={day}"
        status, slots = http("GET", f"{url}/api/salons/{salon['id']}/availability?{query}")
        assert status == 200, slots
        if slots:
            slot = slots[0]
            break
    assert slot, "no free slot in the next 7 days"

    booking = {"salon": salon["id"], "service": haircut["id"], "staff": slot["staff_ids"][0],
               "starts_at": slot["start"]}
    status, body = http("POST", f"{url}/api/appointments/", booking, token=token,
                        headers={"Idempotency-Key": f"container-test-{SUFFIX}"})
    assert status == 201, body
    assert body["status"] == "booked"
    # The same slot again: the database's exclusion constraint answers 409.
    status, _ = http("POST", f"{url}/api/appointments/", booking, token=token,
                     headers={"Idempotency-Key": f"container-test-{SUFFIX}-again"})
    assert status == 409
    # The web container enqueued the SMS in Redis; the worker container sent it (console).
    wait_for("the worker's SMS log line",
             lambda: f"Ref #{body['id']}" in logs(worker), timeout=60)


def test_static_files_are_hashed_compressed_and_served(web: dict[str, object]):
    """Swagger UI and the admin link only hashed names (WHITENOISE_KEEP_ONLY_HASHED_FILES): each
    is served, cacheable for good and gzipped on request; the unhashed originals are gone."""
    links: set[str] = set()
    for page in ("/api/docs/", "/admin/login/"):
        status, _, html = fetch(f"{web['url']}{page}")
        assert status == 200, page
        found = set(re.findall(r"""["'](/static/[^"'?#]+)""", html.decode()))
        assert found, f"{page} links no static files"
        links |= found
    assert any("swagger-ui-bundle" in link for link in links), links
    assert any(link.startswith("/static/admin/css/") for link in links), links
    hashed = re.compile(r"\.[0-9a-f]{12}\.[a-z0-9]+$")
    for link in sorted(links):
        assert hashed.search(link), f"not a hashed name: {link}"
        status, headers, _ = fetch(f"{web['url']}{link}", {"Accept-Encoding": "gzip"})
        assert status == 200, link
        assert "immutable" in headers.get("Cache-Control", ""), (link, headers)
        if link.endswith((".js", ".css")):
            assert headers.get("Content-Encoding") == "gzip", (link, headers)
        original = re.sub(r"\.[0-9a-f]{12}(\.[a-z0-9]+)$", r"\1", link)
        assert fetch(f"{web['url']}{original}")[0] == 404, f"{original} is still there"


def test_nothing_writes_outside_tmp(web: dict[str, object], worker: str):
    """Read-only root as on ECS: the root file system refuses writes, the processes wrote
    nothing there (no EROFS in the logs, after a booking and an SMS), gunicorn's control
    socket lives in /tmp."""
    touch = podman("exec", web["name"], "touch", "/app/probe", check=False)
    assert touch.returncode != 0
    assert "Read-only file system" in touch.stderr
    for name in (web["name"], worker):
        output = logs(name)
        for error in WRITE_ERRORS:
            lines = [line for line in output.splitlines() if error in line]
            assert not lines, f"{name}: {error}\n" + "\n".join(lines[:10])
    assert "gunicorn.ctl" in podman("exec", web["name"], "ls", "/tmp").stdout


# In the running containers: a temporary file as uid 1000 (the stdlib's tempfile, through
# TMPDIR=/tmp; with no usable directory it raises FileNotFoundError), and /tmp's owner and mode.
TMP_PROBE = ("import os, tempfile; f = tempfile.NamedTemporaryFile(); "
             "s = os.stat('/tmp'); print(os.getuid(), f.name, s.st_uid, oct(s.st_mode & 0o7777))")


def test_uid_1000_writes_tmp_as_fargate_mounts_it(image: str, web: dict[str, object],
                                                   worker: str):
    """/tmp as Fargate mounts the task volume "tmp" (no host path: a bind mount) at /tmp.

    AWS, "Use bind mounts with Amazon ECS", section "Considerations when using bind mounts"
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html): the ECS
    data plane looks for a VOLUME directive whose absolute path equals the containerPath and
    copies the image's data there to the volume; by default the volume is owned by root with
    mode 0755, and the Dockerfile can set other permissions. So without `VOLUME ["/tmp"]`
    uid 1000 cannot write /tmp on Fargate (aws/containers-roadmap #938; govuk-forms/forms-api
    PR #764 fixed the same). ecs_run_args mounts /tmp that way, so the image must declare the
    volume and give /tmp root 1777 (sticky, as on any Linux)."""
    for name in (web["name"], worker):
        probe = podman("exec", name, "python", "-c", TMP_PROBE, check=False)
        assert probe.returncode == 0, f"{name}: {probe.stdout}{probe.stderr[-2000:]}"
        uid, path, owner, mode = probe.stdout.split()
        assert uid == "1000"
        assert path.startswith("/tmp/"), path
        assert (owner, mode) == ("0", "0o1777"), f"{name}: /tmp is {owner} {mode}"
        # The volume initialised from the image's /tmp (not a tmpfs, not an empty bind mount).
        mounts = json.loads(podman("inspect", "--format", "{{json .Mounts}}", name).stdout)
        tmp = [m for m in mounts if m["Destination"] == "/tmp"]
        assert [m["Type"] for m in tmp] == ["volume"], mounts
    assert "/tmp" in image_volumes(image), 'the image must declare VOLUME ["/tmp"]'
    # gunicorn's control socket (XDG_RUNTIME_DIR=/tmp); test_nothing_writes_outside_tmp too.
    assert "gunicorn.ctl" in podman("exec", web["name"], "ls", "/tmp").stdout


def test_stop_is_graceful(web: dict[str, object]):
    """gunicorn handles SIGTERM: it stops its workers and exits 0 (not 143, which would mean
    the signal killed it), well within the stop timeout, so podman never needs SIGKILL."""
    start = time.monotonic()
    podman("stop", "-t", str(STOP_TIMEOUT), web["name"], timeout=STOP_TIMEOUT + 30)
    elapsed = time.monotonic() - start
    METRICS["web: podman stop (s)"] = round(elapsed, 1)
    state = json.loads(podman("inspect", web["name"]).stdout)[0]["State"]
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']}:\n{logs(web['name'])[-2000:]}"
    assert elapsed < STOP_TIMEOUT, f"stop took {elapsed:.1f} s: SIGTERM was not handled"
    assert "Shutting down: Master" in logs(web["name"])


def test_worker_stop_is_graceful(worker: str):
    """rundramatiq execs dramatiq, whose main process is PID 1 and handles SIGTERM: it stops
    its worker processes and exits 0."""
    assert "dramatiq" in podman("exec", worker, "cat", "/proc/1/cmdline").stdout
    start = time.monotonic()
    podman("stop", "-t", str(STOP_TIMEOUT), worker, timeout=STOP_TIMEOUT + 30)
    elapsed = time.monotonic() - start
    METRICS["worker: podman stop (s)"] = round(elapsed, 1)
    state = json.loads(podman("inspect", worker).stdout)[0]["State"]
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']}:\n{logs(worker)[-2000:]}"
    assert elapsed < STOP_TIMEOUT
    assert "Worker has been shut down" in logs(worker)


def test_push_pull_run_through_the_registry(image: str, registry: str, tmp_path: Path):
    tag = image.split(":")[-1]
    remote = f"{registry}/booking-api:{tag}"
    podman("tag", image, remote)
    start = time.monotonic()
    podman("push", "--tls-verify=false", "--quiet", remote)
    METRICS["push to the loopback registry (s)"] = round(time.monotonic() - start, 1)
    podman("rmi", remote)
    assert podman("image", "exists", remote, check=False).returncode == 1

    status, tags = http("GET", f"http://{registry}/v2/booking-api/tags/list")
    assert status == 200
    assert tag in tags["tags"]
    status, manifest = http(
        "GET", f"http://{registry}/v2/booking-api/manifests/{tag}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    assert status == 200
    compressed = sum(layer["size"] for layer in manifest["layers"])
    METRICS["image size, compressed in the registry (MB)"] = round(compressed / 1e6, 1)

    # Pull into an empty image store, so every layer really comes from the registry.
    # (podman refuses a run root path of more than 50 characters: a short one in /tmp.)
    runroot = tempfile.mkdtemp(prefix="booking-pull-", dir="/tmp")
    store = {"CONTAINERS_ROOT": str(tmp_path / "storage"), "CONTAINERS_RUNROOT": runroot}
    try:
        start = time.monotonic()
        podman("pull", "--tls-verify=false", "--quiet", remote, **store)
        METRICS["pull into an empty store (s)"] = round(time.monotonic() - start, 1)
        run = podman("run", "--rm", "--network=host", *ecs_run_args(remote, **store), remote,
                     "python", "-c", "import django; print(django.get_version())", **store)
        assert re.fullmatch(r"5\.2\.\d+", run.stdout.strip())
    finally:
        podman("rmi", "-a", "-f", check=False, **store)
        shutil.rmtree(tmp_path / "storage", ignore_errors=True)
        shutil.rmtree(runroot, ignore_errors=True)
