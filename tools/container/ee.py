#!/usr/bin/env python3
"""The AWX execution environment (execution-environment.yml), built and run on this machine.

    ee.py build                     ansible-builder create, then podman build; prints the image
    ee.py run PLAYBOOK [options]    run PLAYBOOK in the image as AWX runs a job (ansible-runner in
                                    the container, a private data dir at /runner); prints a JSON
                                    summary (rc, status, the recap's counts, wall and CPU time)

Build. The base is execution-environment.yml's (CentOS Stream 10) unless EE_BASE_IMAGE names
another; where the real base can be neither found in the project's image store nor pulled (here:
quay.io is unreachable) it is the local Debian trixie base of tools/container/ee-base.sh. With
that base the build runs from a definition generated in .run/ee/ from execution-environment.yml,
differing only where Debian or this machine's network need it (docs/ci.md, "AWX execution
environment"): Debian's python3 and pip (Debian disables ensurepip for the system Python), the
base's dnf-to-apt adapter as the package manager, and the AWS collections from the PyPI `ansible`
bundle of .venv (Galaxy is unreachable) as tarballs installed offline - the versions
execution-environment/requirements.yml pins, checked. pip in the build trusts the host's CA
bundle (PIP_CA_BUNDLE; by default the host's on the local base: HTTPS is intercepted here),
bind-mounted for the build's RUN steps only, never in a layer.
The image: localhost/booking-deploy-ee:<git sha> ("-dirty" when the EE's inputs have local
changes) and :latest, in the project's image store (tools/container/common.sh).

Run. The private data dir (.run/ee/jobs/<ident>, or --data-dir) is what AWX hands
ansible-runner: project/ (the work tree's files, as a project sync would copy them),
env/extravars, env/envvars (the job's environment: the emulator's URL and AWX's collection and
role paths), env/passwords and env/cmdline (the vault credential: `--vault-id local@prompt`,
its prompt answered by ansible-runner). The container runs as the image's user (1000, as on
Kubernetes), on the host's network (--network=host: the emulator on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools" / "container"
DEFINITION = REPO / "execution-environment.yml"
EE_DIR = REPO / ".run" / "ee"
# Collection tarballs built from .venv's bundle, kept across builds: the same bytes each time,
# so podman's COPY of the build context hits its cache.
TARBALLS = REPO / ".cache" / "ee" / "collections"
BUNDLE = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" \
    / "site-packages" / "ansible_collections"
IMAGE_NAME = os.environ.get("EE_IMAGE_NAME", "localhost/booking-deploy-ee")
LOCAL_BASE = "localhost/debian:trixie-ee"
# What the EE's image depends on: a local change to any of these marks the tag "-dirty".
INPUTS = ["execution-environment.yml", "execution-environment", "collections",
          "tools/shared-botocore-loader", "tools/container/ee.py", "tools/container/ee-base.sh"]
PIP_CA_MOUNT = "/run/ee-build-ca.pem"
DEBIAN_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # in the local base
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Where the project sits in the container, and the container's job layout (as AWX's).
RUNNER = "/runner"
LOCAL_VAULT_ID = "local"
KEEP_JOBS = 5


def log(message: str) -> None:
    print(f"ee: {message}", file=sys.stderr, flush=True)


def podman(*args: str, check: bool = True, capture: bool = True,
           timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """podman on the project's image store with its containers.conf (tools/container/podman.sh)."""
    return subprocess.run([str(TOOLS / "podman.sh"), *args], check=check, text=True,
                          capture_output=capture, timeout=timeout)


def image_exists(ref: str) -> bool:
    return podman("image", "exists", ref, check=False).returncode == 0


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout


def image_tag() -> str:
    try:
        sha = git("rev-parse", "HEAD").strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if git("status", "--porcelain", "--", *INPUTS).strip() else sha


# --- Build -------------------------------------------------------------------------------------

