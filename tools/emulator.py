#!/usr/bin/env python3
"""The local AWS emulator: moto in server mode on loopback, with our fidelity patches.

    emulator.py serve --port 5000              run in the foreground (used by `up` and by tests)
    emulator.py up    --port 5000              start in the background unless already running
    emulator.py down                           stop the background emulator (PID file)
    emulator.py reset --port 5000              forget every emulated resource
    emulator.py url   --port 5000              print only the endpoint URL

The Makefile drives this; see `make help`. State lives in .run/ (PID file and log).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import moto_patches  # noqa: E402  (needs the path above)

HOST = "127.0.0.1"
RUN_DIR = Path(__file__).resolve().parent.parent / ".run"


def endpoint_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def is_answering(port: int, timeout: float = 1.0) -> bool:
    """True when a moto server answers on the port (its management API, not any HTTP server)."""
    try:
        with urllib.request.urlopen(f"{endpoint_url(port)}/moto-api/data.json", timeout=timeout):
            return True
    except (urllib.error.URLError, OSError):
        return False


def _read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def serve(port: int) -> None:
    # Attaching AWS managed policies (AmazonECSTaskExecutionRolePolicy, ...) needs them loaded.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    moto_patches.apply_all()
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    print(f"emulator listening on {endpoint_url(port)}", flush=True)
    stop = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop:
        time.sleep(0.2)
    server.stop()


def up(port: int, pidfile: Path, logfile: Path) -> int:
    pid = _read_pid(pidfile)
    if pid and is_answering(port):
        print(f"emulator already running (pid {pid}) on {endpoint_url(port)}")
        return 0
    if is_answering(port):
        print(f"error: something else already answers on {endpoint_url(port)}; "
              f"choose another EMULATOR_PORT", file=sys.stderr)
        return 1
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    with logfile.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, __file__, "serve", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pidfile.write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"error: emulator exited with {proc.returncode}; see {logfile}", file=sys.stderr)
            pidfile.unlink(missing_ok=True)
            return 1
        if is_answering(port):
            print(f"emulator started (pid {proc.pid}) on {endpoint_url(port)}")
            return 0
        time.sleep(0.1)
    print(f"error: emulator did not answer within 30 s; see {logfile}", file=sys.stderr)
    return 1


def down(pidfile: Path) -> int:
    pid = _read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        print("emulator not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if _read_pid(pidfile) is None:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    print(f"emulator stopped (pid {pid})")
    return 0


def reset(port: int) -> int:
    request = urllib.request.Request(f"{endpoint_url(port)}/moto-api/reset", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except (urllib.error.URLError, OSError) as exc:
        print(f"error: no emulator on {endpoint_url(port)} ({exc})", file=sys.stderr)
        return 1
    print(f"emulator on {endpoint_url(port)} reset: every emulated resource is gone")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["serve", "up", "down", "reset", "url"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "5000")))
    parser.add_argument("--pidfile", type=Path, default=RUN_DIR / "emulator.pid")
    parser.add_argument("--logfile", type=Path, default=RUN_DIR / "emulator.log")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port)
        return 0
    if args.command == "up":
        return up(args.port, args.pidfile, args.logfile)
    if args.command == "down":
        return down(args.pidfile)
    if args.command == "reset":
        return reset(args.port)
    print(endpoint_url(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
