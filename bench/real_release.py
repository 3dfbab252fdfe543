"""A release and a rollback on the real data plane (`make bench-real-release`).

On the environment `make site` left running (its default data plane, `real`: ECS tasks as
containers behind the local load balancer, real PostgreSQL and Redis), times what an operator
waits for:

1. `make deploy TAG=<new>`: validate, register the task definitions, migrate (a one-off task),
   roll web and worker (new tasks started, container health checks, target health, the old tasks
   drained for the deregistration delay, stopped), smoke test through the load balancer, record.
   The new tag is the released image with one more layer (`ENV BOOKING_REVISION=<new>`), so the
   rollout really replaces every task.
2. `make rollback`: back to the release before, the same rollout the other way.

Meanwhile a request loop through the load balancer (`/health/`, by the served name, trusting the
local CA) counts failed requests: the figure that says the rollout drains as it should.
Writes the "real-release" section of bench/RESULTS.md. Standard library only, plus podman
through tools/container/podman.sh.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from results import machine, write_section  # noqa: E402

PODMAN = [str(REPO / "tools" / "container" / "podman.sh")]
SERVED = "https://api.local.booking-api.example.com"
CA = REPO / ".run" / "local-ca" / "ca.pem"
REGISTRY = "127.0.0.1:5002"
REPOSITORY = "booking-api-local"


def log(message: str) -> None:
    print(f"bench-real-release: {message}", file=sys.stderr, flush=True)


def health() -> tuple[int, str]:
    context = ssl.create_default_context(cafile=str(CA))
    try:
        with urllib.request.urlopen(f"{SERVED}/health/", timeout=5, context=context) as answer:
            return answer.status, json.loads(answer.read()).get("revision", "")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError as error:
        return 0, repr(error)


class Traffic(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.answers: list[tuple[int, str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.answers.append(health())
            time.sleep(0.1)


def push_derived(base: str, tag: str) -> None:
    """The released image `base` plus one layer (ENV BOOKING_REVISION=<tag>), pushed as `tag`:
    a release of it replaces every task."""
    remote = f"{REGISTRY}/{REPOSITORY}:{tag}"
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "Containerfile").write_text(
            f"FROM {REGISTRY}/{REPOSITORY}:{base}\nENV BOOKING_REVISION={tag}\n")
        subprocess.run([*PODMAN, "build", "--quiet", "--format", "docker", "-t", remote,
                        context], check=True, capture_output=True)
    subprocess.run([*PODMAN, "push", "--quiet", "--tls-verify=false", remote], check=True,
                   capture_output=True)


def timed_make(*args: str) -> tuple[float, str, Traffic]:
    traffic = Traffic()
    traffic.start()
    started = time.monotonic()
    # profile_tasks prints each task's time at the end of the run; nothing else changes.
    env = {**os.environ, "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks"}
    result = subprocess.run(["make", *args], cwd=REPO, capture_output=True, text=True,
                            env=env, check=False)
    seconds = time.monotonic() - started
    traffic.stopping.set()
    traffic.join()
    if result.returncode != 0:
        sys.stderr.write((result.stdout + result.stderr)[-6000:])
        raise SystemExit(f"bench-real-release: make {' '.join(args)} failed")
    log(f"make {' '.join(args)}: {seconds:.1f} s, {len(traffic.answers)} requests")
    return seconds, result.stdout, traffic


def profiled(output: str, task: str) -> str:
    match = re.search(re.escape(task) + r"[^\n]*?\s-+\s([0-9.]+)s", output)
    return f"{float(match.group(1)):.0f} s" if match else "n/a"


def rollout_settings() -> str:
    """The settings that pace a rollout, as the local inventory and group_vars give them."""
    found = {}
    for path in (REPO / "group_vars" / "all" / "alb.yml",
                 REPO / "roles" / "ecs_service" / "defaults" / "main.yml",
                 REPO / "inventories" / "local" / "group_vars" / "local" / "main.yml"):
        for name, value in re.findall(
                r"^(ecs_service_web_health_check_interval|alb_health_check_interval|"
                r"alb_deregistration_delay|ecs_service_minimum_healthy_percent|"
                r"ecs_service_maximum_percent): *([0-9]+)", path.read_text(), re.MULTILINE):
            found[name] = value  # later files win, as the inventory does
    return ", ".join(f"{name} {value}" for name, value in sorted(found.items()))


def main() -> int:
    status, revision = health()
    if status != 200:
        raise SystemExit("bench-real-release: no release answers through the load balancer; "
                         "run `make site` first (real data plane)")
    header = machine()
    tag = f"bench-{int(time.time())}"
    push_derived(revision, tag)
    deploy_s, deploy_out, deploy_traffic = timed_make("deploy", f"TAG={tag}")
    rollback_s, rollback_out, rollback_traffic = timed_make("rollback")
    rows = []
    for name, seconds, output, traffic, ends_on in (
            (f"`make deploy TAG={tag}`", deploy_s, deploy_out, deploy_traffic, tag),
            ("`make rollback`", rollback_s, rollback_out, rollback_traffic, revision)):
        failed = sum(1 for code, _ in traffic.answers if code != 200)
        last = traffic.answers[-1][1] if traffic.answers else ""
        rows.append(f"| {name} | {seconds:.0f} s | "
                    f"{profiled(output, 'Migrate the database with the new revision')} | "
                    f"{profiled(output, 'Wait for both rollouts to complete')} | "
                    f"{len(traffic.answers)} | {failed} | "
                    f"{'yes' if last == ends_on else 'no: ' + last} |")
    write_section("real-release", "\n".join([
        "## Release and rollback on the real data plane",
        "",
        f"- Date and machine: {header}.",
        "- Command: `make bench-real-release` (bench/real_release.py), on the environment "
        "`make site` left running (real data plane: two web tasks and a worker as containers "
        "behind the local load balancer, real PostgreSQL and Redis). The new tag is the "
        "released image plus one layer, so every task is replaced.",
        f"- Rollout settings as the local inventory had them: {rollout_settings()}.",
        "",
        "| command | wall | migration | rollout (both services) | requests through the LB "
        "meanwhile | failed | ends on the target revision |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        *rows,
        "",
        "`make site` from empty on this data plane: see \"`make site` on a fresh machine\" "
        "below (`make bench-fresh-site`).",
    ]))
    log("written to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