def choose_base(default: str) -> str:
    """EE_BASE_IMAGE if given; else the definition's base if in the store or pullable; else the
    local Debian base (tools/container/ee-base.sh makes or loads it)."""
    given = os.environ.get("EE_BASE_IMAGE", "")
    if given and given != LOCAL_BASE:
        return given
    if not given:
        if image_exists(default):
            return default
        if not image_exists(LOCAL_BASE):
            log(f"pulling {default}")
            pulled = podman("pull", "--quiet", default, check=False, timeout=120)
            if pulled.returncode == 0:
                return default
            log(f"{default} cannot be pulled here: the local Debian base instead")
    made = subprocess.run([str(TOOLS / "ee-base.sh")], capture_output=True, text=True,
                          check=False)
    sys.stderr.write(made.stderr)
    if made.returncode != 0:
        raise SystemExit(f"ee: the local base could not be made (tools/container/ee-base.sh, "
                         f"rc={made.returncode})")
    return made.stdout.strip().splitlines()[-1]


def _version_ok(version: str, spec: str | None) -> bool:
    """Galaxy's version spec ("11.4.0", ">=2.0.0", ">=1,<2", "*") against a version."""
    from packaging.version import Version

    if not spec or spec == "*":
        return True
    ops = {"==": Version.__eq__, "!=": Version.__ne__, ">=": Version.__ge__,
           "<=": Version.__le__, ">": Version.__gt__, "<": Version.__lt__}
    for part in spec.split(","):
        match = re.fullmatch(r"\s*(==|!=|>=|<=|>|<)?\s*([\w.+-]+)\s*", part)
        if match is None:
            raise SystemExit(f"ee: cannot read the version spec {spec!r}")
        if not ops[match.group(1) or "=="](Version(version), Version(match.group(2))):
            return False
    return True


def collection_tarball(name: str, spec: str | None) -> Path:
    """The collection of .venv's `ansible` bundle as a Galaxy artifact (made once per version):
    its MANIFEST.json's collection_info as galaxy.yml, then `ansible-galaxy collection build`."""
    namespace, collection = name.split(".")
    source = BUNDLE / namespace / collection
    info = json.loads((source / "MANIFEST.json").read_text())["collection_info"]
    if not _version_ok(info["version"], spec):
        raise SystemExit(f"ee: .venv's ansible bundle has {name} {info['version']}, "
                         f"execution-environment/requirements.yml asks for {spec}")
    tarball = TARBALLS / f"{namespace}-{collection}-{info['version']}.tar.gz"
    if tarball.is_file():
        return tarball
    TARBALLS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / collection
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for generated in ("MANIFEST.json", "FILES.json"):
            (copy / generated).unlink()
        galaxy = {key: value for key, value in info.items() if value not in (None, [], {}, "")}
        if "license_file" in galaxy:
            galaxy.pop("license", None)
        (copy / "galaxy.yml").write_text(yaml.safe_dump(galaxy, sort_keys=False))
        subprocess.run([str(Path(sys.executable).parent / "ansible-galaxy"), "collection",
                        "build", str(copy), "--output-path", str(TARBALLS)],
                       check=True, capture_output=True, text=True)
    if not tarball.is_file():
        raise SystemExit(f"ee: ansible-galaxy built no {tarball.name}")
    return tarball


def local_definition(base: str) -> Path:
    """execution-environment.yml for the local Debian base: written to .run/ee/."""
    definition: dict[str, Any] = yaml.safe_load(DEFINITION.read_text())
    dependencies = definition["dependencies"]
    real_galaxy = yaml.safe_load((REPO / dependencies["galaxy"]).read_text())
    requirements: list[dict[str, Any]] = []
    for entry in real_galaxy["collections"]:
        if entry.get("type") == "dir":
            requirements.append(entry)  # booking_aws: in the build context already
            continue
        tarball = collection_tarball(entry["name"], entry.get("version"))
        requirements.append({"name": f"collections/{tarball.name}", "type": "file"})
    EE_DIR.mkdir(parents=True, exist_ok=True)
    galaxy_file = EE_DIR / "requirements.local.yml"
    galaxy_file.write_text(
        "---\n# Generated by tools/container/ee.py from execution-environment/requirements.yml:"
        "\n# the same collections, as tarballs of .venv's ansible bundle (no Galaxy here).\n"
        + yaml.safe_dump({"collections": requirements}, sort_keys=False))

    definition["images"]["base_image"]["name"] = base
    # Debian's python3 (3.13) and its pip: Debian's ensurepip refuses the system Python.
    dependencies["python_interpreter"] = {"package_system": "python3 python3-pip",
                                          "python_path": "/usr/bin/python3"}
    dependencies["galaxy"] = str(galaxy_file)
    for key in ("python", "system"):
        dependencies[key] = str(REPO / dependencies[key])
    options = definition.setdefault("options", {})
    options["package_manager_path"] = "/usr/local/bin/dnf-apt"  # ee-base.sh's adapter
    options["skip_pip_install"] = True
    definition.setdefault("build_arg_defaults", {})[
        "ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"] = "--offline"
    files = definition.setdefault("additional_build_files", [])
    for item in files:
        item["src"] = str(REPO / item["src"])
    files.append({"src": str(TARBALLS), "dest": "collections"})
    path = EE_DIR / "execution-environment.local.yml"
    path.write_text("---\n# Generated by tools/container/ee.py from execution-environment.yml "
                    "for the local Debian base.\n" + yaml.safe_dump(definition, sort_keys=False))
    return path


