"""`make bench-provision`: site.yml converge and no-op re-run on the emulator, against a floor.

Starts its own emulator (a free port in 5460-5479; call log in .run/bench/provision/), then
BENCH_RUNS times (default 3): reset the emulator, converge site.yml on it (image build excluded:
BOOKING_RELEASE_BUILD=false), then run site.yml again (the no-op: changed must be 0). For each
run: wall time, tasks (recap ok + skipped + failed), changed, AWS API calls answered by the
emulator. Each run also makes a no-op under the other strategy (ansible.cfg's default is
Mitogen's `mitogen_linear`; the other is Ansible's own `linear`, or the reverse when
ANSIBLE_STRATEGY says so). The emulator runs with strict mode off: its holds are AWS's waits, not
our code's speed. Then the floor: bench/provision/floor.py, a plain boto3 process making the
no-op's reads, BENCH_FLOOR_RUNS times (default 5). Writes the `provision` section of
bench/RESULTS.md (BENCH_QUICK=1: one run, printed instead).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    PYTHON,
    REPO,
    EmulatorProcess,
    Run,
    free_port,
    is_aws_task,
    load_average,
    load_range,
    machine,
    median,
    run_playbook,
    write_section,
)
from harness import default_strategy, other_strategy  # tests/ is on sys.path (common)

NOOP_TARGET_RATIO = 10.0
CONVERGE_TARGET_SECONDS = 60.0


def floor(emulator: EmulatorProcess, runs: int) -> tuple[list[float], Counter[tuple[str, str]]]:
    """Wall seconds of each floor.py process (boto3 import included), and its calls."""
    seconds: list[float] = []
    ops: Counter[tuple[str, str]] = Counter()
    from common import operation

    for index in range(runs):
        mark = emulator.mark()
        started = time.monotonic()
        subprocess.run([str(PYTHON), str(Path(__file__).resolve().parent / "floor.py"),
                        "--endpoint", emulator.url], check=True, stdout=subprocess.DEVNULL)
        seconds.append(time.monotonic() - started)
        if index == 0:
            ops = Counter(operation(c) for c in emulator.calls_since(mark))
    print(f"  floor: {', '.join(f'{s:.2f}' for s in seconds)} s; {sum(ops.values())} calls",
          flush=True)
    return seconds, ops


def task_key(task: dict[str, Any]) -> str:
    return f"{task['role']} : {task['name']}" if task["role"] else task["name"]


def ran(task: dict[str, Any]) -> bool:
    """The task did something (not only skipped), and is not an include/import marker."""
    return task["ok"] + task["failed"] > 0


def median_task_seconds(runs: list[Run]) -> dict[str, float]:
    per: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        seen: Counter[str] = Counter()
        for task in run.tasks:
            key = task_key(task)
            seen[key] += 1
            per[f"{key}#{seen[key]}" if seen[key] > 1 else key].append(task["seconds"] or 0.0)
    return {k: median(v) for k, v in per.items()}


def analysis(noops: list[Run], converges: list[Run]) -> tuple[list[str], dict[str, Any]]:
    """Where a no-op run's time goes: by kind of task, by role, slowest tasks, API calls."""
    run = sorted(noops, key=lambda r: r.wall)[len(noops) // 2]  # the median run
    lines: list[str] = []
    aws = [t for t in run.tasks if is_aws_task(t) and ran(t)]
    other = [t for t in run.tasks if not is_aws_task(t) and ran(t)]
    skipped = [t for t in run.tasks if not ran(t)]
    aws_s = sum(t["seconds"] for t in aws)
    other_s = sum(t["seconds"] for t in other)
    skip_s = sum(t["seconds"] for t in skipped)
    invocations = sum(max(t["items"], 1) for t in aws)
    per_task = aws_s / len(aws) if aws else 0.0
    per_call_module = aws_s / invocations if invocations else 0.0
    figures = {"aws_tasks": len(aws), "aws_seconds": aws_s, "aws_invocations": invocations,
               "per_task": per_task, "per_invocation": per_call_module, "wall": run.wall}
    lines += [
        f"Median no-op run ({run.wall:.1f} s wall), by what its tasks are (durations from the "
        "`bench_tasks` callback, next-task-start minus task-start as profile_tasks measures):",
        "",
        "| tasks | count | module runs (loop items) | seconds | share of wall |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| AWS modules (amazon.aws, community.aws, booking.aws) | {len(aws)} | {invocations} "
        f"| {aws_s:.1f} | {100 * aws_s / run.wall:.0f} % |",
        f"| other tasks that ran (set_fact, assert, include_*, debug, lookups) | {len(other)} | "
        f"- | {other_s:.1f} | {100 * other_s / run.wall:.0f} % |",
        f"| skipped (condition false) | {len(skipped)} | - | {skip_s:.1f} | "
        f"{100 * skip_s / run.wall:.0f} % |",
        f"| start-up, inventory, vault, play set-up (the rest) | | | "
        f"{run.wall - aws_s - other_s - skip_s:.1f} | "
        f"{100 * (run.wall - aws_s - other_s - skip_s) / run.wall:.0f} % |",
        "",
        f"An AWS module task costs {per_task:.2f} s on average here ({per_call_module:.2f} s per "
        f"module run, loops counted per item) for {len(run.calls) / max(invocations, 1):.1f} "
        "API calls per module run; the emulator answers a call in a few milliseconds (the floor "
        "below), so nearly all of it is running the module: under `linear` a new Python process, "
        "the AnsiballZ payload, boto3's import and a client; under mitogen (one interpreter per "
        "host) the client and Ansible's own per-task work (docs/benchmarks.md).",
        "",
    ]
    by_role: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0])
    for task in run.tasks:
        entry = by_role[task["role"] or "(play)"]
        entry[0] += task["seconds"] or 0.0
        entry[1] += 1 if ran(task) else 0
    role_calls = _calls_by_role(run)
    lines += ["| role | seconds | tasks run | API calls |", "| --- | ---: | ---: | ---: |"]
    for role, (seconds, count, _) in sorted(by_role.items(), key=lambda kv: -kv[1][0]):
        lines.append(f"| {role} | {seconds:.1f} | {int(count)} | {role_calls.get(role, 0)} |")
    lines.append("")

    medians = median_task_seconds(noops)
    actions = {task_key(t): t["action"] for r in noops for t in r.tasks}
    lines += ["Ten slowest tasks of a no-op run (median of the runs):", "",
              "| task | module | seconds |", "| --- | --- | ---: |"]
    for key, seconds in sorted(medians.items(), key=lambda kv: -kv[1])[:10]:
        base = key.split("#")[0]
        lines.append(f"| {base} | `{actions.get(base, '?')}` | {seconds:.2f} |")
    lines.append("")

    conv = median_task_seconds(converges)
    lines += ["Five slowest tasks of a first converge (median of the runs):", "",
              "| task | seconds |", "| --- | ---: |"]
    for key, seconds in sorted(conv.items(), key=lambda kv: -kv[1])[:5]:
        lines.append(f"| {key.split('#')[0]} | {seconds:.2f} |")
    lines.append("")

    ops = run.operations()
    conv_ops = sorted(converges, key=lambda r: r.wall)[len(converges) // 2].operations()
    lines += [f"API calls per operation, top 15 of {len(ops)} (median no-op run: "
              f"{len(run.calls)} calls):", "",
              "| service | operation | no-op | converge |", "| --- | --- | ---: | ---: |"]
    for (service, op), count in ops.most_common(15):
        lines.append(f"| {service} | {op} | {count} | {conv_ops.get((service, op), 0)} |")
    lines.append("")

    modules = Counter(t["action"] for t in run.tasks if ran(t) and is_aws_task(t))
    info = {m: n for m, n in modules.items() if m.endswith("_info")}
    caller = info.get("amazon.aws.aws_caller_info", 0)
    figures.update(caller=caller, info=sum(info.values()), modules=modules,
                   sts=ops.get(("sts", "GetCallerIdentity"), 0),
                   vpcs=ops.get(("ec2", "DescribeVpcs"), 0))
    lines += [
        "Repeated lookups in one no-op run: `amazon.aws.aws_caller_info` runs "
        f"{caller} times (sts GetCallerIdentity is called {figures['sts']} times in all, "
        f"iam ListAccountAliases {ops.get(('iam', 'ListAccountAliases'), 0)}); `*_info` modules "
        f"run {sum(info.values())} times: "
        + ", ".join(f"`{m}` x{n}" for m, n in sorted(info.items(), key=lambda kv: -kv[1]))
        + f". ec2 DescribeVpcs is called {figures['vpcs']} times for one VPC.",
        "",
        "Modules run most often in a no-op run (tasks, loops counted once): "
        + ", ".join(f"`{m}` x{n}" for m, n in modules.most_common(8)) + ".",
    ]
    return lines, figures


def _calls_by_role(run: Run) -> Counter[str]:
    """API calls attributed to the task that was running when the emulator answered them."""
    if not run.calls or not run.tasks:
        return Counter()
    starts = [(t["start"], t["role"] or "(play)") for t in run.tasks]
    offset = _offset(run)
    counts: Counter[str] = Counter()
    for call in run.calls:
        moment = call["at"] - offset
        role = "(play)"
        for start, name in starts:
            if start <= moment:
                role = name
            else:
                break
        counts[role] += 1
    return counts


def _offset(run: Run) -> float:
    """Wall-clock time of the callback's zero: the run's end minus its last task's end."""
    mtime = (run.log.with_suffix("").with_suffix(".tasks.jsonl")).stat().st_mtime
    last = run.tasks[-1]
    return mtime - (last["start"] + (last["seconds"] or 0.0))


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    runs = int(os.environ.get("BENCH_RUNS", "1" if quick else "3"))
    floor_runs = int(os.environ.get("BENCH_FLOOR_RUNS", "5"))
    started = time.monotonic()
    header = machine()
    converges: list[Run] = []
    noops: list[Run] = []
    other_noops: list[Run] = []
    strategy, other = default_strategy(), other_strategy()
    with EmulatorProcess("provision", free_port(), BOOKING_EMULATOR_STRICT="off") as emulator:
        print(f"bench-provision: emulator on {emulator.url}, {runs} runs, strategy {strategy} "
              f"(no-op also under {other})", flush=True)
        for index in range(1, runs + 1):
            emulator.reset()
            converges.append(run_playbook(emulator, f"converge-{index}", "site.yml",
                                          env={"ANSIBLE_STRATEGY": strategy}))
            noops.append(run_playbook(emulator, f"noop-{index}", "site.yml",
                                      env={"ANSIBLE_STRATEGY": strategy}))
            other_noops.append(run_playbook(emulator, f"noop-{other}-{index}", "site.yml",
                                            env={"ANSIBLE_STRATEGY": other}))
        floor_seconds, floor_ops = floor(emulator, floor_runs)
    failed = [r.label for r in converges + noops + other_noops if r.rc != 0]
    not_noop = [f"{r.label} (changed={r.changed})" for r in noops + other_noops if r.changed]
    elapsed = time.monotonic() - started

    conv_wall = median([r.wall for r in converges])
    noop_wall = median([r.wall for r in noops])
    other_wall = median([r.wall for r in other_noops])
    floor_s = median(floor_seconds)
    ratio = noop_wall / floor_s
    details, fig = analysis(noops, converges)
    noop_ops = sorted(noops, key=lambda r: r.wall)[len(noops) // 2].operations()
    missing = sorted(set(noop_ops) - set(floor_ops))

    def med(values: list[int] | list[float], fmt: str = "{:.0f}") -> str:
        return fmt.format(median(list(values)))

    lines = [
        "## Provisioning: `site.yml` on the emulator",
        "",
        f"- Date and machine: {header}; load average (1 min) seen during the runs "
        f"{load_range(converges + noops + other_noops)}, at the end {load_average()}.",
        f"- Command: `make bench-provision` ({elapsed / 60:.1f} min).",
        f"- Setup: our own emulator (tools/emulator.py, moto with our patches) on a port of "
        f"5460-5479, strict mode off, reset before each converge; `BOOKING_RELEASE_BUILD=false` "
        f"(image build excluded; no release is recorded, so the release role only reads the "
        f"record). Strategy `{strategy}` (ansible.cfg's default unless ANSIBLE_STRATEGY says "
        f"otherwise). {runs} x (converge on an empty emulator, a no-op re-run, a no-op re-run "
        f"under `{other}`). API calls counted at the emulator (its call log); tasks = recap ok "
        "+ skipped + failed.",
        "",
        f"| figure (median) | first converge | no-op re-run | no-op under `{other}` |",
        "| --- | ---: | ---: | ---: |",
        f"| wall time | {conv_wall:.1f} s | {noop_wall:.1f} s | {other_wall:.1f} s |",
        f"| tasks (ok + skipped + failed) | {med([r.task_count for r in converges])} | "
        f"{med([r.task_count for r in noops])} | {med([r.task_count for r in other_noops])} |",
        f"| changed | {med([r.changed for r in converges])} | "
        f"{med([r.changed for r in noops])} | {med([r.changed for r in other_noops])} |",
        f"| AWS API calls | {med([len(r.calls) for r in converges])} | "
        f"{med([len(r.calls) for r in noops])} | {med([len(r.calls) for r in other_noops])} |",
        "",
        "Each run: " + "; ".join(
            f"#{i + 1} converge {c.row()} / no-op {n.row()} / `{other}` no-op {o.row()}"
            for i, (c, n, o) in enumerate(zip(converges, noops, other_noops, strict=True)))
        + ".",
        "",
    ]
    if failed or not_noop:
        lines += [f"**Problems:** failed runs: {', '.join(failed) or 'none'}; no-op runs that "
                  f"changed something: {', '.join(not_noop) or 'none'}.", ""]
    lines += [
        "### Floor",
        "",
        f"`bench/provision/floor.py`: one plain boto3 process making the reads a no-op run "
        f"needs, by role, the parameters finding this environment's resources by name "
        f"(derived from the no-op run's call log; a lookup the no-op repeats, like the caller "
        f"identity or the VPC, made once): {sum(floor_ops.values())} calls over "
        f"{len(floor_ops)} operations, against the no-op run's {sum(noop_ops.values())} calls "
        f"over {len(noop_ops)} operations"
        + (f" (operations the floor leaves out: {', '.join(f'{s} {o}' for s, o in missing)})"
           if missing else " (every operation of the no-op run is in it)")
        + f". Wall time of the process (interpreter, boto3 import and client creation "
        f"included, once), median of {floor_runs}: **{floor_s:.2f} s** "
        f"({', '.join(f'{s:.2f}' for s in floor_seconds)}).",
        "",
        f"No-op / floor = {noop_wall:.1f} / {floor_s:.2f} = **{ratio:.0f}x** "
        f"(under `{other}`: {other_wall:.1f} / {floor_s:.2f} = {other_wall / floor_s:.0f}x).",
        "",
        "### Targets",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| no-op re-run within {NOOP_TARGET_RATIO:.0f}x the floor (<= "
        f"{NOOP_TARGET_RATIO * floor_s:.1f} s) | {ratio:.0f}x ({noop_wall:.1f} s) | "
        f"**{'met' if ratio <= NOOP_TARGET_RATIO else 'missed'}** |",
        f"| first converge on an empty emulator, image build excluded, under "
        f"{CONVERGE_TARGET_SECONDS:.0f} s | "
        f"{conv_wall:.1f} s | "
        f"**{'met' if conv_wall < CONVERGE_TARGET_SECONDS else 'missed'}** |",
        "",
        "### Where the time goes",
        "",
        *details,
        "",
        "### Why the targets are missed, and what would close them",
        "",
    ]
    per_task = fig["per_task"]
    budget = NOOP_TARGET_RATIO * floor_s
    if ratio > NOOP_TARGET_RATIO:
        lines.append(
            f"- **No-op within 10x the floor:** the no-op run executes {fig['aws_tasks']} AWS "
            f"module tasks ({fig['aws_invocations']} module runs with loop items) at "
            f"~{per_task:.2f} s each = {fig['aws_seconds']:.0f} s of its {noop_wall:.0f} s; the "
            f"API calls themselves take ~{floor_s:.1f} s (the floor). The target "
            f"({budget:.0f} s) allows about {budget / max(fig['per_invocation'], 0.01):.0f} "
            "module runs at today's cost each, all else free: a role that converges one "
            "resource (or one attribute group) per task cannot get there. What was cut and "
            "what would close the rest: the notes below.")
    if fig["caller"] > 1:
        lines.append(
            f"- **Repeated lookups:** `aws_caller_info` runs {fig['caller']} times in one no-op "
            f"run (the account never changes within a run; ~{(fig['caller'] - 1) * per_task:.0f} "
            f"s); `*_info` modules run {fig['info']} times in all.")
    if conv_wall >= CONVERGE_TARGET_SECONDS:
        lines.append(
            f"- **First converge under {CONVERGE_TARGET_SECONDS:.0f} s:** {conv_wall:.0f} s; the "
            "same per-task start-up "
            "dominates (the converge runs about as many AWS tasks as the no-op, plus the "
            "creates), and the ACM wait (the emulator issues certificates after "
            "MOTO_ACM_VALIDATION_WAIT = 5 s, polled) is in the slowest tasks above.")
    if ratio <= NOOP_TARGET_RATIO and conv_wall < CONVERGE_TARGET_SECONDS:
        lines.append("- Both targets are met in this run.")
    notes = Path(__file__).resolve().parent / "analysis.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    text = "\n".join(lines)
    if quick:
        print(text)
    else:
        write_section("provision", text)
        print(f"bench-provision: wrote the provision section of bench/RESULTS.md "
              f"({elapsed / 60:.1f} min)")
    (Path(REPO) / ".run" / "bench" / "provision" / "summary.json").write_text(json.dumps({
        "converge": [r.wall for r in converges], "noop": [r.wall for r in noops],
        "noop_other": [r.wall for r in other_noops], "floor": floor_seconds,
        "strategy": strategy, "other_strategy": other}))
    return 1 if failed or not_noop else 0


if __name__ == "__main__":
    sys.exit(main())
