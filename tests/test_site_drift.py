"""Changes made behind Ansible's back: `--check` reports them, a normal run repairs them."""

from __future__ import annotations

import pytest

PREFIX = "booking-api-local"


@pytest.fixture(scope="module")
def converged(emulator, ansible):
    emulator.reset()
    run = ansible.playbook("site.yml")
    assert run.rc == 0, run.explain()
    return emulator


def _group(ec2, name):
    [group] = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    return group


def _open_postgres_to_the_world(aws):
    ec2 = aws("ec2")
    ec2.authorize_security_group_ingress(
        GroupId=_group(ec2, f"{PREFIX}-postgres")["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def _postgres_open_to_the_world(aws):
    group = _group(aws("ec2"), f"{PREFIX}-postgres")
    return any(r["CidrIp"] == "0.0.0.0/0" for p in group["IpPermissions"]
               for r in p.get("IpRanges", []))


def _shorten_flow_log_retention(aws):
    aws("logs").put_retention_policy(logGroupName=f"/aws/vpc/{PREFIX}-flow-logs",
                                     retentionInDays=1)


def _flow_log_retention_shortened(aws):
    [group] = aws("logs").describe_log_groups(
        logGroupNamePrefix=f"/aws/vpc/{PREFIX}-flow-logs")["logGroups"]
    return group.get("retentionInDays") != 90


DRIFTS = {
    "security-group-rule": (_open_postgres_to_the_world, _postgres_open_to_the_world),
    "log-retention": (_shorten_flow_log_retention, _flow_log_retention_shortened),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_check_reports_drift_and_a_run_repairs_it(converged, ansible, aws, drift):
    make_drift, drifted = DRIFTS[drift]
    make_drift(aws)
    assert drifted(aws)

    checked = ansible.playbook("site.yml", "--check", "--diff")
    assert checked.rc == 0, checked.explain()
    assert checked.changed >= 1, checked.explain()
    assert drifted(aws), "check mode repaired the drift: it must change nothing"

    repaired = ansible.playbook("site.yml")
    assert repaired.rc == 0, repaired.explain()
    assert repaired.changed >= 1
    assert not drifted(aws), repaired.explain()

    again = ansible.playbook("site.yml")
    assert again.changed == 0, again.explain()