def build() -> str:
    """Build the EE; return its reference."""
    start = time.monotonic()
    default = yaml.safe_load(DEFINITION.read_text())["images"]["base_image"]["name"]
    base = choose_base(default)
    local = base == LOCAL_BASE
    definition = local_definition(base) if local else DEFINITION
    context = EE_DIR / "context"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    builder = Path(sys.executable).parent / "ansible-builder"
    created = subprocess.run([str(builder), "create", "-f", str(definition), "-c", str(context),
                              "--output-filename", "Containerfile"], cwd=REPO,
                             capture_output=True, text=True, check=False)
    if created.returncode != 0:
        raise SystemExit(f"ee: ansible-builder create failed:\n{created.stdout}{created.stderr}")

    tag = image_tag()
    ref = f"{IMAGE_NAME}:{tag}"
    sha = tag.removesuffix("-dirty")
    args = ["build", "--layers", "--network=host", "-f", str(context / "Containerfile"),
            "-t", ref, "-t", f"{IMAGE_NAME}:latest", "--build-arg", f"EE_BASE_IMAGE={base}",
            "--label", f"org.opencontainers.image.revision={sha}"]
    # The host's CA bundle for pip in every RUN step, bind-mounted for the build only (in no
    # layer): by default on the local base (this machine intercepts HTTPS), on another base only
    # when PIP_CA_BUNDLE names one. Debian's pip reads the system bundle: mounted over it,
    # nothing is added. Another base's pip (ensurepip's, its own certifi) reads /etc/pip.conf,
    # mounted too; those two mount points stay in the image as empty files.
    ca = os.environ.get("PIP_CA_BUNDLE", HOST_CA_BUNDLE if local else "")
    if ca and Path(ca).is_file() and Path(ca).stat().st_size:
        ca_path = str(Path(ca).resolve())
        if local:
            args += ["--volume", f"{ca_path}:{DEBIAN_CA_BUNDLE}:ro"]
        else:
            pip_conf = EE_DIR / "pip.conf"
            pip_conf.write_text(f"[global]\ncert = {PIP_CA_MOUNT}\n")
            args += ["--volume", f"{pip_conf}:/etc/pip.conf:ro",
                     "--volume", f"{ca_path}:{PIP_CA_MOUNT}:ro"]
    log(f"building {ref} from {base} ({'local definition' if local else DEFINITION.name})")
    built = subprocess.run([str(TOOLS / "podman.sh"), *args, str(context)], check=False,
                           stdout=sys.stderr, stderr=sys.stderr)
    if built.returncode != 0:
        raise SystemExit(f"ee: podman build failed (rc={built.returncode})")
    log(f"built {ref} in {time.monotonic() - start:.0f} s")
    return ref


# --- Run ---------------------------------------------------------------------------------------

