"""The rds role asks for the major version and keeps AWS's minor upgrades (issue 15, item 6).

Against the strict emulator's RDS versions (tools/moto_strict.py, `rds_versions`): only offered
engine versions are accepted, a major version alone gets the default minor, a downgrade is
refused with AWS's error, and a hook applies AWS's forced minor upgrade. A role pinning
`15.12` with auto minor upgrades off (the code before this test) fails both ways AWS fails: a
retired minor cannot be created, and after a forced upgrade every run asks for a downgrade.

Cost: one emulator process, `site.yml --tags vpc,rds` once and `--tags rds` three times
(about 70 s).
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from harness import emulator_process

INSTANCE = "booking-api-local-postgres"


@pytest.fixture(scope="module")
def strict_rds(tmp_path_factory):
    calls = tmp_path_factory.mktemp("rds-versions") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_STRICT="rds_versions") as url:
        yield url


def _force_minor_upgrade(url: str, version: str, retire_previous: bool = False) -> dict:
    body = json.dumps({"DBInstanceIdentifier": INSTANCE, "EngineVersion": version,
                       "RetirePrevious": retire_previous}).encode()
    request = urllib.request.Request(f"{url}/_emulator/rds/force-minor-upgrade", data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _version(url: str) -> str:
    import boto3

    rds = boto3.client("rds", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="emulator", aws_secret_access_key="emulator")
    return rds.describe_db_instances(DBInstanceIdentifier=INSTANCE)["DBInstances"][0][
        "EngineVersion"]


def test_major_version_gets_the_default_minor_and_keeps_forced_upgrades(ansible, strict_rds):
    url = strict_rds
    env = {"BOOKING_EMULATOR_URL": url}
    created = ansible.playbook("site.yml", "--tags", "vpc,rds", env=env)
    assert created.rc == 0, created.explain()
    default_minor = _version(url)
    assert default_minor.startswith("15."), default_minor

    # AWS retires the minor and upgrades the instance in the maintenance window.
    upgraded = _force_minor_upgrade(url, "15.14", retire_previous=True)
    assert upgraded["PreviousEngineVersion"] == default_minor
    again = ansible.playbook("site.yml", "--tags", "rds", env=env)
    assert again.rc == 0, again.explain()
    assert again.changed == 0, again.explain()
    assert _version(url) == "15.14"
    checked = ansible.playbook("site.yml", "--tags", "rds", "--check", "--diff", env=env)
    assert checked.rc == 0, checked.explain()
    assert checked.changed == 0, checked.explain()

    # An inventory that still names an older minor as its minimum keeps the newer one too.
    pinned = ansible.playbook("site.yml", "--tags", "rds",
                              extra_vars={"rds_engine_version": "15.12"}, env=env)
    assert pinned.rc == 0, pinned.explain()
    assert pinned.changed == 0, pinned.explain()


def test_the_strict_emulator_refuses_what_the_old_pin_asked_for(strict_rds):
    # What the role did before: EngineVersion 15.12 on an instance AWS moved to 15.14.
    import boto3
    from botocore.exceptions import ClientError

    rds = boto3.client("rds", endpoint_url=strict_rds, region_name="us-east-1",
                       aws_access_key_id="emulator", aws_secret_access_key="emulator")
    with pytest.raises(ClientError, match=r"Cannot upgrade postgres from 15\.14 to 15\.12"):
        rds.modify_db_instance(DBInstanceIdentifier=INSTANCE, EngineVersion="15.12",
                               ApplyImmediately=True)

