"""booking.aws.ec2_security_groups on the emulator: a VPC's security groups in one module run.

Pins what the vpc role relies on, with its four groups as the plan (load balancer <- app <-
PostgreSQL and Redis, chained by group_name): the groups created with exactly the rules asked
(AWS's default egress rule revoked where not listed), no change on a second run, drift (rules,
a rule's description, tags) found in check mode and repaired, rules_egress unset leaving egress
alone, a bad reference refused before anything changes, a description AWS cannot change warned
about, and the diff of --check --diff.
"""

from __future__ import annotations

import json

import pytest

MODULE = "booking.aws.ec2_security_groups"
NAMES = ["t-alb", "t-app", "t-postgres", "t-redis"]
PRIVATE = ["10.9.10.0/24", "10.9.11.0/24"]


def _plan(vpc_id, **overrides):
    """The vpc role's four groups (roles/vpc/tasks/main.yml), overrides by group name."""
    def data(name, what, port):
        return {"name": name, "description": f"t {what}: from the app tasks only",
                "rules": [{"proto": "tcp", "ports": [port], "group_name": "t-app",
                           "rule_desc": "from the app tasks"}],
                "rules_egress": [], "tags": {"Name": name, "Project": "t"}}

    groups = [
        {"name": "t-alb", "description": "t load balancer: HTTP/HTTPS from the internet",
         "rules": [{"proto": "tcp", "ports": [80, 443], "cidr_ip": ["0.0.0.0/0"],
                    "rule_desc": "HTTP and HTTPS from the internet"}],
         "rules_egress": [{"proto": "tcp", "ports": ["8000"], "cidr_ip": PRIVATE}],
         "tags": {"Name": "t-alb", "Project": "t"}},
        {"name": "t-app", "description": "t Fargate tasks: app port from the load balancer",
         "rules": [{"proto": "tcp", "ports": [8000], "group_name": "t-alb",
                    "rule_desc": "from the load balancer"}],
         "rules_egress": [{"proto": "all", "cidr_ip": "0.0.0.0/0"}],
         "tags": {"Name": "t-app", "Project": "t"}},
        data("t-postgres", "PostgreSQL", 5432),
        data("t-redis", "Redis", 6379),
    ]
    for group in groups:
        group.update(overrides.get(group["name"], {}))
    return {"vpc_id": vpc_id, "security_groups": groups}


@pytest.fixture
def vpc(fresh_emulator, aws):
    return aws("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]


def _rules(permissions):
    """AWS's IpPermissions as a set of (protocol, from, to, target, description)."""
    rules = set()
    for p in permissions:
        ports = (p.get("FromPort"), p.get("ToPort")) if p["IpProtocol"] != "-1" else (None, None)
        for r in p.get("IpRanges", []):
            rules.add((p["IpProtocol"], *ports, r["CidrIp"], r.get("Description")))
        for g in p.get("UserIdGroupPairs", []):
            rules.add((p["IpProtocol"], *ports, g["GroupId"], g.get("Description")))
    return rules


def _groups(aws, vpc_id):
    """The VPC's groups by name: (ingress, egress, tags)."""
    found = aws("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    return {g["GroupName"]: (_rules(g["IpPermissions"]), _rules(g["IpPermissionsEgress"]),
                             {t["Key"]: t["Value"] for t in g.get("Tags", [])})
            for g in found if g["GroupName"] != "default"}


def _expected(ids):
    data = lambda port: ({("tcp", port, port, ids["t-app"], "from the app tasks")}, set())  # noqa: E731
    return {
        "t-alb": ({("tcp", 80, 80, "0.0.0.0/0", "HTTP and HTTPS from the internet"),
                   ("tcp", 443, 443, "0.0.0.0/0", "HTTP and HTTPS from the internet")},
                  {("tcp", 8000, 8000, cidr, None) for cidr in PRIVATE}),
        "t-app": ({("tcp", 8000, 8000, ids["t-alb"], "from the load balancer")},
                  {("-1", None, None, "0.0.0.0/0", None)}),
        "t-postgres": data(5432),
        "t-redis": data(6379),
    }