def _project_files() -> list[str]:
    """The work tree's files as a project sync would bring them: tracked, and new files not
    ignored (local changes are what is tested), without other tools' virtualenvs."""
    try:
        listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    except (OSError, subprocess.CalledProcessError):
        # No git, or git refuses the checkout (another user's, under sudo): the tree as it is,
        # without what .gitignore leaves out.
        skip = {".git", ".run", ".cache", "__pycache__", ".pytest_cache", ".ruff_cache"}
        listed = [str(path.relative_to(REPO)) for path in REPO.rglob("*")
                  if not skip & set(path.relative_to(REPO).parts)]
    return sorted({path for path in listed
                   if path and not path.split("/", 1)[0].startswith(".venv")
                   and ((REPO / path).is_symlink() or (REPO / path).is_file())})


def private_data_dir(target: Path, extra_vars: dict[str, Any], cmdline: str,
                     envvars: dict[str, str]) -> None:
    """AWX's private data dir for a job: project/, env/ (extravars, envvars, passwords,
    cmdline)."""
    project = target / "project"
    for path in _project_files():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        if (REPO / path).is_symlink():  # playbooks/group_vars -> ../group_vars
            (project / path).symlink_to(os.readlink(REPO / path))
        else:
            shutil.copy2(REPO / path, project / path)
    # The local CA's certificate (the real data plane's smoke test): ignored by git, made by
    # the emulator.
    ca = REPO / ".run" / "local-ca" / "ca.pem"
    if ca.is_file():
        (project / ".run" / "local-ca").mkdir(parents=True, exist_ok=True)
        shutil.copy2(ca, project / ".run" / "local-ca" / "ca.pem")
    env = target / "env"
    env.mkdir(parents=True, exist_ok=True)
    (env / "extravars").write_text(json.dumps(extra_vars))
    (env / "envvars").write_text(json.dumps(envvars))
    # The vault credential, as AWX passes it: the prompt of `--vault-id local@prompt`, answered
    # by ansible-runner from env/passwords (regex -> answer).
    password = (REPO / "inventories/local/vault-password.txt").read_text().strip()
    (env / "passwords").write_text(json.dumps(
        {rf"Vault password \({LOCAL_VAULT_ID}\):\s*?$": password}))
    (env / "cmdline").write_text(f"--vault-id {LOCAL_VAULT_ID}@prompt {cmdline}".strip())
    for path in (env / "passwords", env / "extravars"):
        path.chmod(0o600)


def job_envvars(emulator_url: str, data_plane: str) -> dict[str, str]:
    """The job's environment: what the local inventory reads, and what AWX's RunJob.build_env
    sets for this project (ansible.cfg's collections_path and roles_path behind AWX's own)."""
    return {
        "BOOKING_EMULATOR_URL": emulator_url,
        "BOOKING_EMULATOR_DATA_PLANE": data_plane,
        # No image build in the EE (AWX releases what CI built and pushed).
        "BOOKING_RELEASE_BUILD": "false",
        "ANSIBLE_COLLECTIONS_PATH": ":".join([f"{RUNNER}/requirements_collections", "collections",
                                              "~/.ansible/collections",
                                              "/usr/share/ansible/collections"]),
        "ANSIBLE_ROLES_PATH": ":".join([f"{RUNNER}/requirements_roles", "roles",
                                        "~/.ansible/roles", "/usr/share/ansible/roles",
                                        "/etc/ansible/roles"]),
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
    }


def _stats(events_dir: Path) -> dict[str, Any]:
    """The playbook_on_stats event (the recap AWX shows), counts summed over hosts."""
    for event_file in sorted(events_dir.glob("*.json")):
        event = json.loads(event_file.read_text())
        if event.get("event") == "playbook_on_stats":
            data = event["event_data"]
            return {key: sum(data.get(key, {}).values())
                    for key in ("ok", "changed", "failures", "dark", "skipped", "rescued",
                                "ignored", "processed")}
    return {}


