"""`make site` on a fresh machine (`make bench-fresh-site`): from a clean clone to a released stack.

What a newcomer runs first, timed step by step, in a clean clone of the current commit (HEAD;
uncommitted changes are not in it) in a temporary folder, with its own venv, its own image store
(.run/containers of the clone: the base image is made again with debootstrap) and its own
emulator and registry on ports of their own (EMULATOR_PORT 5484, REGISTRY_PORT 5485), so a
running `make site` of the work tree is left alone:

1. `make setup`: the toolchain venv (uv, pinned) and the collections;
2. `make container-setup`: podman and friends from Debian's packages - only when missing: on a
   machine that has them already this step is a check and the table says so;
3. `make emulator-up registry-up`: the emulator (strict, as `make site` runs it) and the registry;
4. `make site`: site.yml - provisioning, then the base image, the image build and push, and the
   release. The build's share is read from Ansible's ``profile_tasks`` timings (the task that
   builds and pushes).

Target (issue 16): all four under 5 minutes. PostgreSQL, Redis and Python are the machine's (as
on CI's). Writes the "fresh-site" section of bench/RESULTS.md; afterwards stops the clone's
emulator and registry and removes the clone. Standard library only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from results import load_average, machine, write_section  # noqa: E402

TARGET_SECONDS = 300.0
TARGET_PARTS = "venv, podman install, base image, image build, converge"
PORTS = {"EMULATOR_PORT": "5484", "REGISTRY_PORT": "5485"}
BUILD_TASK = "Build the image and push it to the registry"
CONTAINER_TOOLS = ("podman", "buildah", "skopeo", "debootstrap", "docker-registry", "runc")


def log(message: str) -> None:
    print(f"bench-fresh-site: {message}", file=sys.stderr, flush=True)


def timed(clone: Path, *make_args: str, env: dict[str, str]) -> tuple[float, str]:
    """Run make in the clone; its wall time and output (stderr folded in). Fails loudly."""
    started = time.monotonic()
    result = subprocess.run(["make", *make_args, *(f"{k}={v}" for k, v in PORTS.items())],
                            cwd=clone, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    if result.returncode != 0:
        sys.stderr.write(output[-6000:])
        raise SystemExit(f"bench-fresh-site: make {' '.join(make_args)} failed "
                         f"(rc={result.returncode}) after {seconds:.0f} s")
    log(f"make {' '.join(make_args)}: {seconds:.1f} s")
    return seconds, output


def profiled_seconds(output: str, task: str) -> float | None:
    """A task's seconds from profile_tasks' closing table ('role : task ---- 12.34s')."""
    match = re.search(re.escape(task) + r"\s-+\s([0-9.]+)s", output)
    return float(match.group(1)) if match else None


def recap(output: str) -> str:
    found = re.search(r"^\S+\s*:\s*(ok=\d+\s+changed=\d+.*)$", output, re.MULTILINE)
    return " ".join(found.group(1).split()) if found else "no recap"


def main() -> int:
    header = machine()
    had_tools = all(shutil.which(tool) for tool in CONTAINER_TOOLS)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                            capture_output=True, check=True).stdout.strip()
    base = Path(tempfile.mkdtemp(prefix="bench-fresh-site-"))
    clone = base / "booking-deploy"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "BOOKING_", "CONTAINERS_", "VIRTUAL_ENV"))}
    env["PATH"] = ":".join(p for p in env.get("PATH", "").split(":")
                           if not p.startswith(str(REPO)))
    # profile_tasks prints each task's time at the end of the run; nothing else changes.
    site_env = env | {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                      "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all"}
    loads = [load_average()]
    steps: list[tuple[str, float]] = []
    try:
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)],
                       check=True)
        log(f"clean clone of {commit} in {clone}")
        steps.append(("`make setup` (toolchain venv by uv, collections)",
                      timed(clone, "setup", env=env)[0]))
        steps.append(("`make container-setup` (podman, buildah, skopeo, debootstrap, registry, "
                      "runc)" + (": already installed here, a check only" if had_tools else ""),
                      timed(clone, "container-setup", env=env)[0]))
        steps.append(("`make emulator-up registry-up` (strict emulator, loopback registry)",
                      timed(clone, "emulator-up", "registry-up", env=env)[0]))
        loads.append(load_average())
        site_seconds, site_output = timed(clone, "site", env=site_env)
        loads.append(load_average())
        build = profiled_seconds(site_output, BUILD_TASK)
    finally:
        subprocess.run(["make", "down", *(f"{k}={v}" for k, v in PORTS.items())], cwd=clone,
                       env=env, capture_output=True, check=False)
        # The clone's image store holds files owned by container users: remove it with podman's
        # help first, then the folder.
        subprocess.run([str(clone / "tools/container/podman.sh"), "system", "reset", "--force"],
                       cwd=clone, env=env, capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)

    if build is None:
        steps.append(("`make site` (site.yml: provision, base image, image build, release)",
                      site_seconds))
    else:
        steps.append(("`make site`: provisioning and release (site.yml without the build)",
                      site_seconds - build))
        steps.append(("`make site`: base image (debootstrap), image build and push", build))
    total = sum(seconds for _, seconds in steps)
    rows = "\n".join(f"| {what} | {seconds:.1f} s |" for what, seconds in steps)
    # The target counts podman's install: a run on a machine that had it already is not judged.
    met = ("**not judged**: podman was installed already" if had_tools
           else "**met**" if total < TARGET_SECONDS else "**missed**")
    text = f"""## `make site` on a fresh machine

- Date and machine: {header}; load average after the setup steps {loads[1]}, at the end {loads[2]}.
- Command: `make bench-fresh-site` (a clean clone of {commit}, its own venv, image store,
  emulator and registry; {"podman was already installed, so its install is not in the total"
  if had_tools else "podman and the container tools were installed by this run"}).
- site.yml recap: {recap(site_output)}.

| step | wall time |
| --- | ---: |
{rows}
| **total** | **{total:.1f} s** |

| target | measured | |
| --- | --- | --- |
| `make site` on a fresh machine under 5 min ({TARGET_PARTS}) | {total / 60:.1f} min | {met} |
"""
    write_section("fresh-site", text)
    log(f"total {total:.1f} s; RESULTS.md section fresh-site written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
