"""API benchmark driver: `make bench-api` runs it with the app's Python (standard library only).

1. Starts PostgreSQL and Redis if they are down (tools/local-services.sh) and stops them again
   at the end if it started them.
2. Database ``booking_bench``: created if missing, migrated, seeded by dataset.py unless the
   data set is already there at the right size (and recent); bookings of earlier runs removed.
3. gunicorn exactly as the image runs it (app/gunicorn.conf.py: 3 workers x 2 threads, DEBUG
   off, settings from the environment) on a free loopback port, Redis database 8; and a second
   one, idle except for its own scenarios, with AVAILABILITY_CACHE_ENABLED=false: availability
   as computed on every request (the figure before the cache).
4. JWTs for a pool of seeded customers through the login endpoint (not measured), request files
   from dataset.py's plan, a warm-up, then REPS rounds; each round runs every scenario once
   with wrk (load.lua, or rate.lua for a constant rate), so ratios are taken within a round.
   The cached availability scenarios start from a warm cache: each planned URL is requested
   once before them (the previous round's bookings invalidated most salons); the hit ratio
   of the timed runs is counted from the X-Availability-Cache header.
5. Stops gunicorn, removes the bookings it made, writes the "api" section of bench/RESULTS.md.

Environment: BENCH_REPS (3), BENCH_DURATION (seconds per closed-loop run, 10),
BENCH_RATE_DURATION (seconds per constant-rate run, 20), BENCH_QUICK=1 (1 round of 5 s runs,
for trying changes; writes nothing to RESULTS.md), BENCH_SEED (8).
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
APP = REPO / "app"
sys.path.insert(0, str(HERE.parent))
from results import machine, write_section  # noqa: E402

PYTHON = Path(sys.executable)
GUNICORN = PYTHON.parent / "gunicorn"
RUN_DIR = REPO / ".run" / "bench" / "api"
DB_NAME = "booking_bench"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_DB = "8"
PSQL = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]

QUICK = os.environ.get("BENCH_QUICK") == "1"
REPS = 1 if QUICK else int(os.environ.get("BENCH_REPS", "3"))
DURATION = 5 if QUICK else int(os.environ.get("BENCH_DURATION", "10"))
RATE_DURATION = 5 if QUICK else int(os.environ.get("BENCH_RATE_DURATION", "20"))
SEED = int(os.environ.get("BENCH_SEED", "8"))
THREADS = 2  # wrk threads: one per core, the load generator stays light
CONNECTIONS = 16  # closed loop: enough to keep 3 workers x 2 threads busy


def rate_connections(rate: int) -> int:
    """Connections for a constant-rate run: one per 16 req/s and thread, 2 to 12 per thread.

    Enough that a slow answer rarely holds back the next send, and no more: wrk opens every
    connection at the start, and gunicorn's gthread worker (27) lends a thread for up to 5 s to
    a new connection that has not sent its first request yet. With 24 connections at 10 req/s,
    the first sends are spread over 2.4 s, the waiting connections hold the workers' threads and
    the early requests queue for 1-2 s (measured: p99 1.7 s for the trivial view at 10 req/s
    with 24 connections, 11 ms with 4).
    """
    return THREADS * min(12, max(2, math.ceil(rate / 16)))


POOL = 50  # customers with a token
CONFLICT_SHARE = 0.2
BOOKING_RATE = 10  # req/s for the booking latency target (see bench/README.md)
BOOKING_MAX_BUDGET = 160  # req/s planned for the closed-loop booking run (replays are counted)

TARGETS = {
    "availability_p99_ms": 50.0,
    "availability_rate": 100,
    "availability_ratio": 0.40,
    "booking_p99_ms": 100.0,
}


@dataclass
class Scenario:
    name: str
    label: str
    file: str  # request file in RUN_DIR
    rate: int = 0  # 0: closed loop, as fast as it answers
    server: str = "main"  # "main", or "uncached" (AVAILABILITY_CACHE_ENABLED=false)
    warm_cache: bool = False  # request each planned availability URL once before the run
    runs: list[dict] = field(default_factory=list)

    @property
    def duration(self) -> int:
        return RATE_DURATION if self.rate else DURATION


def log(message: str) -> None:
    print(f"bench-api: {message}", file=sys.stderr, flush=True)


def sh(*args: str, env: dict | None = None, check: bool = True) -> str:
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False, cwd=REPO)
    if check and result.returncode != 0:
        raise SystemExit(
            f"bench-api: {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}{result.stderr[-3000:]}"
        )
    return result.stdout


def app_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        DJANGO_SECRET_KEY="bench-only-not-a-secret",
        DJANGO_SETTINGS_MODULE="booking_api.settings",
        DEBUG="false",
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1",
        DJANGO_STATIC_ROOT=str(RUN_DIR.parent / "staticfiles"),
        # As the image: no byte code written at run time, unbuffered logs.
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        # Tokens outlive the run (default 300 s); logins carry X-Forwarded-For as the ALB sends
        # it (production sets 1), so the login rate limit counts per pooled customer.
        JWT_ACCESS_TOKEN_EXPIRES_IN="7200",
        ALLAUTH_TRUSTED_PROXY_COUNT="1",
    )
    env.update(extra)
    return env


def dataset(*args: str) -> dict:
    return json.loads(sh(str(PYTHON), str(HERE / "dataset.py"), *args, env=app_env()))


def migrate() -> None:
    subprocess.run([str(PYTHON), "manage.py", "migrate", "--noinput"], cwd=APP, env=app_env(),
                   check=True, capture_output=True)


def prepare_database() -> dict:
    exists = sh(*PSQL, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'").strip()
    if not exists:
        sh(*PSQL, "-c", f"CREATE DATABASE {DB_NAME}")
    migrate()
    state = dataset("status")
    if state["ok"]:
        log(f"data set present: {state['counts']}")
        return {"seeded": False, **state}
    log(f"seeding (found {state['counts']}, seeded {state['seeded_at']})")
    sh(*PSQL, "-c", f"DROP DATABASE {DB_NAME} WITH (FORCE)")
    sh(*PSQL, "-c", f"CREATE DATABASE {DB_NAME}")
    migrate()
    seeded = dataset("seed", "--seed", str(SEED))
    log(f"seeded in {seeded['total_s']} s: {seeded['counts']}")
    return {"seeded": True, "seed_s": seeded["total_s"], **dataset("status")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")[:500]


class Server:
    """gunicorn as the image runs it, in its own process group (stopped by its id only)."""

    def __init__(self, name: str = "gunicorn", **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = RUN_DIR / f"{name}.log"
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        static = RUN_DIR.parent / "staticfiles"
        if not (static / "staticfiles.json").exists():
            subprocess.run(
                [str(PYTHON), "manage.py", "collectstatic", "--noinput"],
                cwd=APP,
                env=app_env(),
                check=True,
                capture_output=True,
            )
        with open(self.log_path, "w") as out:
            self.proc = subprocess.Popen(
                [str(GUNICORN), "--config", "gunicorn.conf.py", "booking_api.wsgi:application"],
                cwd=APP,
                env=app_env(GUNICORN_BIND=f"127.0.0.1:{self.port}", **self.env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench-api: gunicorn exited; see {self.log_path}")
            try:
                if http("GET", f"{self.url}/health/")[0] == 200 and len(self.workers()) == 3:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("bench-api: gunicorn not healthy within 60 s")

    def workers(self) -> list[int]:
        if self.proc is None:
            return []
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def db_backends() -> list[int]:
    """PostgreSQL backends serving the benchmark database (their command line names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"postgres: ") and f" {DB_NAME} ".encode() in cmdline:
                pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds used by the gunicorn workers and the benchmark's PostgreSQL backends while
    a run lasts. Backends come and go (CONN_MAX_AGE 60 s), so they are sampled twice a second
    and a backend's last sample counts: at most half a second of a closing one is missed."""

    def __init__(self, workers: list[int]) -> None:
        self.workers = workers
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self, initial: bool = False) -> None:
        for pid in self.workers + db_backends():
            value = cpu_seconds(pid)
            if value is None:
                continue
            if pid not in self.first:
                self.first[pid] = value if initial or pid in self.workers else 0.0
            self.last[pid] = value

    def _loop(self) -> None:
        while not self.done.wait(0.5):
            self._sample()

    def __enter__(self) -> CpuMeter:
        self._sample(initial=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self._sample()

    def used(self) -> tuple[float, float]:
        app = sum(self.last[p] - self.first[p] for p in self.workers if p in self.last)
        db = sum(self.last[p] - self.first[p] for p in self.last if p not in self.workers)
        return app, db


def login_pool(server: Server, plan: dict) -> list[str]:
    def one(i_email: tuple[int, str]) -> str:
        i, email = i_email
        status, body = http(
            "POST",
            f"{server.url}/_allauth/app/v1/auth/login",
            {"email": email, "password": plan["password"]},
            headers={"X-Forwarded-For": f"10.8.{i // 250}.{i % 250 + 1}"},
        )
        if status != 200:
            raise SystemExit(f"bench-api: login of {email} answered {status}: {body}")
        return body["meta"]["access_token"]

    # One at a time: concurrent first token operations in a fresh gthread worker can race in
    # allauth's deferred import of cryptography's ciphers module and answer 500 (see
    # bench/api/analysis.md); serial logins import it in every worker before the load starts.
    return [one(item) for item in enumerate(plan["customers"])]


def write_requests(plan: dict, tokens: list[str], slices: dict[str, int]) -> None:
    def line(method: str, path: str, token: str = "-", body: str = "-") -> str:
        return f"{method}\t{path}\t{token}\t{body}\n"

    (RUN_DIR / "health.tsv").write_text(line("GET", "/health/"))
    (RUN_DIR / "trivial.tsv").write_text(line("GET", "/_allauth/app/v1/config"))
    (RUN_DIR / "availability.tsv").write_text(
        "".join(line("GET", url) for url in plan["availability"])
    )
    (RUN_DIR / "appointments.tsv").write_text(
        "".join(line("GET", "/api/appointments/", token) for token in tokens)
    )
    bookings = iter(plan["booking"])
    for name, count in slices.items():
        rows = []
        for _ in range(count):
            b = next(bookings)
            body = {k: b[k] for k in ("salon", "service", "staff", "starts_at")}
            body["notes"] = plan["load_note"]
            rows.append(
                line(
                    "POST",
                    "/api/appointments/",
                    tokens[b["customer"]],
                    json.dumps(body, separators=(",", ":")),
                )
            )
        (RUN_DIR / f"{name}.tsv").write_text("".join(rows))


def warm_cache(server: Server, urls: list[str]) -> dict[str, object]:
    """Request every distinct availability URL once (4 at a time): the cached scenarios then
    measure a warm cache, as the service runs once its first requests have passed."""

    def one(path: str) -> str:
        with urllib.request.urlopen(f"{server.url}{path}", timeout=30) as response:
            response.read()
            return response.headers.get("X-Availability-Cache", "none")

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        answers = Counter(pool.map(one, sorted(set(urls))))
    return {"seconds": round(time.monotonic() - started, 1), **answers}


def wrk(server: Server, file: str, duration: int, rate: int = 0, connections: int = 0) -> dict:
    out = RUN_DIR / "wrk-out.json"
    out.unlink(missing_ok=True)
    script = HERE / ("rate.lua" if rate else "load.lua")
    conns = connections or (rate_connections(rate) if rate else CONNECTIONS)
    args = [
        "wrk",
        "-t",
        str(THREADS),
        "-c",
        str(conns),
        "-d",
        f"{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        server.url,
        "--",
        str(RUN_DIR / file),
        str(THREADS),
    ]
    if rate:
        args.append(str(rate))
    load_before = os.getloadavg()[0]
    with CpuMeter(server.workers()) as meter:
        subprocess.run(
            args,
            env={**os.environ, "BENCH_OUT": str(out)},
            check=True,
            capture_output=True,
            text=True,
        )
    result = json.loads(out.read_text())
    requests = max(result["requests"], 1)
    app_cpu, db_cpu = meter.used()
    result["app_cpu_ms"] = 1000 * app_cpu / requests
    result["db_cpu_ms"] = 1000 * db_cpu / requests
    result["load"] = (load_before, os.getloadavg()[0])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary(s: Scenario) -> dict[str, float]:
    runs = s.runs
    total = {}
    for r in runs:
        for status, count in r["statuses"].items():
            total[status] = total.get(status, 0) + count
    n = sum(total.values()) or 1
    kinds = ("connect", "read", "write", "timeout")
    socket_errors = sum(r["errors"][k] for r in runs for k in kinds)
    cache: dict[str, int] = {}
    for r in runs:
        for answer, count in r.get("cache", {}).items():
            cache[answer] = cache.get(answer, 0) + count
    return {
        "rps": med([r["rps"] for r in runs]),
        "rps_min": min(r["rps"] for r in runs),
        "rps_max": max(r["rps"] for r in runs),
        "p50": med([r["latency_us"]["p50"] / 1000 for r in runs]),
        "p95": med([r["latency_us"]["p95"] / 1000 for r in runs]),
        "p99": med([r["latency_us"]["p99"] / 1000 for r in runs]),
        "p99_max": max(r["latency_us"]["p99"] / 1000 for r in runs),
        "app_cpu_ms": med([r["app_cpu_ms"] for r in runs]),
        "db_cpu_ms": med([r["db_cpu_ms"] for r in runs]),
        "requests": n,
        "share_5xx": sum(c for k, c in total.items() if k.startswith("5")) / n,
        "count_5xx": sum(c for k, c in total.items() if k.startswith("5")),
        "statuses": total,
        "cache": cache,
        "hit_ratio": cache.get("hit", 0) / (sum(cache.values()) or 1),
        "socket_errors": socket_errors,
        "wrapped": sum(r["wrapped"] for r in runs),
        "load_min": min(min(r["load"]) for r in runs),
        "load_max": max(max(r["load"]) for r in runs),
    }


def main() -> None:
    started = time.monotonic()
    command = "make bench-api" + (" BENCH_QUICK=1" if QUICK else "")
    header = machine()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    if shutil.which("wrk") is None:
        raise SystemExit("bench-api: wrk is not installed (make bench-api installs it)")
    run_markers = {p.name for p in (REPO / ".run").glob("*.started")}
    sh(str(REPO / "tools" / "local-services.sh"), "up")
    started_services = {p.name for p in (REPO / ".run").glob("*.started")} - run_markers

    server = Server()
    # Availability as before the cache, side by side: same code, data and machine.
    uncached = Server("gunicorn-uncached", AVAILABILITY_CACHE_ENABLED="false")
    servers = {"main": server, "uncached": uncached}
    try:
        db = prepare_database()
        log(f"removed earlier load bookings: {dataset('reset')}")
        sh("redis-cli", "-n", REDIS_DB, "flushdb")
        booking_slices = {"booking-warmup": 100}
        for rep in range(REPS):
            booking_slices[f"booking-max-{rep}"] = BOOKING_MAX_BUDGET * DURATION
            booking_slices[f"booking-rate-{rep}"] = int(BOOKING_RATE * RATE_DURATION * 1.3)
        plan_file = RUN_DIR / "plan.json"
        planned = dataset(
            "plan",
            "--seed",
            str(SEED),
            "--bookings",
            str(sum(booking_slices.values())),
            "--conflict-share",
            str(CONFLICT_SHARE),
            "--pool",
            str(POOL),
            "--out",
            str(plan_file),
        )
        log(f"planned {planned}")
        plan = json.loads(plan_file.read_text())

        server.start()
        log(f"gunicorn on {server.url}, workers {server.workers()}")
        uncached.start()
        log(f"gunicorn (availability cache off) on {uncached.url}, workers {uncached.workers()}")
        tokens = login_pool(server, plan)
        write_requests(plan, tokens, booking_slices)

        scenarios = [
            Scenario("health", "`/health/` (first middleware only)", "health.tsv"),
            Scenario("trivial", "trivial view `/_allauth/app/v1/config`", "trivial.tsv"),
            Scenario(
                "availability", "availability, cache warm", "availability.tsv", warm_cache=True
            ),
            Scenario(
                "availability@100",
                "availability, cache warm, at 100 req/s",
                "availability.tsv",
                rate=TARGETS["availability_rate"],
            ),
            # One request at a time, mostly: its latency apart from the queueing of the rest.
            Scenario(
                "availability@5", "availability, cache warm, at 5 req/s", "availability.tsv", rate=5
            ),
            Scenario(
                "availability-off",
                "availability, cache off (computed every time)",
                "availability.tsv",
                server="uncached",
            ),
            Scenario(
                "availability-off@100",
                "availability, cache off, at 100 req/s",
                "availability.tsv",
                rate=TARGETS["availability_rate"],
                server="uncached",
            ),
            Scenario("appointments", "my appointments", "appointments.tsv"),
            Scenario("booking", "booking (20 % conflicts)", "booking-max-{rep}.tsv"),
            Scenario(
                f"booking@{BOOKING_RATE}",
                f"booking at {BOOKING_RATE} req/s",
                "booking-rate-{rep}.tsv",
                rate=BOOKING_RATE,
            ),
        ]
        log("warm-up")
        for file in ("health.tsv", "trivial.tsv", "availability.tsv", "appointments.tsv"):
            wrk(server, file, 3, connections=6)
        wrk(uncached, "availability.tsv", 3, connections=6)
        wrk(server, "booking-warmup.tsv", 2, rate=20, connections=6)

        ratios: dict[str, list[float]] = {"cached": [], "uncached": []}
        warm_passes: list[dict] = []
        for rep in range(REPS):
            for s in scenarios:
                target = servers[s.server]
                if s.warm_cache:
                    warm_passes.append(warm_cache(target, plan["availability"]))
                    log(f"round {rep + 1}/{REPS} cache warmed: {warm_passes[-1]}")
                result = wrk(target, s.file.format(rep=rep), s.duration, rate=s.rate)
                s.runs.append(result)
                log(
                    f"round {rep + 1}/{REPS} {s.name}: {result['rps']:.0f} req/s, "
                    f"p99 {result['latency_us']['p99'] / 1000:.1f} ms, "
                    f"statuses {result['statuses']}, cache {result.get('cache')}, "
                    f"load {result['load'][1]:.2f}"
                )
            by_name = {s.name: s.runs[-1] for s in scenarios}
            trivial_rps = by_name["trivial"]["rps"]
            ratios["cached"].append(by_name["availability"]["rps"] / trivial_rps)
            ratios["uncached"].append(by_name["availability-off"]["rps"] / trivial_rps)
    finally:
        uncached.stop()
        server.stop()
        try:
            dataset("reset")
        finally:
            subprocess.run(
                ["redis-cli", "-n", REDIS_DB, "flushdb"], capture_output=True, check=False
            )
            if started_services:
                sh(str(REPO / "tools" / "local-services.sh"), "down")

    elapsed = time.monotonic() - started
    markdown = report(scenarios, ratios, warm_passes, db, header, command, elapsed)
    (RUN_DIR / "section.md").write_text(markdown)
    if QUICK:
        print(markdown)
        log("quick run: bench/RESULTS.md left alone")
    else:
        write_section("api", markdown)
        log(f"bench/RESULTS.md section api written ({elapsed:.0f} s)")


def report(
    scenarios: list[Scenario],
    ratios: dict[str, list[float]],
    warm_passes: list[dict],
    db: dict,
    header: str,
    command: str,
    elapsed: float,
) -> str:
    s = {sc.name: summary(sc) for sc in scenarios}
    ratio = med(ratios["cached"])
    ratio_off = med(ratios["uncached"])
    avail = s["availability@100"]
    avail_off = s["availability-off@100"]
    cached_names = ("availability", "availability@100", "availability@5")
    hits = sum(s[n]["cache"].get("hit", 0) for n in cached_names)
    answers = sum(sum(s[n]["cache"].values()) for n in cached_names)
    hit_ratio = hits / (answers or 1)
    hit_text = ", ".join(f"{n} {100 * s[n]['hit_ratio']:.1f} %" for n in cached_names)
    warm_s = med([float(w["seconds"]) for w in warm_passes])
    warm_misses = med([float(w.get("miss", 0)) for w in warm_passes])
    book = s[f"booking@{BOOKING_RATE}"]
    rate_ok = avail["rps"] >= 0.95 * TARGETS["availability_rate"]

    def row(sc: Scenario) -> str:
        x = s[sc.name]
        mode = f"{sc.rate} req/s" if sc.rate else f"closed, {CONNECTIONS} conn."
        return (
            f"| {sc.label} | {mode} | {x['rps']:.0f} ({x['rps_min']:.0f}-{x['rps_max']:.0f}) "
            f"| {x['p50']:.1f} | {x['p95']:.1f} | {x['p99']:.1f} | {x['app_cpu_ms']:.2f} "
            f"| {x['db_cpu_ms']:.2f} | {x['count_5xx']} |"
        )

    booking_statuses = {}
    for name in ("booking", f"booking@{BOOKING_RATE}"):
        for k, v in s[name]["statuses"].items():
            booking_statuses[k] = booking_statuses.get(k, 0) + v
    n_book = sum(booking_statuses.values()) or 1
    status_text = ", ".join(
        f"{k}: {v} ({100 * v / n_book:.1f} %)" for k, v in sorted(booking_statuses.items())
    )
    seeding = (
        f"this run seeded the data set in {db.get('seed_s')} s"
        if db.get("seeded")
        else "the data set was there already"
    )
    wrapped = s["booking"]["wrapped"] + book["wrapped"]
    loads = [x for v in s.values() for x in (v["load_min"], v["load_max"])]
    met = {
        "availability_p99": avail["p99"] <= TARGETS["availability_p99_ms"] and rate_ok,
        "ratio": ratio >= TARGETS["availability_ratio"],
        "booking_p99": book["p99"] <= TARGETS["booking_p99_ms"],
    }

    def yes(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    lines = [
        "## API (gunicorn as in the image, real PostgreSQL)",
        "",
        f"- Date and machine: {header}; load average seen during the runs "
        f"{min(loads):.2f}-{max(loads):.2f} (other jobs share the machine).",
        f"- Command: `{command}` ({elapsed / 60:.1f} min; {seeding}).",
        f"- Data set (`booking_bench`, seed {SEED}): {db['counts']['salons']} salons, "
        f"{db['counts']['staff']} staff, {db['counts']['customers']} customers, "
        f"{db['counts']['appointments']} appointments (3 weeks back, 2 weeks ahead).",
        f"- Server: `gunicorn --config gunicorn.conf.py` (3 workers x 2 threads, DEBUG off, JSON "
        f"access log), PostgreSQL 15 and Redis on loopback. Load: wrk {THREADS} threads from a "
        f"second process; closed loop with {CONNECTIONS} connections for throughput, "
        "constant rate (2 connections per 16 req/s, at least 4) for latency at a given load.",
        f"- Figures: median of {REPS} rounds (throughput range in brackets); each round runs "
        f"every scenario once, {DURATION} s closed loop / {RATE_DURATION} s constant rate. "
        "CPU ms/request: gunicorn workers and PostgreSQL backends, from /proc.",
        "",
        "| scenario | load | req/s | p50 ms | p95 ms | p99 ms | app CPU ms/req "
        "| DB CPU ms/req | 5xx |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[row(sc) for sc in scenarios],
        "",
        f"Availability / trivial view throughput, per round: cache warm "
        f"{', '.join(f'{100 * r:.1f} %' for r in ratios['cached'])} (median {100 * ratio:.1f} %); "
        f"cache off {', '.join(f'{100 * r:.1f} %' for r in ratios['uncached'])} "
        f"(median {100 * ratio_off:.1f} %).",
        f"Availability cache: hit ratio of the cache-warm runs {100 * hit_ratio:.1f} % of "
        f"{answers} answers ({hit_text}; `X-Availability-Cache` header counted by wrk). Each "
        f"round first requests every planned URL once (median {warm_s:.1f} s, "
        f"{warm_misses:.0f} misses): a booking retires its salon's entries, and the previous "
        "round's booking scenarios (about 1,000 bookings over 200 salons) retired most. "
        "The cache-off rows are a second gunicorn with `AVAILABILITY_CACHE_ENABLED=false`, "
        "idle while the others run.",
        f"Booking responses (both booking scenarios): {status_text}; 409 is the expected "
        f"answer for the {100 * CONFLICT_SHARE:.0f} % of requests planned on taken slots."
        + (
            f" Requests replayed after a thread ran out of planned slots: {wrapped}."
            if wrapped
            else ""
        ),
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| availability p99 <= {TARGETS['availability_p99_ms']:.0f} ms at "
        f"{TARGETS['availability_rate']} req/s | cache warm: {avail['p99']:.1f} ms (worst round "
        f"{avail['p99_max']:.1f} ms) at {avail['rps']:.0f} req/s, hit ratio "
        f"{100 * avail['hit_ratio']:.1f} %; cache off: {avail_off['p99']:.1f} ms (worst "
        f"{avail_off['p99_max']:.1f} ms) | {yes(met['availability_p99'])} |",
        f"| availability throughput >= {100 * TARGETS['availability_ratio']:.0f} % of the "
        f"trivial view's | cache warm: {100 * ratio:.1f} % ({s['availability']['rps']:.0f} vs "
        f"{s['trivial']['rps']:.0f} req/s), hit ratio "
        f"{100 * s['availability']['hit_ratio']:.1f} %; cache off: {100 * ratio_off:.1f} % "
        f"({s['availability-off']['rps']:.0f} req/s) | {yes(met['ratio'])} |",
        f"| booking p99 <= {TARGETS['booking_p99_ms']:.0f} ms (at {BOOKING_RATE} req/s) | "
        f"{book['p99']:.1f} ms | {yes(met['booking_p99'])} |",
    ]
    notes = HERE / "analysis.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
