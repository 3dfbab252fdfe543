"""Slow resources are all created before site.yml waits for any of them.

The emulator is started with BOOKING_EMULATOR_CREATE_SECONDS, so NAT gateways, the RDS instance
the Redis replication group and the ALB read as "being created" for a while, like on AWS. From the
emulator's call log: no resource is seen ready before the last slow create call was made (a play
that waited per role would see the first one ready before creating the next).
"""

from __future__ import annotations

import json
import time

import pytest
from harness import emulator_process

DELAY = 20.0
# kind -> (its create call, the describe call a wait makes)
SLOW = {
    "nat": ("CreateNatGateway", "DescribeNatGateways"),
    "rds": ("CreateDBInstance", "DescribeDBInstances"),
    "elasticache": ("CreateReplicationGroup", "DescribeReplicationGroups"),
    "alb": ("CreateLoadBalancer", "DescribeLoadBalancers"),
}


@pytest.fixture(scope="module")
def slow_emulator(tmp_path_factory):
    calls = tmp_path_factory.mktemp("slow") / "calls.jsonl"
    spec = ",".join(f"{kind}={DELAY:g}" for kind in SLOW)
    with emulator_process(calls, BOOKING_EMULATOR_CREATE_SECONDS=spec) as url:
        yield url, calls


def test_every_slow_create_comes_before_any_wait_sees_a_resource_ready(ansible, slow_emulator):
    url, call_log = slow_emulator
    started = time.monotonic()
    run = ansible.playbook("site.yml", env={"BOOKING_EMULATOR_URL": url})
    wall = time.monotonic() - started
    assert run.rc == 0, run.explain()

    calls = [json.loads(line) for line in call_log.read_text().splitlines()]
    created = {kind: min(c["at"] for c in calls if c["action"] == create)
               for kind, (create, _) in SLOW.items()}
    last_create = max(created.values())
    for kind, (_, describe) in SLOW.items():
        ready_at = created[kind] + DELAY
        seen_ready = [c["at"] for c in calls if c["action"] == describe and c["at"] >= ready_at]
        assert seen_ready, f"site.yml never waited for {kind}"
        assert min(seen_ready) > last_create, (
            f"{kind} was waited for before the last slow resource was created")
    # All the waits overlap: the run takes about one delay more than its creates, not three.
    print(f"site.yml with {len(SLOW)} slow resources of {DELAY:g} s: {wall:.0f} s wall; "
          f"creates spread over {last_create - min(created.values()):.0f} s")
