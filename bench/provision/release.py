"""`make bench-release`: deploy.yml on the emulator, split into phases; the real-AWS arithmetic.

Its own emulator (a port in 5460-5479) with BOOKING_EMULATOR_ECS_ROLLOUT_SECONDS (tools/moto_ecs.py:
an ECS deployment completes that many seconds after it started; default here 5 s, standing for
the real rollout, which the arithmetic below puts at minutes). The minimum the release needs is
made with boto3 (tests/release_env.py provision(): VPC, subnets, security group, ALB and target
group, cluster, repository, database), two fake images are pushed into the emulator's ECR
(release_env.push), then deploy.yml of tag A (the first release: creates the services), and
BENCH_RUNS (default 3) new releases alternating tags B, A, B... (each: task definitions, migration
task, rollout, record), with release_registry "" so ECR is used. Writes the `release` section of
bench/RESULTS.md (BENCH_QUICK=1: one new release, printed instead).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    REPO,
    EmulatorProcess,
    Run,
    free_port,
    load_average,
    load_range,
    machine,
    median,
    run_playbook,
    write_section,
)

ROLLOUT_SECONDS = float(os.environ.get("BENCH_ROLLOUT_SECONDS", "5"))
TAGS = ("bench-a", "bench-b")

# Phase of each task of deploy.yml, by its name (the roles' task names); a task not named here
# goes by its role.
PHASES = [
    ("checks and inputs", ("Validating arguments", "Check that the inventory names",
                           "Validate the inputs",
                           "Validate each role", "Refuse the run", "Check the inputs",
                           "Check the image tag", "Check the rollback inputs",
                           "Read the release record", "Build and push", "Settle the tag",
                           "Say that there is nothing")),
    ("image lookup", ("Release the image", "Check that the image is in the registry",
                      "Look up the image tag", "Refuse a tag that is not")),
    ("discovery (account, subnets, security group, target group)", (
        "Register the task definitions of the release", "Look up the account",
        "Find the private subnets", "Find the app security group", "Find the web target group",
        "Settle where the tasks run", "Publish where one-off tasks",
        "Check that the environment is provisioned")),
    ("task definitions", ("Register the web, worker and migrate", "Publish the revisions")),
    ("migration task", ("Decide whether this is a new release", "Ask the new revision",
                        "Snapshot the database", "Migrate the database")),
    ("rollout start", ("Roll the web and worker services", "Start the rollout")),
    ("rollout wait", ("Wait for both rollouts",)),
    ("autoscaling", ("Scale the services",)),
    ("smoke test and record", ("Smoke-test", "Record the release", "Publish the release")),
]


def phase_of(task: dict[str, Any]) -> str:
    for phase, prefixes in PHASES:
        if task["name"].startswith(prefixes):
            return phase
    return f"other ({task['role'] or 'play'})"


def phases(run: Run) -> dict[str, float]:
    seconds: dict[str, float] = defaultdict(float)
    for task in run.tasks:
        seconds[phase_of(task)] += task["seconds"] or 0.0
    seconds["ansible start-up and play set-up (before the first task, after the last)"] = (
        run.wall - sum(t["seconds"] or 0.0 for t in run.tasks))
    return seconds


def migrated(run: Run) -> bool:
    return any(t["name"].startswith("Migrate the database") and t["ok"] for t in run.tasks)


def rolled(run: Run) -> bool:
    return any(t["name"].startswith("Wait for both rollouts") and t["ok"] for t in run.tasks)


def arithmetic() -> list[str]:
    """The real-AWS rollout of our settings, step by step (values read from the repository)."""
    import yaml

    def load(path: str) -> dict[str, Any]:
        return yaml.safe_load((REPO / path).read_text()) or {}

    alb = {**load("roles/alb/defaults/main.yml"), **load("group_vars/all/alb.yml")}
    svc = load("roles/ecs_service/defaults/main.yml")
    containers = load("roles/ecs_service/vars/main.yml")["__ecs_service_containers"]
    web = containers["web"]
    health = web["healthCheck"]
    interval, threshold = int(alb["alb_health_check_interval"]), int(alb["alb_healthy_threshold"])
    timeout, dereg = int(alb["alb_health_check_timeout"]), int(alb["alb_deregistration_delay"])
    grace = int(svc["ecs_service_web_health_check_grace_seconds"])
    min_pct = int(svc["ecs_service_minimum_healthy_percent"])
    max_pct = int(svc["ecs_service_maximum_percent"])
    desired = int(svc["ecs_service_web_desired_count"])
    worker_desired = int(svc["ecs_service_worker_desired_count"])
    worker_stop = int(svc["ecs_service_worker_stop_timeout"])
    worker_drain_s = int(svc["ecs_service_worker_shutdown_timeout_ms"]) // 1000
    web_stop = int(web["stopTimeout"])
    poll = int(svc["ecs_service_poll_seconds"])
    start_lo, start_hi = 30, 60
    alb_healthy = threshold * interval
    container_healthy = int(health["interval"])
    new_healthy = max(alb_healthy, container_healthy)
    stop = 5  # gunicorn's graceful stop of idle workers, well under stopTimeout
    best = start_lo + new_healthy + dereg + stop
    worst = start_hi + new_healthy + dereg + stop
    extra_new = desired * max_pct // 100 - desired
    return [
        "### Real-AWS rollout implied by our settings",
        "",
        "Read from `group_vars/all/alb.yml`, `roles/alb/defaults/main.yml`, "
        "`roles/ecs_service/defaults/main.yml` and `roles/ecs_service/vars/main.yml`: ALB "
        f"health check every {interval} s, healthy after {threshold} successes, timeout "
        f"{timeout} s, deregistration delay {dereg} s; web service {desired} tasks, "
        f"minimumHealthyPercent {min_pct} / maximumPercent {max_pct}, health check grace period "
        f"{grace} s; web container health check every {health['interval']} s, timeout "
        f"{health['timeout']} s, {health['retries']} retries, start period "
        f"{health['startPeriod']} s, stopTimeout {web_stop} s; worker {worker_desired} task "
        f"(no load balancer, no container health check), stopTimeout {worker_stop} s, Dramatiq "
        f"worker shutdown timeout {worker_drain_s} s; the playbook polls every {poll} s. "
        f"**Assumption:** a Fargate task takes {start_lo}-{start_hi} s from placement to "
        "RUNNING (ENI attach, pull of the ~69 MB compressed image, container start; "
        "bench-container measures the container's own start to healthy at ~2.5 s).",
        "",
        f"Web service, {desired} tasks, at best:",
        "",
        f"1. {max_pct} % maximum lets ECS start all {extra_new} new tasks at once next to the "
        f"{desired} old ones ({min_pct} % minimum: no old task stops first): "
        f"**{start_lo}-{start_hi} s** to RUNNING.",
        f"2. Each new task is registered in the target group when RUNNING; the ALB marks it "
        f"healthy after {threshold} consecutive passing checks {interval} s apart: "
        f"{threshold} x {interval} = **{alb_healthy} s** at most (between "
        f"{(threshold - 1) * interval} and {alb_healthy} s, by where the first check falls). "
        f"At the same time the container health check (first run {health['interval']} s after "
        f"start; a pass inside the {health['startPeriod']} s start period counts) marks it "
        f"HEALTHY after **{container_healthy} s**. ECS counts the task healthy when both "
        f"hold: max({alb_healthy}, {container_healthy}) = **{new_healthy} s**. (The {grace} s "
        "grace period only keeps ECS from acting on failing ALB checks; it does not delay a "
        "healthy task.)",
        f"3. ECS then stops the {desired} old tasks: deregistered from the target group, they "
        f"drain for the deregistration delay, **{dereg} s**, then get SIGTERM; gunicorn stops "
        f"its idle workers in a few seconds (~{stop} s; at most stopTimeout {web_stop} s).",
        "4. The deployment is COMPLETED when the old tasks are stopped; the playbook sees it at "
        f"its next poll (up to {poll} s later).",
        "",
        f"Web rollout at best: {start_lo}-{start_hi} + {new_healthy} + {dereg} + {stop} = "
        f"**{best}-{worst} s** (~{best / 60:.1f}-{worst / 60:.1f} min), plus up to {poll} s of "
        "polling and ECS's own scheduling latency (seconds).",
        "",
        f"Worker ({worker_desired} task, rolled at the same time, so the release waits for the "
        f"slower of the two): new task RUNNING in {start_lo}-{start_hi} s (no health check: "
        "RUNNING counts), then the old task gets SIGTERM and finishes its in-flight jobs: "
        f"~{stop} s when idle, up to {worker_drain_s} s (Dramatiq) and stopTimeout "
        f"{worker_stop} s at most: **{start_lo + stop}-{start_hi + worker_stop} s**. Idle, the "
        f"worker is done first; with long jobs in flight it sets the pace ({start_hi} + "
        f"{worker_stop} = {start_hi + worker_stop} s).",
        "",
        f"Migration task before the rollout: a one-off Fargate task, {start_lo}-{start_hi} s to "
        "start plus the migration itself (seconds for a schema change on a small table) plus "
        f"the poll ({poll} s): **~{start_lo + 5}-{start_hi + 5 + poll} s**.",
        "",
        f"A release on AWS at best: Ansible's checks and registrations (the emulator figures "
        f"above, less the simulated waits) + ~{start_lo + 5}-{start_hi + 5 + poll} s "
        f"migration + ~{best}-{worst + poll} s rollout = roughly "
        f"**{(start_lo + 5 + best) / 60:.1f}-{(start_hi + 5 + poll + worst + poll) / 60:.1f} "
        "min** plus the Ansible time; the rollout is 2/3 of it, and the deregistration delay "
        f"({dereg} s) and the health checks ({new_healthy} s) are the parts our settings "
        "choose.",
    ]


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    runs = int(os.environ.get("BENCH_RUNS", "1" if quick else "3"))
    started = time.monotonic()
    header = machine()
    import boto3
    import release_env  # tests/, on the path through common

    releases: list[Run] = []
    with EmulatorProcess("release", free_port(),
                         BOOKING_EMULATOR_ECS_ROLLOUT_SECONDS=f"{ROLLOUT_SECONDS:g}") as emulator:
        def aws(service: str) -> Any:
            return boto3.client(service, endpoint_url=emulator.url, region_name="us-east-1",
                                aws_access_key_id="emulator", aws_secret_access_key="emulator")

        emulator.reset()
        made = time.monotonic()
        release_env.provision(aws)
        for tag in TAGS:
            release_env.push(aws, tag)
        provision_s = time.monotonic() - made
        print(f"bench-release: emulator on {emulator.url}, provisioned in {provision_s:.1f} s, "
              f"rollout {ROLLOUT_SECONDS:g} s; first release, then {runs}", flush=True)

        def deploy(label: str, tag: str) -> Run:
            extra = json.dumps({"image_tag": tag, "release_registry": ""})
            return run_playbook(emulator, label, "playbooks/deploy.yml", "-e", extra)

        first = deploy("release-first", TAGS[0])
        for index in range(1, runs + 1):
            releases.append(deploy(f"release-{index}", TAGS[index % 2]))
        same = deploy("release-same-tag", TAGS[runs % 2])
    elapsed = time.monotonic() - started
    failed = [r.label for r in [first, *releases, same] if r.rc != 0]
    not_new = [r.label for r in releases if not (migrated(r) and rolled(r))]

    walls = [r.wall for r in releases]
    per_phase = [phases(r) for r in releases]
    names = list(dict.fromkeys(k for p in [phases(first), *per_phase] for k in p))
    first_phases = phases(first)
    lines = [
        "## Release: `deploy.yml` on the emulator",
        "",
        f"- Date and machine: {header}; load average (1 min) seen during the runs "
        f"{load_range([first, *releases, same])}, at the end {load_average()}.",
        f"- Command: `make bench-release` ({elapsed / 60:.1f} min).",
        "- Setup: our own emulator, reset; the minimum a release needs made with boto3 "
        f"(`tests/release_env.py` provision(), {provision_s:.1f} s with the two image pushes "
        "into the emulator's ECR); `-e release_registry=\"\"` (ECR), image build excluded. "
        "ECS rollout simulated: `BOOKING_EMULATOR_ECS_ROLLOUT_SECONDS="
        f"{ROLLOUT_SECONDS:g}` (tools/moto_ecs.py: a deployment completes {ROLLOUT_SECONDS:g} s "
        "after it starts; it stands for the real rollout, worked out below); the migration "
        "task exits 0 at once; the playbook polls every 1 s (local inventory).",
        f"- Runs: a first release of `{TAGS[0]}` (creates the services), then {runs} new "
        "releases alternating "
        + ", ".join(f"`{TAGS[i % 2]}`" for i in range(1, runs + 1))
        + " (each registers task definitions, runs the migration task, rolls both services "
        "and records), then the same tag again (a no-op).",
        "",
        f"New release wall time, median of {runs}: **{median(walls):.1f} s** "
        f"({', '.join(f'{w:.1f}' for w in walls)}; {median([r.task_count for r in releases]):.0f}"
        f" tasks, {median([len(r.calls) for r in releases]):.0f} API calls). First release: "
        f"{first.wall:.1f} s ({first.task_count} tasks, {len(first.calls)} calls). Same tag "
        f"again: {same.wall:.1f} s, changed={same.changed}.",
        "",
        "| phase (from per-task timings) | new release, median s | share | first release s |",
        "| --- | ---: | ---: | ---: |",
    ]
    total = median(walls)
    for name in names:
        value = median([p.get(name, 0.0) for p in per_phase])
        lines.append(f"| {name} | {value:.1f} | {100 * value / total:.0f} % | "
                     f"{first_phases.get(name, 0.0):.1f} |")
    lines += [
        f"| **wall** | **{total:.1f}** | 100 % | **{first.wall:.1f}** |",
        "",
        f"Of the rollout wait, {ROLLOUT_SECONDS:g} s is the simulated rollout; the migration "
        "task's time is the emulator's task life cycle (the container exits 0 at once) and "
        "the module's polling (every 1 s); the rest of the release is Ansible's own cost, a "
        "module start-up of ~0.6-0.9 s per AWS task (discovery alone: four lookups that "
        "site.yml's outputs already hold when the release runs inside it).",
        "",
    ]
    if failed or not_new:
        lines += [f"**Problems:** failed runs: {', '.join(failed) or 'none'}; releases that did "
                  f"not migrate and roll: {', '.join(not_new) or 'none'}.", ""]
    lines += arithmetic()
    text = "\n".join(lines)
    if quick:
        print(text)
    else:
        write_section("release", text)
        print(f"bench-release: wrote the release section of bench/RESULTS.md "
              f"({elapsed / 60:.1f} min)")
    return 1 if failed or not_new else 0


if __name__ == "__main__":
    sys.exit(main())
