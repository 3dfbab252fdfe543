"""Container benchmark (`make bench-container`): image size and cold start to healthy.

- Builds the image of the current commit with tools/container/build.sh (layer cache: a no-op
  when nothing changed) on the project's image store.
- Size uncompressed: ``podman image inspect`` (what docs/container-image.md's size table reports).
  Size compressed: the image pushed to the loopback registry (tools/container/registry.sh,
  reused if running, else started and stopped again), the manifest's layer sizes added up:
  what a registry stores and a Fargate task pulls.
- Cold start: ``podman run`` of the image as ECS runs it (read-only root, writable /tmp, host
  network, the local PostgreSQL and Redis) with its default command, timed from the
  ``podman run`` call to the first 200 from ``/health/`` (and from ``/health/ready``, which
  needs PostgreSQL and Redis), polled every 20 ms; BENCH_RUNS (3) containers one after the
  other, median reported. The image is already in the local store (no pull) and its files are
  likely in the page cache: this is the start of the process, not of a fresh host.

Writes the "container" section of bench/RESULTS.md. Standard library only.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from results import machine, write_section  # noqa: E402

TOOLS = REPO / "tools" / "container"
PODMAN = str(TOOLS / "podman.sh")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
# As tests/container runs it (and ECS): read-only root, a writable /tmp.
READ_ONLY = [
    "--read-only",
    "--read-only-tmpfs=false",
    "--tmpfs",
    "/tmp:rw,mode=1777",
    "-e",
    "TMPDIR=/tmp",
]
DB_NAME = "booking_bench"
IMAGE_BUDGET_MB = 200  # the image target (tests/container/test_image.py)


def log(message: str) -> None:
    print(f"bench-container: {message}", file=sys.stderr, flush=True)


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERS_CONF": str(TOOLS / "containers.conf")}
    result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    if check and result.returncode != 0:
        raise SystemExit(
            f"bench-container: {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout[-2000:]}{result.stderr[-3000:]}"
        )
    return result


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def compressed_size(ref: str) -> tuple[float, float]:
    """MB of the image's layers in the loopback registry, and the push time in seconds."""
    registry = str(TOOLS / "registry.sh")
    was_running = run(registry, "status", check=False).returncode == 0
    if not was_running:
        run(registry, "up")
    try:
        address = run(registry, "url").stdout.strip()
        tag = ref.rsplit(":", 1)[1]
        remote = f"{address}/booking-api-bench:{tag}"
        run(PODMAN, "tag", ref, remote)
        start = time.monotonic()
        run(PODMAN, "push", "--tls-verify=false", "--quiet", remote)
        pushed = time.monotonic() - start
        run(PODMAN, "rmi", remote, check=False)
        request = urllib.request.Request(
            f"http://{address}/v2/booking-api-bench/manifests/{tag}",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            manifest = json.loads(response.read())
        return sum(layer["size"] for layer in manifest["layers"]) / 1e6, pushed
    finally:
        if not was_running:
            run(registry, "down", check=False)


def cold_start(ref: str, n: int) -> dict[str, float]:
    port = free_port()
    name = f"booking-bench-cold-{os.getpid()}-{n}"
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": "redis://127.0.0.1:6379/8",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    env_args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
    live, ready = f"http://127.0.0.1:{port}/health/", f"http://127.0.0.1:{port}/health/ready"
    start = time.monotonic()
    try:
        run(PODMAN, "run", "-d", "--name", name, "--network=host", *READ_ONLY, *env_args, ref)
        started = time.monotonic()
        while status(live) != 200:
            if time.monotonic() - start > 90:
                logs = run(PODMAN, "logs", name, check=False)
                raise SystemExit(
                    f"bench-container: not healthy within 90 s:\n{logs.stdout[-2000:]}"
                    f"{logs.stderr[-2000:]}"
                )
            time.sleep(0.02)
        healthy = time.monotonic()
        while status(ready) != 200 and time.monotonic() - start < 90:
            time.sleep(0.02)
        is_ready = time.monotonic()
    finally:
        run(PODMAN, "rm", "-f", "-t", "0", name, check=False)
    return {"run_returned": started - start, "health": healthy - start, "ready": is_ready - start}


def main() -> None:
    begun = time.monotonic()
    header = machine()
    run(str(TOOLS / "setup.sh"))
    markers = {p.name for p in (REPO / ".run").glob("*.started")}
    run(str(REPO / "tools" / "local-services.sh"), "up")
    started_services = {p.name for p in (REPO / ".run").glob("*.started")} - markers
    try:
        if not run(
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-qAt",
            "-c",
            f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'",
        ).stdout.strip():
            run(
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-q",
                "-c",
                f"CREATE DATABASE {DB_NAME}",
            )
        build_start = time.monotonic()
        build = run(str(TOOLS / "build.sh"))
        build_s = time.monotonic() - build_start
        ref = build.stdout.strip().splitlines()[-1]
        log(f"image {ref} ({build_s:.0f} s)")
        size = int(run(PODMAN, "image", "inspect", "--format", "{{.Size}}", ref).stdout) / 1e6
        compressed, push_s = compressed_size(ref)
        log(f"size {size:.1f} MB, compressed {compressed:.1f} MB")
        starts = []
        for n in range(RUNS):
            starts.append(cold_start(ref, n))
            log(f"cold start {n + 1}/{RUNS}: {starts[-1]}")
    finally:
        if started_services:
            run(str(REPO / "tools" / "local-services.sh"), "down", check=False)

    def med(key: str) -> float:
        return statistics.median(s[key] for s in starts)

    def each(key: str) -> str:
        return ", ".join(f"{s[key]:.2f}" for s in starts)

    elapsed = time.monotonic() - begun
    markdown = "\n".join(
        [
            "## Container image",
            "",
            f"- Date and machine: {header}.",
            f"- Command: `make bench-container` ({elapsed / 60:.1f} min, of which the image build "
            f"{build_s:.0f} s: a cached rebuild when the commit's layers are in the store).",
            f"- Image: `{ref}` (base as tools/container/base-image.sh provides it).",
            "",
            "| figure | value |",
            "| --- | ---: |",
            f"| image size, uncompressed (`podman image inspect`) | {size:.1f} MB |",
            f"| image size, compressed (layers in the loopback registry) | {compressed:.1f} MB |",
            f"| push to the loopback registry | {push_s:.1f} s |",
            f"| `podman run` to first 200 from `/health/`, median of {RUNS} "
            f"| {med('health'):.2f} s |",
            f"| `podman run` to first 200 from `/health/ready` (PostgreSQL, Redis), median | "
            f"{med('ready'):.2f} s |",
            f"| of which `podman run -d` itself (container created and started), median | "
            f"{med('run_returned'):.2f} s |",
            "",
            f"Each run, to `/health/` in s: {each('health')}; to `/health/ready`: {each('ready')}. "
            "Read-only root and a tmpfs on /tmp as on ECS; host network; the image already in the "
            "local store, so no pull is included (on Fargate the pull of the compressed size above "
            "comes first).",
            "",
            "| target | measured | |",
            "| --- | --- | --- |",
            f"| image under {IMAGE_BUDGET_MB} MB uncompressed (issue's image work) "
            f"| {size:.1f} MB | "
            f"{'**met**' if size < IMAGE_BUDGET_MB else '**missed**'} |",
            "| cold start to healthy | no number set by the issue; the image HEALTHCHECK start "
            f"period is 40 s and the figure is {med('health'):.1f} s | reported |",
        ]
    )
    write_section("container", markdown)
    log(f"bench/RESULTS.md section container written ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