def run(playbook: str, *, image: str, extra_vars: dict[str, Any], cmdline: str,
        data_dir: Path | None, emulator_url: str, data_plane: str, ident: str,
        timeout: float, quiet: bool) -> dict[str, Any]:
    if data_dir is None:
        data_dir = EE_DIR / "jobs" / ident
        # The last few jobs' folders stay for reading (artifacts/<ident>/stdout, job_events).
        jobs = sorted((EE_DIR / "jobs").glob("*"), key=lambda path: path.stat().st_mtime)
        for old in jobs[:-KEEP_JOBS]:
            shutil.rmtree(old, ignore_errors=True)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    private_data_dir(data_dir, extra_vars, cmdline, job_envvars(emulator_url, data_plane))
    user = podman("image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()
    uid = int(user.split(":")[0]) if user.split(":")[0].isdigit() else 0
    if os.geteuid() == 0 and uid:
        # The container's user owns the job's folder (AWX's is the job's own temporary folder).
        for root, dirs, names in os.walk(data_dir):
            for name in [*dirs, *names]:
                os.lchown(os.path.join(root, name), uid, 0)
        os.chown(data_dir, uid, 0)
    # ansible-runner as AWX's execution node starts it; `times` afterwards: the CPU of runner,
    # ansible-playbook and every process they waited for (the container's processes are not
    # this script's children).
    script = ('ansible-runner run "$1" -p "$2" --inventory "$3" --ident "$4"; rc=$?; '
              'times > "$1/artifacts/$4/cpu-times"; exit $rc')
    args = ["run", "--rm", "--network=host", "--volume", f"{data_dir}:{RUNNER}",
            "--name", f"booking-ee-{ident}", image, "bash", "-c", script, "bash", RUNNER,
            playbook, f"{RUNNER}/project/inventories/local", ident]
    start = time.monotonic()
    with open(data_dir / "console.log", "w") as console:
        proc = subprocess.run([str(TOOLS / "podman.sh"), *args], check=False, text=True,
                              stdout=console if quiet else sys.stderr, stderr=subprocess.STDOUT,
                              timeout=timeout)
    wall = time.monotonic() - start
    artifacts = data_dir / "artifacts" / ident
    status = (artifacts / "status").read_text().strip() if (artifacts / "status").is_file() \
        else "missing"
    cpu = None
    times = artifacts / "cpu-times"
    if times.is_file():
        # Two lines: the shell's user/system, then its children's (e.g. "1m2.500s 0m3.100s").
        seconds = [float(m) * 60 + float(s) for m, s in
                   re.findall(r"(\d+)m([\d.]+)s", times.read_text())]
        cpu = round(sum(seconds), 1)
    return {"playbook": playbook, "image": image, "rc": proc.returncode, "status": status,
            "stats": _stats(artifacts / "job_events"), "wall_s": round(wall, 1), "cpu_s": cpu,
            "data_dir": str(data_dir), "stdout": str(artifacts / "stdout")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the EE; print its reference")
    runner = sub.add_parser("run", help="run a playbook in the EE as AWX runs a job")
    runner.add_argument("playbook", help="relative to the project, e.g. site.yml")
    runner.add_argument("--image", default=f"{IMAGE_NAME}:latest")
    runner.add_argument("--extra-vars", default="{}", help="JSON: the job's extra variables")
    runner.add_argument("--cmdline", default="", help="more ansible-playbook arguments")
    runner.add_argument("--data-dir", type=Path, help="default .run/ee/jobs/<ident>")
    runner.add_argument("--ident", default=f"job-{int(time.time())}")
    runner.add_argument("--emulator-url", default=os.environ.get(
        "BOOKING_EMULATOR_URL", "http://127.0.0.1:5000"))
    runner.add_argument("--data-plane", default=os.environ.get(
        "BOOKING_EMULATOR_DATA_PLANE", "scripted"))
    runner.add_argument("--timeout", type=float, default=1800)
    runner.add_argument("--quiet", action="store_true",
                        help="the job's output to <data dir>/console.log, not stderr")
    options = parser.parse_args()
    if options.command == "build":
        print(build())
        return 0
    if not image_exists(options.image):
        log(f"{options.image} is not in the project's image store: make ee")
        return 2
    summary = run(options.playbook, image=options.image,
                  extra_vars=json.loads(options.extra_vars), cmdline=options.cmdline,
                  data_dir=options.data_dir, emulator_url=options.emulator_url,
                  data_plane=options.data_plane, ident=options.ident,
                  timeout=options.timeout, quiet=options.quiet)
    print(json.dumps(summary))
    return summary["rc"]


if __name__ == "__main__":
    sys.exit(main())
