"""A fork server for the test suite's module calls (tests/harness.py, AnsibleRunner.module).

Each module call in the suite ran in a new Python process that imported ansible's module utils,
boto3 and botocore and decoded the AWS service models again: 0.4-0.5 CPU seconds a call, before
the module did anything, over several hundred calls. This server imports all of that once, then
forks one child per call: the child is still the module's own process (its own globals, its own
environment, stdin, stdout and exit code, as Ansible runs a module on the controller), only born
with the imports done. Mitogen, the playbooks' default strategy, runs modules in a warm
interpreter in the same spirit.

Protocol (one JSON object per line): the client writes {"module": "<dotted module path>",
"args": "<what the module reads on stdin>", "env": {...}, "cwd": "..."}; the server answers
{"rc": int, "stdout": str, "stderr": str}. The server is single-threaded, so a fork is safe.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import sys
import tempfile
from typing import Any

# What every AWS module imports, and the AWS models the suite's modules read: loaded here once,
# inherited by each child. (With booking-shared-botocore-loader installed, the loader that holds
# the decoded models is shared by every botocore session in a process, the children's too.)
WARM_SERVICES = ("cloudwatch", "config", "ec2", "ecr", "ecs", "elasticache", "elbv2", "iam",
                 "logs", "rds", "s3", "ssm", "sts", "wafv2")


def warm_up() -> None:
    import ansible.module_utils.basic  # noqa: F401
    import ansible_collections.amazon.aws.plugins.module_utils.botocore
    import ansible_collections.amazon.aws.plugins.module_utils.modules  # noqa: F401
    import boto3

    session = boto3.session.Session(aws_access_key_id="warm", aws_secret_access_key="warm",
                                    region_name="us-east-1")
    for service in WARM_SERVICES:
        session.client(service, endpoint_url="http://127.0.0.1:9")


def run_child(request: dict[str, Any], out: int, err: int) -> None:
    """In the forked child: become the module's process, run it, exit with its code."""
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    read, write = os.pipe()
    os.write(write, request["args"].encode())
    os.close(write)
    os.dup2(read, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 (the process's own)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    code = 0
    try:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    except SystemExit as exit_:  # as the interpreter treats it: a non-int code is printed
        if exit_.code is None or isinstance(exit_.code, int):
            code = exit_.code or 0
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
    except BaseException:  # what an uncaught exception does to a Python process
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        # A stream the module closed is ignored, as at interpreter exit.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def serve(requests: Any, answers: Any) -> None:
    for line in requests:
        request = json.loads(line)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            pid = os.fork()
            if pid == 0:
                try:
                    run_child(request, out.fileno(), err.fileno())
                finally:
                    os._exit(70)
            _, status = os.waitpid(pid, 0)
            out.seek(0)
            err.seek(0)
            answer = {"rc": os.waitstatus_to_exitcode(status),
                      "stdout": out.read().decode(errors="replace"),
                      "stderr": err.read().decode(errors="replace")}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def main() -> None:
    # The protocol has the server's real stdout; anything else printing goes to stderr.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    warm_up()
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    serve(sys.stdin, answers)


if __name__ == "__main__":
    main()
