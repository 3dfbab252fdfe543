"""booking.aws.iam_service_linked_role: ensure a service-linked role exists (issue 15, item 1).

Against the strict emulator (tools/moto_strict.py, `slr`), which names service-linked roles as AWS
does (AWSServiceRoleForECS), answers a second CreateServiceLinkedRole with InvalidInput "... has
been taken in this account" and refuses a Fargate cluster until ECS's role exists and has
propagated. One emulator process for the module (reset before each test), plus the session's
in-process emulator for the race where ListRoles does not show a role made a moment ago.
"""

from __future__ import annotations

import json
import time
import urllib.request
from types import SimpleNamespace

import boto3
import moto_strict
import pytest
from botocore.exceptions import ClientError
from harness import AnsibleRunner, emulator_process

MODULE = "booking.aws.iam_service_linked_role"
SLR_SECONDS = 2.0
ECS_PATH = "/aws-service-role/ecs.amazonaws.com/"
ECS_ROLE_ARN = f"arn:aws:iam::123456789012:role{ECS_PATH}AWSServiceRoleForECS"


@pytest.fixture(scope="module")
def strict_url(tmp_path_factory):
    calls = tmp_path_factory.mktemp("slr") / "calls.jsonl"
    with emulator_process(calls, BOOKING_EMULATOR_STRICT=f"slr={SLR_SECONDS:g}") as url:
        yield url


@pytest.fixture
def strict(strict_url):
    """(runner, client factory) on the strict emulator, every resource forgotten first."""
    request = urllib.request.Request(f"{strict_url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200

    def client(service):
        return boto3.client(service, endpoint_url=strict_url, region_name="us-east-1",
                            aws_access_key_id="emulator", aws_secret_access_key="emulator")

    return AnsibleRunner(SimpleNamespace(url=strict_url)), client


def _roles(client, path=ECS_PATH):
    return [(r["RoleName"], r["Path"]) for r in client("iam").list_roles(PathPrefix=path)["Roles"]]


def test_creates_the_role_once_and_check_mode_creates_nothing(strict):
    runner, client = strict
    args = {"service": "ecs.amazonaws.com"}
    checked = runner.module(MODULE, args, check=True)
    assert (checked["changed"], checked["created"]) == (True, True), checked
    assert checked["arn"] == ECS_ROLE_ARN
    assert _roles(client) == [], "check mode created the role"

    first = runner.module(MODULE, args)
    assert (first["changed"], first["created"]) == (True, True), first
    assert (first["arn"], first["role_name"]) == (ECS_ROLE_ARN, "AWSServiceRoleForECS")
    assert _roles(client) == [("AWSServiceRoleForECS", ECS_PATH)]

    again = runner.module(MODULE, args)
    assert (again["changed"], again["created"], again["arn"]) == (False, False, ECS_ROLE_ARN)
    checked = runner.module(MODULE, args, check=True)
    assert (checked["changed"], checked["arn"]) == (False, ECS_ROLE_ARN)


def test_a_role_the_service_made_itself_is_kept(strict):
    runner, client = strict
    # On a new account ECS makes its role in the CreateCluster call that fails for want of it.
    with pytest.raises(ClientError, match="Unable to assume the service linked role"):
        client("ecs").create_cluster(clusterName="c", capacityProviders=["FARGATE"])
    result = runner.module(MODULE, {"service": "ecs.amazonaws.com"})
    assert (result["changed"], result["created"], result["arn"]) == (False, False, ECS_ROLE_ARN)


def test_a_fargate_cluster_works_once_the_new_role_has_propagated(strict):
    """Why the ecs_cluster role retries its cluster: the role is not usable the moment it exists."""
    runner, client = strict
    assert runner.module(MODULE, {"service": "ecs.amazonaws.com"})["created"] is True
    created_at = time.monotonic()
    ecs = client("ecs")
    try:
        ecs.create_cluster(clusterName="c", capacityProviders=["FARGATE", "FARGATE_SPOT"])
        refused = False
    except ClientError as error:
        refused = error.response["Error"]["Code"] == "InvalidParameterException"
    # The module run itself takes about a second: only while the role is younger than `slr`.
    assert refused or time.monotonic() - created_at >= SLR_SECONDS - 1.5
    time.sleep(max(0.0, created_at + SLR_SECONDS + 0.3 - time.monotonic()))
    cluster = ecs.create_cluster(clusterName="c", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    assert cluster["cluster"]["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]


def test_a_plain_role_with_the_reserved_name_fails_clearly(strict):
    runner, client = strict
    client("iam").create_role(RoleName="AWSServiceRoleForECS", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))
    result = runner.module(MODULE, {"service": "ecs.amazonaws.com"})
    assert result.get("failed") is True, result
    assert "has been taken" in result["msg"], result["msg"]


def test_a_role_made_meanwhile_but_not_listed_yet_counts_as_found(ansible, aws, fresh_emulator,
                                                                   monkeypatch):
    """The race: another run (or ECS) made the role, ListRoles does not show it yet, and
    CreateServiceLinkedRole answers "has been taken": the module reads it by name instead."""
    from moto.iam.models import IAMBackend

    # AWS's CreateServiceLinkedRole names and refusal (strict mode's), for this test only.
    monkeypatch.setattr(IAMBackend, "create_service_linked_role",
                        IAMBackend.create_service_linked_role)
    moto_strict._slr_names()
    made = aws("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]
    list_roles = IAMBackend.list_roles
    lagging = {"left": 1}

    def lagging_list_roles(self, path_prefix=None, marker=None, max_items=None):
        if path_prefix == ECS_PATH and lagging["left"]:
            lagging["left"] -= 1
            return [], None
        return list_roles(self, path_prefix, marker, max_items)

    monkeypatch.setattr(IAMBackend, "list_roles", lagging_list_roles)
    result = ansible.module(MODULE, {"service": "ecs.amazonaws.com"})
    assert lagging["left"] == 0, "the module did not list the roles"
    assert (result["changed"], result["created"]) == (False, False), result
    assert result["arn"] == made["Arn"]
