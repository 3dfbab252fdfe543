"""The vpc role's subnet plan and subnet requests, built in Python.

roles/vpc/vars/main.yml hands these filters the role's inputs (``vpc_subnets``,
``vpc_availability_zones``, ``vpc_name_prefix``, ``vpc_tags``); the subnets come out in the order
the role makes them and as ``booking.aws.ec2_vpc_subnets`` takes them. The names of what other
roles look up (the VPC, the security groups) come from the environment contract
(``contract.py``), not from here. Tested without AWS in tests/test_filter_vpc.py.

Filters:
- ``vpc_subnet_plan(subnets, availability_zones, name_prefix, tiers)``: one entry per subnet,
  tier by tier and in AZ order: ``tier``, ``cidr``, ``az``, ``suffix`` (the AZ's last letter),
  ``name`` (``<prefix>-<tier>-<suffix>``).
- ``vpc_subnet_requests(plan, tags)``: that plan as ``booking.aws.ec2_vpc_subnets`` takes it:
  ``cidr``, ``az``, ``map_public`` (public tier only), ``tags`` (the tags plus ``Name`` and
  ``Tier``), ``purge_tags: true``.
- ``vpc_private_route_tables(availability_zones, name_prefix, tags, subnet_ids, nat_gateway_ids)``:
  one route table per AZ as ``booking.aws.ec2_vpc_route_tables`` takes it: ``<prefix>-private-<
  suffix>``, the AZ's private subnet, a default route to the AZ's own NAT gateway (one gateway
  for every AZ when there is only one: ``vpc_nat_gateway_mode: single``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

# The tiers of vpc_subnets, in the order their subnets are made.
TIERS: tuple[str, ...] = ("public", "private", "database")
# The tier whose subnets give their instances a public IP (load balancer, NAT gateways).
PUBLIC_TIER = "public"
# What a plan entry holds (vpc_subnet_plan), in this key order.
PLAN_KEYS: tuple[str, ...] = ("tier", "cidr", "az", "suffix", "name")


def _text(filter_name: str, what: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise AnsibleFilterError(f"{filter_name}: {what} must be a non-empty string, got {value!r}")
    return value


def _texts(filter_name: str, what: str, value: Any) -> list[str]:
    """A list of non-empty strings (a plain string is refused: it is not a list of one)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise AnsibleFilterError(f"{filter_name}: {what} must be a list of strings, got {value!r}")
    return [_text(filter_name, f"every item of {what}", item) for item in value]


def vpc_subnet_plan(subnets: Mapping[str, Sequence[str]], availability_zones: Sequence[str],
                    name_prefix: str, tiers: Sequence[str] = TIERS) -> list[dict[str, str]]:
    """One entry per subnet: the tiers in ``tiers`` order, each tier's CIDRs in AZ order.

    The n-th CIDR of a tier goes to the n-th availability zone; its Name is
    ``<name_prefix>-<tier>-<last letter of the AZ>``. A tier with more CIDRs than there are AZs
    has no AZ for the extra ones and is refused. (The role's check_inputs.yml also asks for
    exactly one CIDR per AZ; a shorter list plans the AZs it covers.) Keys of ``subnets`` that
    are not in ``tiers`` are not planned.
    """
    name = "vpc_subnet_plan"
    if not isinstance(subnets, Mapping):
        raise AnsibleFilterError(
            f"{name}: the subnets must be a dict of CIDR lists by tier, got {subnets!r}")
    zones = _texts(name, "the availability zones", availability_zones)
    prefix = _text(name, "the name prefix", name_prefix)
    plan: list[dict[str, str]] = []
    for tier in _texts(name, "the tiers", tiers):
        if tier not in subnets:
            raise AnsibleFilterError(
                f"{name}: the subnets have no {tier!r} list (tiers: {', '.join(tiers)})")
        cidrs = _texts(name, f"the {tier} subnets", subnets[tier])
        if len(cidrs) > len(zones):
            raise AnsibleFilterError(
                f"{name}: the {tier} subnets list {len(cidrs)} CIDRs ({', '.join(cidrs)}) but "
                f"there are only {len(zones)} availability zones ({', '.join(zones)}): give one "
                "CIDR per AZ")
        for cidr, zone in zip(cidrs, zones, strict=False):
            suffix = zone[-1:]
            plan.append({"tier": tier, "cidr": cidr, "az": zone, "suffix": suffix,
                         "name": f"{prefix}-{tier}-{suffix}"})
    return plan


