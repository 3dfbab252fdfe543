"""A release per strategy on the real data plane, and a rollback during a blue/green bake
(`make bench-release-strategies`).

On the environment `make site` left running (real data plane), releases a new tag (the released
image plus one layer) with each of ECS's strategies - rolling, blue_green, canary - and times
what an operator waits for, with a request loop through the production listener counting failed
requests. Then a blue/green release with a long bake, and `make rollback` while it bakes: the time
from the rollback's start until the production listener answers the old version only. Bake times
are shortened for the bench (1 minute; the canary step 1 minute); the real-AWS arithmetic below
uses the inventories' settings. Writes the "release-strategies" section of bench/RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from real_release import (  # noqa: E402
    REPO,
    Traffic,
    health,
    log,
    push_derived,
    timed_make,
)
from results import machine, write_section  # noqa: E402

SHORT_BAKE = "-e release_bake_minutes=1 -e release_canary_bake_minutes=1"


def release_row(strategy: str, base: str) -> tuple[str, str]:
    tag = f"bench-{strategy.replace('_', '')}-{int(time.time())}"
    push_derived(base, tag)
    seconds, _, traffic = timed_make("deploy", f"TAG={tag}", f"STRATEGY={strategy}",
                                     f"ARGS={SHORT_BAKE}")
    failed = sum(1 for code, _ in traffic.answers if code != 200)
    revisions = [revision for _, revision in traffic.answers]
    switched = revisions.index(tag) if tag in revisions else len(revisions)
    mixed = len(set(revisions[switched:])) > 1
    return tag, (f"| {strategy} | {seconds:.0f} s | {len(traffic.answers)} | {failed} | "
                 f"{'old and new mixed after the first new answer' if mixed else 'at once'} |")


class TimedTraffic(Traffic):
    """The request loop, each answer with its time."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[tuple[float, str]] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            self.stamps.append((time.monotonic(), health()[1]))
            time.sleep(0.1)


def rollback_during_bake(base: str) -> str:
    """From `make rollback`'s start: the first answer of the old version (`base`) through the
    production listener, and the last answer of the baking one."""
    tag = f"bench-bake-{int(time.time())}"
    push_derived(base, tag)
    deploy = subprocess.Popen(["make", "deploy", f"TAG={tag}", "STRATEGY=blue_green",
                               "ARGS=-e release_bake_minutes=10"], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 900
    while health()[1] != tag:  # production moved: the bake has begun
        if deploy.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("bench-release-strategies: the blue/green release never moved "
                             "production")
        time.sleep(1)
    traffic = TimedTraffic()
    traffic.start()
    started = time.monotonic()
    subprocess.run(["make", "rollback"], cwd=REPO, capture_output=True, check=True)
    deploy.wait(timeout=600)
    traffic.stopping.set()
    traffic.join()
    stamps = [(at - started, revision) for at, revision in traffic.stamps]
    first_old = next((at for at, revision in stamps if at >= 0 and revision == base), None)
    last_new = max((at for at, revision in stamps if revision == tag), default=None)
    if first_old is None:
        return "never (the old version did not answer again)"
    last = f", the baking version's last answer at {last_new:.1f} s" if last_new is not None else ""
    return f"{first_old:.1f} s after `make rollback` started{last}"


def main() -> int:
    status, revision = health()
    if status != 200:
        raise SystemExit("bench-release-strategies: no release answers through the load "
                         "balancer; run `make site` first (real data plane)")
    header = machine()
    rows, base = [], revision
    for strategy in ("rolling", "blue_green", "canary"):
        base, row = release_row(strategy, base)
        rows.append(row)
        log(row)
    back = rollback_during_bake(base)
    log(f"rollback during the bake: production on the old version after {back}")
    write_section("release-strategies", "\n".join([
        "## A release per strategy on the real data plane",
        "",
        f"- Date and machine: {header}.",
        "- Command: `make bench-release-strategies` (bench/release_strategies.py), on the "
        "environment `make site` left running (real data plane). Bake times shortened for the "
        "bench: 1 minute, the canary step 1 minute (production: 15 minutes, staging's canary "
        "5 + 5). The local rollout pacing: health checks every 5 s, 5 s of draining.",
        "",
        "| strategy | `make deploy` wall | requests through the production listener | failed "
        "| switch |",
        "| --- | ---: | ---: | ---: | --- |",
        *rows,
        "",
        f"`make rollback` during a blue/green bake: production answered the old version "
        f"{back} (the playbook's checks, then StopServiceDeployment ROLLBACK: the rules move "
        "back, the old tasks still run, no task starts).",
        "",
        "Real AWS, from our settings (arithmetic, not measured): a rolling release waits for a "
        "new task's start (image pull, ~30-60 s on Fargate), the container health check "
        "(interval 30 s, one pass), the target group's 2 healthy checks 10 s apart and 30 s of "
        "draining: about 2 min. Blue/green in prod adds the test-listener smoke test (seconds) "
        "and the 15-minute bake before the old tasks stop and the release is recorded: about "
        "17 min, with twice the web tasks meanwhile. Staging's canary: 5 minutes at 10 %, then "
        "a 5-minute bake: about 12 min. A rollback during the bake is a rule change: seconds.",
    ]))
    log("written to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