def test_creates_the_groups_with_exactly_their_rules_then_reports_no_change(
        ansible, aws, vpc, fresh_emulator):
    checked = ansible.module(MODULE, _plan(vpc), check=True)
    assert checked["changed"] is True
    assert [(r["name"], r["changed"], r["group_id"]) for r in checked["security_groups"]] == \
        [(name, True, "") for name in NAMES]
    assert "in tcp 8000 from group t-alb (to be created) # from the load balancer" in \
        checked["security_groups"][1]["group"]["ingress"]
    assert _groups(aws, vpc) == {}, "check mode created a group"

    start = len(fresh_emulator.calls)
    first = ansible.module(MODULE, _plan(vpc))
    actions = [c.action for c in fresh_emulator.calls[start:] if c.service == "ec2"]
    assert first["changed"] is True, first
    ids = first["group_ids"]
    assert list(ids) == NAMES
    assert all(i.startswith("sg-") for i in ids.values())
    assert [r["group_id"] for r in first["security_groups"]] == list(ids.values())
    state = _groups(aws, vpc)
    assert {name: rules[:2] for name, rules in state.items()} == _expected(ids)
    assert state["t-alb"][2] == {"Name": "t-alb", "Project": "t"}
    # One read of the VPC's groups, before any create; nothing read back or waited for after.
    creates = actions.index("CreateSecurityGroup")
    assert "DescribeSecurityGroups" in actions[:creates]
    assert "DescribeSecurityGroups" not in actions[creates:], actions
    assert "CreateTags" not in actions, "tags belong in the create call"
    alb = first["security_groups"][0]["group"]
    assert alb["egress"] == [f"out tcp 8000 to {cidr}" for cidr in PRIVATE]
    assert alb["ingress"] == ["in tcp 443 from 0.0.0.0/0 # HTTP and HTTPS from the internet",
                              "in tcp 80 from 0.0.0.0/0 # HTTP and HTTPS from the internet"]

    second = ansible.module(MODULE, _plan(vpc))
    assert second["changed"] is False, second
    assert second["group_ids"] == ids
    assert second["security_groups"][0]["group"] == alb
    assert ansible.module(MODULE, _plan(vpc), check=True)["changed"] is False


def test_a_group_ec2_does_not_know_yet_is_retried_not_slept_for(ansible, aws, vpc, monkeypatch):
    """EC2 is eventually consistent: right after its create, a call on a group may answer
    InvalidGroup.NotFound. Here the first lookup of each new group by ID fails, as on AWS."""
    from moto.ec2.models.security_groups import SecurityGroupBackend

    create = SecurityGroupBackend.create_security_group
    lookup = SecurityGroupBackend.get_security_group_from_id
    young: set[str] = set()
    refused: list[str] = []

    def created(self, *args, **kwargs):
        group = create(self, *args, **kwargs)
        young.add(group.id)
        return group

    def looked_up(self, group_id):
        if group_id in young:
            young.discard(group_id)
            refused.append(group_id)
            return None
        return lookup(self, group_id)

    monkeypatch.setattr(SecurityGroupBackend, "create_security_group", created)
    monkeypatch.setattr(SecurityGroupBackend, "get_security_group_from_id", looked_up)
    plan = _plan(vpc)
    plan["security_groups"] = plan["security_groups"][:2]  # the load balancer's and the app's
    result = ansible.module(MODULE, plan)
    assert result["changed"] is True, result
    ids = result["group_ids"]
    assert sorted(refused) == sorted(ids.values()), "each new group was refused once"
    expected = _expected(ids)
    assert {name: rules[:2] for name, rules in _groups(aws, vpc).items()} == \
        {name: expected[name] for name in ids}


def test_drift_is_found_in_check_mode_and_repaired(ansible, aws, vpc):
    ids = ansible.module(MODULE, _plan(vpc))["group_ids"]
    ec2 = aws("ec2")
    ec2.authorize_security_group_ingress(GroupId=ids["t-postgres"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    ec2.revoke_security_group_ingress(GroupId=ids["t-redis"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379,
         "UserIdGroupPairs": [{"GroupId": ids["t-app"], "Description": "from the app tasks"}]}])
    ec2.update_security_group_rule_descriptions_ingress(GroupId=ids["t-alb"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "edited"}]}])
    ec2.create_tags(Resources=[ids["t-app"]], Tags=[{"Key": "Extra", "Value": "x"}])
    drifted = _groups(aws, vpc)

    checked = ansible.module(MODULE, _plan(vpc), check=True, diff=True)
    assert [r["changed"] for r in checked["security_groups"]] == [True, True, True, True]
    assert _groups(aws, vpc) == drifted, "check mode repaired"
    before, after = checked["diff"]["before"], checked["diff"]["after"]
    assert "in tcp 443 from 0.0.0.0/0 # edited" in before["t-alb"]["ingress"]
    assert "in tcp 443 from 0.0.0.0/0 # HTTP and HTTPS from the internet" in \
        after["t-alb"]["ingress"]
    assert before["t-postgres"]["ingress"] != after["t-postgres"]["ingress"]
    assert "in tcp 5432 from 10.0.0.0/8" in before["t-postgres"]["ingress"]
    assert before["t-redis"]["ingress"] == []
    assert after["t-redis"]["ingress"] == \
        [f"in tcp 6379 from {ids['t-app']} (t-app) # from the app tasks"]
    assert before["t-app"]["tags"] == {"Name": "t-app", "Project": "t", "Extra": "x"}
    assert after["t-app"]["tags"] == {"Name": "t-app", "Project": "t"}

    repaired = ansible.module(MODULE, _plan(vpc))
    assert [r["changed"] for r in repaired["security_groups"]] == [True, True, True, True]
    state = _groups(aws, vpc)
    assert {name: rules[:2] for name, rules in state.items()} == _expected(ids)
    assert state["t-app"][2] == {"Name": "t-app", "Project": "t"}

    # A description AWS cannot change: warned about, left, no change and no failure.
    again = ansible.module(MODULE, _plan(vpc, **{"t-app": {"description": "another"}}))
    assert again.get("failed") is not True, again
    assert again["changed"] is False
    assert "security group t-app: its description" in json.dumps(again.get("warnings"))
    assert again["security_groups"][1]["group"]["description"] == \
        "t Fargate tasks: app port from the load balancer"


