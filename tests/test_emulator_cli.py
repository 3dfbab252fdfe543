"""tools/emulator.py as the Makefile uses it: up (reused), url, reset, down; and the patches."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

from harness import REPO

EMULATOR = [sys.executable, str(REPO / "tools" / "emulator.py")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*args: str, strict: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BOOKING_EMULATOR_STRICT"}
    if strict is not None:
        env["BOOKING_EMULATOR_STRICT"] = strict
    return subprocess.run([*EMULATOR, *args], capture_output=True, text=True, timeout=60,
                          check=False, env=env)


def test_up_reuse_reset_down(tmp_path):
    port = str(_free_port())
    files = ["--pidfile", str(tmp_path / "pid"), "--logfile", str(tmp_path / "log"),
             "--call-log", str(tmp_path / "calls.jsonl")]
    try:
        first = _run("up", "--port", port, *files)
        assert first.returncode == 0, first.stderr
        pid = (tmp_path / "pid").read_text().strip()
        again = _run("up", "--port", port, *files)
        assert again.returncode == 0
        assert "already running" in again.stdout
        assert (tmp_path / "pid").read_text().strip() == pid

        url = _run("url", "--port", port)
        assert url.stdout == f"http://127.0.0.1:{port}\n"

        import boto3
        ec2 = boto3.client("ec2", endpoint_url=url.stdout.strip(), region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x")
        ec2.create_vpc(CidrBlock="10.1.0.0/16")
        assert len(ec2.describe_vpcs()["Vpcs"]) == 2  # the default VPC and ours
        assert '"CreateVpc"' in (tmp_path / "calls.jsonl").read_text()

        assert _run("reset", "--port", port).returncode == 0
        assert len(ec2.describe_vpcs()["Vpcs"]) == 1
    finally:
        down = _run("down", *files)
    assert down.returncode == 0
    assert "stopped" in down.stdout
    assert not (tmp_path / "pid").exists()
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/data.json", timeout=2)
        raise AssertionError("the emulator still answers after down")
    except OSError:
        pass


def test_up_reuses_only_an_emulator_of_the_strict_mode_asked_for(tmp_path):
    """make always asks for a strict mode (EMULATOR_STRICT, `all` by default, or `off`): a running
    emulator of another mode is refused, not silently reused, since strict mode is read at start."""
    port = str(_free_port())
    files = ["--pidfile", str(tmp_path / "pid"), "--logfile", str(tmp_path / "log"),
             "--call-log", str(tmp_path / "calls.jsonl")]
    try:
        assert _run("up", "--port", port, *files, strict="all,nat=5").returncode == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/strict") as response:
            assert json.loads(response.read())["nat"] == 5.0
        assert _run("up", "--port", port, *files, strict="all,nat=5").returncode == 0
        for other in ("off", "all"):
            refused = _run("up", "--port", port, *files, strict=other)
            assert refused.returncode == 1
            assert "make emulator-down" in refused.stderr
        # Nothing asked (a script calling emulator.py directly): whatever runs is reused.
        assert _run("up", "--port", port, *files).returncode == 0
    finally:
        assert _run("down", *files).returncode == 0
    try:
        assert _run("up", "--port", port, *files, strict="off").returncode == 0
        assert _run("up", "--port", port, *files, strict="off").returncode == 0
        assert _run("up", "--port", port, *files, strict="test").returncode == 1
    finally:
        assert _run("down", *files).returncode == 0


def test_nat_gateway_and_eip_tags_report_aws_resource_types(emulator, aws):
    """moto_patches: DescribeTags filters by AWS's names, 'natgateway' and 'elastic-ip'."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.1.0/24")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    ec2.create_tags(Resources=[nat, eip], Tags=[{"Key": "Name", "Value": "x"}])
    for resource_id, aws_type in ((nat, "natgateway"), (eip, "elastic-ip")):
        tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]},
                                          {"Name": "resource-type", "Values": [aws_type]}])
        assert [t["Value"] for t in tags["Tags"]] == ["x"], aws_type