def vpc_subnet_requests(plan: Sequence[Mapping[str, Any]],
                        tags: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The plan of ``vpc_subnet_plan`` as ``booking.aws.ec2_vpc_subnets`` takes it.

    Each subnet carries ``tags`` plus its ``Name`` and ``Tier`` (which win over tags of the same
    name), purges other tags, and maps a public IP on launch only in the public tier.
    """
    name = "vpc_subnet_requests"
    if not isinstance(tags, Mapping):
        raise AnsibleFilterError(f"{name}: the tags must be a dict, got {tags!r}")
    if isinstance(plan, (str, bytes, Mapping)) or not isinstance(plan, Sequence):
        raise AnsibleFilterError(
            f"{name}: expected the list vpc_subnet_plan returns, got {plan!r}")
    requests: list[dict[str, Any]] = []
    for entry in plan:
        if not isinstance(entry, Mapping) or any(key not in entry for key in PLAN_KEYS):
            raise AnsibleFilterError(
                f"{name}: every plan entry needs {', '.join(PLAN_KEYS)} (vpc_subnet_plan), "
                f"got {entry!r}")
        requests.append({
            "cidr": entry["cidr"],
            "az": entry["az"],
            "map_public": entry["tier"] == PUBLIC_TIER,
            "tags": {**tags, "Name": entry["name"], "Tier": entry["tier"]},
            "purge_tags": True,
        })
    return requests


def vpc_private_route_tables(availability_zones: Sequence[str], name_prefix: str,
                             tags: Mapping[str, Any], subnet_ids: Sequence[str],
                             nat_gateway_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The private tier's route tables: each AZ's private subnet to its NAT gateway.

    ``subnet_ids`` are the private subnets in AZ order; ``nat_gateway_ids`` one per AZ (per_az)
    or a single one that every AZ shares. Each table is named ``<prefix>-private-<suffix>`` and
    carries ``tags`` plus ``Tier: private``.
    """
    name = "vpc_private_route_tables"
    azs = _texts(name, "the availability zones", availability_zones)
    prefix = _text(name, "the name prefix", name_prefix)
    subnets = _texts(name, "the private subnet IDs", subnet_ids)
    nats = _texts(name, "the NAT gateway IDs", nat_gateway_ids)
    if not isinstance(tags, Mapping):
        raise AnsibleFilterError(f"{name}: the tags must be a dict, got {tags!r}")
    if len(subnets) != len(azs):
        raise AnsibleFilterError(
            f"{name}: one private subnet per AZ expected, got {len(subnets)} for {len(azs)} AZs")
    if len(nats) not in (1, len(azs)):
        raise AnsibleFilterError(
            f"{name}: one NAT gateway, or one per AZ, expected; got {len(nats)} for "
            f"{len(azs)} AZs")
    return [{
        "name": f"{prefix}-private-{az[-1:]}",
        "tags": {**tags, "Tier": "private"},
        "subnets": [subnet],
        "routes": [{"dest": "0.0.0.0/0", "nat_gateway_id": nats[index if len(nats) > 1 else 0]}],
    } for index, (az, subnet) in enumerate(zip(azs, subnets, strict=True))]


class FilterModule:
    """booking.aws.vpc_subnet_plan, vpc_subnet_requests, vpc_private_route_tables."""

    def filters(self) -> dict[str, Any]:
        return {
            "vpc_subnet_plan": vpc_subnet_plan,
            "vpc_subnet_requests": vpc_subnet_requests,
            "vpc_private_route_tables": vpc_private_route_tables,
        }