def test_unset_rules_egress_leaves_egress_alone(ansible, aws, vpc):
    unset = {"rules_egress": None}
    first = ansible.module(MODULE, _plan(vpc, **{"t-postgres": unset}))
    ids = first["group_ids"]
    # A new group keeps AWS's default egress rule when rules_egress is not given.
    assert _groups(aws, vpc)["t-postgres"][1] == {("-1", None, None, "0.0.0.0/0", None)}
    assert first["security_groups"][2]["group"]["egress"] == ["out all to 0.0.0.0/0"]
    aws("ec2").authorize_security_group_egress(GroupId=ids["t-postgres"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    assert ansible.module(MODULE, _plan(vpc, **{"t-postgres": unset}))["changed"] is False
    assert len(_groups(aws, vpc)["t-postgres"][1]) == 2
    # Given again (empty), it is purged.
    assert ansible.module(MODULE, _plan(vpc))["changed"] is True
    assert _groups(aws, vpc)["t-postgres"][1] == set()


def test_a_reference_to_an_unknown_or_later_item_is_refused_before_any_change(
        ansible, aws, vpc):
    plan = _plan(vpc, **{
        "t-alb": {"rules": [{"proto": "tcp", "ports": [80], "group_name": "t-app"}]},
        "t-postgres": {"rules": [{"proto": "tcp", "ports": [5432], "group_name": "t-nowhere"}]}})
    result = ansible.module(MODULE, plan)
    assert result.get("failed") is True
    assert "t-alb: rules[1]: group_name t-app is not an earlier item of security_groups " \
        "(it comes later: list it first)" in result["msg"]
    assert "t-postgres: rules[1]: group_name t-nowhere is not an earlier item" in result["msg"]
    assert _groups(aws, vpc) == {}, "created a group before failing"


def test_an_empty_vpc_id_is_a_planned_create_in_check_mode_only(ansible, fresh_emulator):
    checked = ansible.module(MODULE, _plan(""), check=True, diff=True)
    assert checked["changed"] is True
    assert checked["group_ids"] == dict.fromkeys(NAMES, "")
    assert checked["diff"]["before"] == {}
    assert checked["diff"]["after"]["t-postgres"]["egress"] == []
    assert checked["diff"]["after"]["t-app"]["egress"] == ["out all to 0.0.0.0/0"]
    failed = ansible.module(MODULE, _plan(""))
    assert failed.get("failed") is True
    assert "create the VPC first" in failed["msg"]


DEFAULT = {"name": "default", "description": "default VPC security group", "rules": [],
           "rules_egress": []}


def test_the_vpcs_default_group_is_emptied_never_created(ansible, aws, vpc):
    """CIS 5.4 / FSBP EC2.2: the default group AWS makes with the VPC (all traffic in from its
    members, all out) keeps no rule. It is found, not created: CreateSecurityGroup refuses the
    name, so a module that created a missing "default" would fail on AWS."""
    [group] = aws("ec2").describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"]
    # AWS's initial rules (moto's lacked the inbound one: tools/moto_patches.py).
    assert [(p["IpProtocol"], [g["GroupId"] for g in p["UserIdGroupPairs"]])
            for p in group["IpPermissions"]] == [("-1", [group["GroupId"]])]
    assert [(p["IpProtocol"], [r["CidrIp"] for r in p["IpRanges"]])
            for p in group["IpPermissionsEgress"]] == [("-1", ["0.0.0.0/0"])]
    plan = {"vpc_id": vpc, "security_groups": [DEFAULT]}
    checked = ansible.module(MODULE, plan, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"]["before"]["default"]["egress"] == ["out all to 0.0.0.0/0"]
    assert checked["diff"]["after"]["default"] == {
        "description": "default VPC security group", "ingress": [], "egress": [], "tags": {}}
    first = ansible.module(MODULE, plan)
    assert first["changed"] is True, first
    assert first["group_ids"] == {"default": group["GroupId"]}
    [emptied] = aws("ec2").describe_security_groups(GroupIds=[group["GroupId"]])[
        "SecurityGroups"]
    assert (emptied["IpPermissions"], emptied["IpPermissionsEgress"]) == ([], [])
    assert ansible.module(MODULE, plan)["changed"] is False
    # Before the VPC exists (check mode): planned against the rules AWS will give it.
    planned = ansible.module(MODULE, {"vpc_id": "", "security_groups": [DEFAULT]}, check=True,
                             diff=True)
    assert planned["changed"] is True
    assert planned["diff"]["before"]["default"]["ingress"] == [
        "in all from group default (to be created)"]
