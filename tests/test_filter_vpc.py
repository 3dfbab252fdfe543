"""booking.aws.vpc_subnet_plan, vpc_subnet_requests and vpc_private_route_tables
(plugins/filter/vpc.py), in pure Python.

The vpc role's subnet plan and subnet requests were built by Jinja loops in
roles/vpc/vars/main.yml; the filters must build the very same values so a converged VPC stays
unchanged. The REFERENCE values below are what that Jinja rendered (ansible-core 2.21, before the
move) for the molecule scenario's inputs, and for a three-AZ input whose tags already hold Name
and Tier. No emulator: the plugin file is loaded from its path.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.booking.aws.plugins.filter import vpc

REPO = Path(__file__).resolve().parents[1]





def _json(value: Any) -> str:
    """Compared as JSON: key order, and bool vs str vs int, count."""
    return json.dumps(value)


# roles/vpc/molecule/default/molecule.yml's inputs.
PREFIX = "molecule-staging"
TAGS = {"Project": "molecule", "Environment": "staging", "ManagedBy": "ansible"}
AZS = ["eu-west-1a", "eu-west-1b"]
SUBNETS = {
    "public": ["10.20.1.0/24", "10.20.2.0/24"],
    "private": ["10.20.10.0/24", "10.20.20.0/24"],
    "database": ["10.20.100.0/24", "10.20.200.0/24"],
}
TIERS = ["public", "private", "database"]  # __vpc_tiers

# Rendered by the former Jinja of roles/vpc/vars/main.yml (__vpc_subnet_plan) for those inputs.
REFERENCE_PLAN: list[dict[str, Any]] = [
    {"tier": "public", "cidr": "10.20.1.0/24", "az": "eu-west-1a", "suffix": "a",
     "name": "molecule-staging-public-a"},
    {"tier": "public", "cidr": "10.20.2.0/24", "az": "eu-west-1b", "suffix": "b",
     "name": "molecule-staging-public-b"},
    {"tier": "private", "cidr": "10.20.10.0/24", "az": "eu-west-1a", "suffix": "a",
     "name": "molecule-staging-private-a"},
    {"tier": "private", "cidr": "10.20.20.0/24", "az": "eu-west-1b", "suffix": "b",
     "name": "molecule-staging-private-b"},
    {"tier": "database", "cidr": "10.20.100.0/24", "az": "eu-west-1a", "suffix": "a",
     "name": "molecule-staging-database-a"},
    {"tier": "database", "cidr": "10.20.200.0/24", "az": "eu-west-1b", "suffix": "b",
     "name": "molecule-staging-database-b"},
]


def _request(cidr: str, az: str, public: bool, name: str, tier: str) -> dict[str, Any]:
    return {"cidr": cidr, "az": az, "map_public": public,
            "tags": {"Project": "molecule", "Environment": "staging", "ManagedBy": "ansible",
                     "Name": name, "Tier": tier},
            "purge_tags": True}


# Rendered by the former Jinja (__vpc_subnet_requests) for the same inputs.
REFERENCE_REQUESTS: list[dict[str, Any]] = [
    _request("10.20.1.0/24", "eu-west-1a", True, "molecule-staging-public-a", "public"),
    _request("10.20.2.0/24", "eu-west-1b", True, "molecule-staging-public-b", "public"),
    _request("10.20.10.0/24", "eu-west-1a", False, "molecule-staging-private-a", "private"),
    _request("10.20.20.0/24", "eu-west-1b", False, "molecule-staging-private-b", "private"),
    _request("10.20.100.0/24", "eu-west-1a", False, "molecule-staging-database-a", "database"),
    _request("10.20.200.0/24", "eu-west-1b", False, "molecule-staging-database-b", "database"),
]

# A production-like input: three AZs in GovCloud, the tiers given in another order plus a key
# that is not a tier, tags that already carry Name and Tier and a number.
GOV_AZS = ["us-gov-west-1a", "us-gov-west-1b", "us-gov-west-1c"]
GOV_SUBNETS = {
    "database": ["10.0.100.0/24", "10.0.101.0/24", "10.0.102.0/24"],
    "private": ["10.0.10.0/24", "10.0.11.0/24", "10.0.12.0/24"],
    "public": ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"],
    "extra": ["10.0.200.0/24"],
}
GOV_TAGS = {"Name": "ignored", "Project": "booking", "Tier": "x", "CostCenter": 42}
# What the former Jinja rendered for the first and the last subnet of that input.
GOV_FIRST_REQUEST = {"cidr": "10.0.1.0/24", "az": "us-gov-west-1a", "map_public": True,
                     "tags": {"Name": "booking-api-prod-public-a", "Project": "booking",
                              "Tier": "public", "CostCenter": 42},
                     "purge_tags": True}
GOV_LAST_REQUEST = {"cidr": "10.0.102.0/24", "az": "us-gov-west-1c", "map_public": False,
                    "tags": {"Name": "booking-api-prod-database-c", "Project": "booking",
                             "Tier": "database", "CostCenter": 42},
                    "purge_tags": True}


# --- the former Jinja's output --------------------------------------------------------------------

def test_plan_is_what_the_former_jinja_rendered():
    plan = vpc.vpc_subnet_plan(SUBNETS, AZS, PREFIX, TIERS)
    assert _json(plan) == _json(REFERENCE_PLAN)


def test_requests_are_what_the_former_jinja_rendered():
    plan = vpc.vpc_subnet_plan(SUBNETS, AZS, PREFIX, TIERS)
    assert _json(vpc.vpc_subnet_requests(plan, TAGS)) == _json(REFERENCE_REQUESTS)


def test_three_azs_with_tags_that_hold_name_and_tier_as_the_former_jinja_rendered():
    plan = vpc.vpc_subnet_plan(GOV_SUBNETS, GOV_AZS, "booking-api-prod", TIERS)
    requests = vpc.vpc_subnet_requests(plan, GOV_TAGS)
    assert len(requests) == 9
    assert _json(requests[0]) == _json(GOV_FIRST_REQUEST)
    assert _json(requests[-1]) == _json(GOV_LAST_REQUEST)


# --- behaviour ------------------------------------------------------------------------------------

def test_plan_goes_tier_by_tier_in_the_tiers_order_then_az_order():
    plan = vpc.vpc_subnet_plan(GOV_SUBNETS, GOV_AZS, "booking-api-prod", TIERS)
    assert [(item["tier"], item["az"]) for item in plan] == [
        (tier, az) for tier in TIERS for az in GOV_AZS]
    # The n-th CIDR of a tier is in the n-th AZ; a key that is not a tier is not planned.
    assert [item["cidr"] for item in plan if item["tier"] == "database"] == GOV_SUBNETS["database"]
    assert "10.0.200.0/24" not in [item["cidr"] for item in plan]


def test_default_tiers_are_public_private_database():
    assert vpc.TIERS == ("public", "private", "database")
    assert _json(vpc.vpc_subnet_plan(SUBNETS, AZS, PREFIX)) == _json(REFERENCE_PLAN)


def test_suffix_is_the_azs_last_letter_and_names_the_subnet():
    plan = vpc.vpc_subnet_plan({"public": ["10.1.1.0/24", "10.1.2.0/24"]},
                               ["cn-north-1a", "cn-north-1d"], "b-dev", ["public"])
    assert [(item["suffix"], item["name"]) for item in plan] == [
        ("a", "b-dev-public-a"), ("d", "b-dev-public-d")]


def test_map_public_only_in_the_public_tier():
    plan = vpc.vpc_subnet_plan(SUBNETS, AZS, PREFIX, TIERS)
    by_tier = {(r["tags"]["Tier"], r["map_public"]) for r in vpc.vpc_subnet_requests(plan, TAGS)}
    assert by_tier == {("public", True), ("private", False), ("database", False)}


def test_name_and_tier_tags_win_the_other_tags_stay_and_the_input_is_not_changed():
    tags = copy.deepcopy(GOV_TAGS)
    plan = vpc.vpc_subnet_plan({"private": ["10.0.10.0/24"]}, GOV_AZS, "p-q", ["private"])
    [request] = vpc.vpc_subnet_requests(plan, tags)
    assert request["tags"] == {"Name": "p-q-private-a", "Project": "booking", "Tier": "private",
                               "CostCenter": 42}
    assert request["purge_tags"] is True
    assert tags == GOV_TAGS


def test_fewer_cidrs_than_azs_plan_the_azs_they_cover_as_before():
    # check_inputs.yml refuses this before the plan is used; the former Jinja planned the AZs
    # covered, and so does the filter.
    plan = vpc.vpc_subnet_plan(
        {"public": ["10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"], "private": ["10.1.10.0/24"],
         "database": []},
        ["cn-north-1a", "cn-north-1b", "cn-north-1d"], "b-dev", TIERS)
    assert [item["name"] for item in plan] == [
        "b-dev-public-a", "b-dev-public-b", "b-dev-public-d", "b-dev-private-a"]


def test_empty_tags_give_name_and_tier_only():
    plan = vpc.vpc_subnet_plan({"database": ["10.0.100.0/24"]}, AZS, "x-y", ["database"])
    assert vpc.vpc_subnet_requests(plan, {})[0]["tags"] == {"Name": "x-y-database-a",
                                                            "Tier": "database"}


# --- bad input ------------------------------------------------------------------------------------

def test_a_tier_with_more_cidrs_than_azs_is_refused():
    subnets = {**SUBNETS, "public": ["10.20.1.0/24", "10.20.2.0/24", "10.20.3.0/24"]}
    with pytest.raises(AnsibleFilterError,
                       match=r"public subnets list 3 CIDRs .* only 2 availability zones"):
        vpc.vpc_subnet_plan(subnets, AZS, PREFIX, TIERS)


@pytest.mark.parametrize(("subnets", "azs", "prefix", "message"), [
    (["10.0.1.0/24"], AZS, PREFIX, "dict of CIDR lists"),
    ({"public": SUBNETS["public"], "private": SUBNETS["private"]}, AZS, PREFIX,
     "no 'database' list"),
    ({**SUBNETS, "private": "10.20.10.0/24"}, AZS, PREFIX, "private subnets must be a list"),
    ({**SUBNETS, "database": ["10.20.100.0/24", None]}, AZS, PREFIX, "every item of the database"),
    (SUBNETS, "eu-west-1a", PREFIX, "availability zones must be a list"),
    (SUBNETS, ["eu-west-1a", ""], PREFIX, "every item of the availability zones"),
    (SUBNETS, AZS, "", "name prefix must be a non-empty string"),
    (SUBNETS, AZS, None, "name prefix must be a non-empty string"),
])
def test_plan_refuses_bad_input(subnets: Any, azs: Any, prefix: Any, message: str):
    with pytest.raises(AnsibleFilterError, match=message):
        vpc.vpc_subnet_plan(subnets, azs, prefix, TIERS)


@pytest.mark.parametrize(("plan", "tags", "message"), [
    (REFERENCE_PLAN, None, "tags must be a dict"),
    (REFERENCE_PLAN, ["Project"], "tags must be a dict"),
    ("public", TAGS, "expected the list vpc_subnet_plan returns"),
    ({"tier": "public"}, TAGS, "expected the list vpc_subnet_plan returns"),
    ([{"cidr": "10.0.0.0/24", "az": "eu-west-1a"}], TAGS, "needs tier, cidr, az, suffix, name"),
    (["10.0.0.0/24"], TAGS, "needs tier, cidr, az, suffix, name"),
])
def test_requests_refuse_bad_input(plan: Any, tags: Any, message: str):
    with pytest.raises(AnsibleFilterError, match=message):
        vpc.vpc_subnet_requests(plan, tags)


# --- private route tables ----------------------------------------------------------------------

TWO_AZS = ["us-east-1a", "us-east-1b"]


def test_each_azs_private_subnet_routes_to_its_own_nat_gateway():
    tags = {"Environment": "local"}
    tables = vpc.vpc_private_route_tables(TWO_AZS, "bk", tags, ["subnet-a", "subnet-b"],
                                          ["nat-a", "nat-b"])
    assert tables == [
        {"name": "bk-private-a", "tags": {"Environment": "local", "Tier": "private"},
         "subnets": ["subnet-a"], "routes": [{"dest": "0.0.0.0/0", "nat_gateway_id": "nat-a"}]},
        {"name": "bk-private-b", "tags": {"Environment": "local", "Tier": "private"},
         "subnets": ["subnet-b"], "routes": [{"dest": "0.0.0.0/0", "nat_gateway_id": "nat-b"}]},
    ]
    assert tags == {"Environment": "local"}, "the input was changed"


def test_a_single_nat_gateway_serves_every_az():
    tables = vpc.vpc_private_route_tables(TWO_AZS, "bk", {}, ["subnet-a", "subnet-b"], ["nat-a"])
    assert [t["routes"][0]["nat_gateway_id"] for t in tables] == ["nat-a", "nat-a"]


@pytest.mark.parametrize(("subnets", "nats", "message"), [
    (["subnet-a"], ["nat-a"], "one private subnet per AZ expected, got 1 for 2 AZs"),
    (["subnet-a", "subnet-b"], ["nat-a", "nat-b", "nat-c"], "got 3 for 2 AZs"),
    (["subnet-a", "subnet-b"], "nat-a", "the NAT gateway IDs must be a list of strings"),
    (["subnet-a", ""], ["nat-a"], "every item of the private subnet IDs must be a non-empty"),
])
def test_private_route_tables_refuse_bad_input(subnets: Any, nats: Any, message: str):
    with pytest.raises(AnsibleFilterError, match=message):
        vpc.vpc_private_route_tables(TWO_AZS, "bk", {}, subnets, nats)


# --- wiring ---------------------------------------------------------------------------------------

def test_filter_module_names_the_filters():
    assert vpc.FilterModule().filters() == {
        "vpc_subnet_plan": vpc.vpc_subnet_plan,
        "vpc_subnet_requests": vpc.vpc_subnet_requests,
        "vpc_private_route_tables": vpc.vpc_private_route_tables}


def test_the_roles_vars_use_the_filters_and_the_contract_and_loop_no_more():
    text = (REPO / "roles/vpc/vars/main.yml").read_text()
    assert "{%" not in text
    values = yaml.safe_load(text)
    assert "booking.aws.vpc_subnet_plan(" in values["__vpc_subnet_plan"]
    assert "booking.aws.vpc_subnet_requests(" in values["__vpc_subnet_requests"]
    assert "booking.aws.resource_names" in values["__vpc_names"]
    assert values["__vpc_tiers"] == list(vpc.TIERS)
