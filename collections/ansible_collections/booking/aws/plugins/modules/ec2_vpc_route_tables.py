#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a VPC's list of route tables (routes, subnet associations, tags) in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ec2_vpc_route_tables
short_description: Manage a list of route tables of one VPC in one module run
description:
  - Creates each route table of I(route_tables) that the VPC lacks (found by its C(Name) tag, as
    C(amazon.aws.ec2_vpc_route_table) with C(lookup=tag) finds it), and keeps its IPv4 routes,
    its explicit subnet associations and its tags as given, reading all of the VPC's route tables
    with one DescribeRouteTables call.
  - Exists for speed - one module start-up for all the tables instead of one per table, and no
    blind C(sleep(5)) after each changed table as C(amazon.aws.ec2_vpc_route_table) does. It
    waits only where AWS needs it, each wait bounded by I(wait_timeout) - calls on a table
    created in this run that answer C(InvalidRouteTableID.NotFound) (the EC2 API is eventually
    consistent) and CreateRoute / ReplaceRoute naming a gateway that the routing API does not
    know yet (C(InvalidNatGatewayID.NotFound), C(InvalidGatewayID.NotFound) - a NAT gateway
    created moments before, boto/boto3 issue 779).
  - Checked before anything changes - a name listed twice, a subnet listed for two tables, two
    tables of the VPC with the same C(Name) tag, a bad route, a route over the VPC's C(local)
    route. Each fails the run naming what is wrong.
  - Only IPv4 routes are managed. The VPC's C(local) routes, routes propagated from a virtual
    private gateway (origin C(EnableVgwRoutePropagation)), IPv6 routes and prefix-list routes
    (those of gateway VPC endpoints) are never changed nor purged.
  - Route tables of the VPC that are not listed are left alone, except that a subnet listed here
    is moved from them with ReplaceRouteTableAssociation (AWS allows one table per subnet). Deleting
    route tables is the vpc role's teardown's job.
  - Supports check mode and diff mode (C(before)/C(after) keyed by table name, for the tables
    that would change).
options:
  vpc_id:
    description:
      - The VPC. Empty is accepted only in check mode, before the VPC exists (every route table
        would be created).
    type: str
    required: true
  route_tables:
    description: The route tables, converged in this order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Value of the table's C(Name) tag; identifies the table in the VPC.
        type: str
        required: true
      tags:
        description: Tags of the table besides C(Name) (C(Name) is always I(name)).
        type: dict
        default: {}
      purge_tags:
        description: Whether tags not in I(tags) (and not C(Name)) are removed.
        type: bool
        default: true
      subnets:
        description:
          - IDs of the subnets explicitly associated with the table. A subnet associated with
            another table is moved to this one. Unset leaves associations alone.
        type: list
        elements: str
      purge_subnets:
        description:
          - Whether other explicit subnet associations of the table are removed (those subnets
            fall back to the VPC's main route table). A subnet that another item of
            I(route_tables) lists is moved by that item instead.
        type: bool
        default: true
      routes:
        description: IPv4 routes of the table. Unset leaves routes alone.
        type: list
        elements: dict
        suboptions:
          dest:
            description: Destination IPv4 CIDR block, e.g. C(0.0.0.0/0).
            type: str
            required: true
          gateway_id:
            description: Internet (or virtual private) gateway the route goes to.
            type: str
          nat_gateway_id:
            description: NAT gateway the route goes to.
            type: str
      purge_routes:
        description:
          - Whether IPv4 routes not in I(routes) are deleted. Never the C(local) routes nor
            propagated ones.
        type: bool
        default: true
  wait_timeout:
    description:
      - Seconds one call may be retried while AWS does not know a resource yet - a table created
        in this run (read-after-create), a NAT gateway or internet gateway a route names.
    type: int
    default: 60
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Public, private and database route tables
  booking.aws.ec2_vpc_route_tables:
    vpc_id: vpc-0a1b2c3d4e5f67890
    route_tables:
      - name: shop-public
        tags: {Tier: public}
        subnets: [subnet-0aaaaaaaaaaaaaaa1, subnet-0aaaaaaaaaaaaaaa2]
        routes:
          - {dest: 0.0.0.0/0, gateway_id: igw-0123456789abcdef0}
      - name: shop-private-a
        tags: {Tier: private}
        subnets: [subnet-0bbbbbbbbbbbbbbb1]
        routes:
          - {dest: 0.0.0.0/0, nat_gateway_id: nat-0123456789abcdef0}
      - name: shop-database
        tags: {Tier: database}
        subnets: [subnet-0ccccccccccccccc1]
        routes: []
"""

RETURN = r"""
route_tables:
  description: One result per item of I(route_tables), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The item's name.
      type: str
    changed:
      description: Whether the table was (in check mode, would be) created or changed.
      type: bool
    route_table:
      description:
        - The table after the run (in check mode, as it is) - C(id), C(routes) (every route,
          C(local) ones included, as C(dest) and C(target)), C(subnets) (explicitly associated,
          sorted), C(tags) - empty for one check mode would create.
      type: dict
  sample:
    - name: shop-public
      changed: false
      route_table:
        id: rtb-0123456789abcdef0
        routes:
          - {dest: 10.0.0.0/16, target: local}
          - {dest: 0.0.0.0/0, target: igw-0123456789abcdef0}
        subnets: [subnet-0aaaaaaaaaaaaaaa1, subnet-0aaaaaaaaaaaaaaa2]
        tags: {Name: shop-public, Tier: public}
diff:
  description:
    - In diff mode, the tables that change - C(before) and C(after), each keyed by table name,
      with the managed C(routes) (C(dest) to target ID), C(subnets) (sorted) and C(tags);
      C(before) is empty for a table to be created.
  returned: diff mode
  type: dict
"""

import ipaddress
import uuid
from functools import partial
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.booking.aws.plugins.module_utils.eventual_consistency import (
    call_until_accepted,
)
from ansible_collections.booking.aws.plugins.module_utils.list_module import refuse_repeats

# A table created moments ago may be unknown to the next call (EC2 eventual consistency).
TABLE_NOT_YET_KNOWN = ("InvalidRouteTableID.NotFound",)
# A NAT gateway (or internet gateway) created moments ago may be unknown to the routing API:
# CreateRoute / ReplaceRoute answer these until it is (boto/boto3 #779).
TARGET_NOT_YET_KNOWN = ("InvalidNatGatewayID.NotFound", "InvalidGatewayID.NotFound")
# AWS needs these seconds, not minutes: poll briskly, never slower than every 2 s.
RETRY_DELAY = 0.5
RETRY_MAX_DELAY = 2.0

# Where DescribeRouteTables names a route's target, first match wins (an instance route also
# names its network interface).
TARGET_KEYS = ("GatewayId", "NatGatewayId", "InstanceId", "NetworkInterfaceId",
               "TransitGatewayId", "VpcPeeringConnectionId", "EgressOnlyInternetGatewayId",
               "CarrierGatewayId", "LocalGatewayId", "CoreNetworkArn", "VpcEndpointId")
PROPAGATED = "EnableVgwRoutePropagation"
# A subnet association that still routes the subnet (not one being or already removed).
LIVE_ASSOCIATION = {"associated", "associating"}
# Check mode's stand-in ID for a table it would create.
PLANNED = "(to be created: "


def _dest(route: dict[str, Any]) -> str:
    return (route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
            or route.get("DestinationPrefixListId") or "")


def _target(route: dict[str, Any]) -> str:
    return next((route[key] for key in TARGET_KEYS if route.get(key)), "")


def _is_local(route: dict[str, Any]) -> bool:
    return route.get("GatewayId") == "local" or route.get("Origin") == "CreateRouteTable"


def _managed(route: dict[str, Any]) -> bool:
    """Whether this module may replace or delete the route: an IPv4 route someone created."""
    return bool(route.get("DestinationCidrBlock")) and not _is_local(route) \
        and route.get("Origin") != PROPAGATED


def _tags(table: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in table.get("Tags") or []}


def _wanted_target(route: dict[str, Any]) -> tuple[str, str]:
    """(CreateRoute parameter, ID) of an item's route."""
    if route.get("nat_gateway_id"):
        return "NatGatewayId", route["nat_gateway_id"]
    return "GatewayId", route.get("gateway_id") or ""


class _Vpc:
    """The VPC's route tables and subnet associations as they are, then as this run makes them.

    Check mode changes only this model, so that an item sees what the items before it would do
    (a subnet moved away, a table created), and the diff shows every table's end state.
    """

    def __init__(self, tables: list[dict[str, Any]]) -> None:
        self.tables: dict[str, dict[str, Any]] = {}
        self.associations: dict[str, tuple[str, str]] = {}  # subnet -> (table ID, association)
        for table in tables:
            self.add(table)

    def add(self, table: dict[str, Any]) -> None:
        table_id = table["RouteTableId"]
        self.tables[table_id] = {"id": table_id, "routes": list(table.get("Routes") or []),
                                 "tags": _tags(table)}
        for association in table.get("Associations") or []:
            state = (association.get("AssociationState") or {}).get("State", "associated")
            if association.get("SubnetId") and not association.get("Main") \
                    and state in LIVE_ASSOCIATION:
                self.associations[association["SubnetId"]] = (
                    table_id, association["RouteTableAssociationId"])

    def named(self, name: str) -> list[str]:
        return [t["id"] for t in self.tables.values() if t["tags"].get("Name") == name]

    def subnets_of(self, table_id: str) -> list[str]:
        return sorted(s for s, (t, _) in self.associations.items() if t == table_id)

    def shown(self, table_id: str) -> dict[str, Any]:
        table = self.tables[table_id]
        return {"id": table_id,
                "routes": [{"dest": _dest(r), "target": _target(r)} for r in table["routes"]],
                "subnets": self.subnets_of(table_id), "tags": dict(table["tags"])}

    def for_diff(self, table_id: str | None) -> dict[str, Any]:
        """What the item manages: IPv4 routes (dest -> target), subnets, tags; {} if no table."""
        if table_id is None:
            return {}
        table = self.tables[table_id]
        return {"routes": {_dest(r): _target(r) for r in table["routes"] if _managed(r)},
                "subnets": self.subnets_of(table_id), "tags": dict(table["tags"])}


def _read(client: Any, vpc_id: str) -> list[dict[str, Any]]:
    paginator = client.get_paginator("describe_route_tables")
    return paginator.paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]) \
        .build_full_result()["RouteTables"]


def _refuse_bad_items(module: Any, items: list[dict[str, Any]]) -> None:
    """Fail before any AWS call on what the items alone show wrong."""
    refuse_repeats(module, "route_tables", [i["name"] for i in items])
    problems: list[str] = []
    owner: dict[str, str] = {}
    for item in items:
        name = item["name"]
        for subnet in item["subnets"] or []:
            if subnet in owner and owner[subnet] != name:
                problems.append(f"subnet {subnet} is listed for {owner[subnet]} and {name}")
            owner.setdefault(subnet, name)
        dests: list[str] = []
        for route in item["routes"] or []:
            try:
                ipaddress.IPv4Network(route["dest"])
            except ValueError as e:
                problems.append(f"{name}: dest {route['dest']} is not an IPv4 CIDR block ({e})")
            if not _wanted_target(route)[1]:
                problems.append(f"{name}: the route to {route['dest']} has no target")
            dests.append(route["dest"])
        repeated = sorted({d for d in dests if dests.count(d) > 1})
        if repeated:
            problems.append(f"{name}: each dest once; repeated: {', '.join(repeated)}")
    if problems:
        module.fail_json(msg="route_tables: " + "; ".join(problems))


def _refuse_bad_state(module: Any, vpc: _Vpc, vpc_id: str, items: list[dict[str, Any]]) -> None:
    """Fail before any change on what the VPC's tables show wrong for the items."""
    problems: list[str] = []
    for item in items:
        found = vpc.named(item["name"])
        if len(found) > 1:
            problems.append(f"{len(found)} route tables of {vpc_id} have the Name tag "
                            f"{item['name']}: {', '.join(sorted(found))}")
        elif found:
            local = {_dest(r) for r in vpc.tables[found[0]]["routes"] if _is_local(r)}
            problems.extend(f"{item['name']}: {r['dest']} is the VPC's local route"
                            for r in item["routes"] or [] if r["dest"] in local)
    if problems:
        module.fail_json(msg="; ".join(problems))


class _Converger:
    """Converges one item at a time against the model, calling AWS unless in check mode."""

    def __init__(self, module: Any, client: Any, vpc: _Vpc, vpc_id: str,
                 claimed: dict[str, str]) -> None:
        self.module = module
        self.client = client
        self.vpc = vpc
        self.vpc_id = vpc_id
        self.claimed = claimed  # subnet -> name of the item that lists it
        self.check_mode: bool = module.check_mode
        self.wait_timeout: int = module.params["wait_timeout"]

    def _call(self, method: str, codes: tuple[str, ...], **request: Any) -> Any:
        """client.<method>(**request), retried for wait_timeout while AWS answers `codes`."""
        call = partial(getattr(self.client, method), aws_retry=True, **request)
        if not codes:
            return call()
        return call_until_accepted(call, codes, self.wait_timeout,
                                   delay=RETRY_DELAY, max_delay=RETRY_MAX_DELAY)

    def converge(self, item: dict[str, Any]) -> tuple[str, bool]:
        """Converge the item: (its table's ID in the model, changed)."""
        found = self.vpc.named(item["name"])
        tags = {str(k): str(v) for k, v in (item["tags"] or {}).items()}
        tags["Name"] = item["name"]
        if found:
            table_id, created = found[0], False
            changed = self._tags(table_id, tags, item["purge_tags"])
        else:
            table_id, created, changed = self._create(tags), True, True
        # Calls on a table created in this run may meet AWS's read-after-create lag.
        new_table = TABLE_NOT_YET_KNOWN if created else ()
        if item["routes"] is not None:
            changed |= self._routes(table_id, item["routes"], item["purge_routes"], new_table)
        if item["subnets"] is not None:
            changed |= self._subnets(table_id, item["name"], item["subnets"],
                                     item["purge_subnets"], new_table)
        return table_id, changed

    def _create(self, tags: dict[str, str]) -> str:
        tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
        if self.check_mode:  # a placeholder, so later items can plan moves to it
            table_id = f"{PLANNED}{tags['Name']})"
            self.vpc.add({"RouteTableId": table_id, "Routes": [], "Tags": tag_list})
            return table_id
        # Tags in the create call: the table is never untagged (lookup by Name would miss it).
        # ClientToken: a retried create (throttling, a lost answer) does not make a second table.
        table = self.client.create_route_table(
            aws_retry=True, VpcId=self.vpc_id, ClientToken=str(uuid.uuid4()),
            TagSpecifications=[{"ResourceType": "route-table", "Tags": tag_list}],
        )["RouteTable"]
        self.vpc.add({**table, "Tags": tag_list})
        return str(table["RouteTableId"])

    def _tags(self, table_id: str, tags: dict[str, str], purge: bool) -> bool:
        current = self.vpc.tables[table_id]["tags"]
        to_set, to_unset = compare_aws_tags(current, tags, purge)
        if not (to_set or to_unset):
            return False
        if not self.check_mode:
            if to_unset:
                self._call("delete_tags", (), Resources=[table_id],
                           Tags=[{"Key": k} for k in to_unset])
            if to_set:
                self._call("create_tags", (), Resources=[table_id],
                           Tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
        for key in to_unset:
            current.pop(key, None)
        current.update(to_set)
        return True

    def _routes(self, table_id: str, wanted: list[dict[str, Any]], purge: bool,
                new_table: tuple[str, ...]) -> bool:
        routes: list[dict[str, Any]] = self.vpc.tables[table_id]["routes"]
        changed = False
        # Replace and create before deleting: the table never lacks a route it keeps.
        for route in wanted:
            key, target = _wanted_target(route)
            request = {"RouteTableId": table_id, "DestinationCidrBlock": route["dest"],
                       key: target}
            current = next((r for r in routes if _managed(r)
                            and r["DestinationCidrBlock"] == route["dest"]), None)
            if current is not None and _target(current) == target:
                continue
            changed = True
            if current is not None:
                if not self.check_mode:
                    self._call("replace_route", TARGET_NOT_YET_KNOWN + new_table, **request)
                for other in TARGET_KEYS:
                    current.pop(other, None)
                current[key] = target
            else:
                if not self.check_mode:
                    self._call("create_route", TARGET_NOT_YET_KNOWN + new_table, **request)
                routes.append({"DestinationCidrBlock": route["dest"], key: target,
                               "Origin": "CreateRoute", "State": "active"})
        if purge:
            keep = {r["dest"] for r in wanted}
            for route in [r for r in routes if _managed(r)
                          and r["DestinationCidrBlock"] not in keep]:
                changed = True
                if not self.check_mode:
                    self._call("delete_route", new_table, RouteTableId=table_id,
                               DestinationCidrBlock=route["DestinationCidrBlock"])
                routes.remove(route)
        return changed

    def _subnets(self, table_id: str, name: str, wanted: list[str], purge: bool,
                 new_table: tuple[str, ...]) -> bool:
        associations = self.vpc.associations
        changed = False
        for subnet in wanted:
            current = associations.get(subnet)
            if current is not None and current[0] == table_id:
                continue
            changed = True
            association_id = f"(to be associated: {subnet})"
            if current is not None:
                # Associated with another table: move it in one call (AWS allows one table per
                # subnet; disassociating first would route it by the main table meanwhile).
                if not self.check_mode:
                    association_id = self._call(
                        "replace_route_table_association", new_table,
                        AssociationId=current[1], RouteTableId=table_id)["NewAssociationId"]
            elif not self.check_mode:
                association_id = self._call("associate_route_table", new_table,
                                            RouteTableId=table_id,
                                            SubnetId=subnet)["AssociationId"]
            associations[subnet] = (table_id, association_id)
        if purge:
            for subnet in self.vpc.subnets_of(table_id):
                # A subnet another item lists is moved by that item, never left on the main table.
                if subnet in wanted or self.claimed.get(subnet, name) != name:
                    continue
                changed = True
                if not self.check_mode:
                    self._call("disassociate_route_table", (),
                               AssociationId=associations[subnet][1])
                del associations[subnet]
        return changed


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "vpc_id": {"type": "str", "required": True},
            "route_tables": {"type": "list", "elements": "dict", "required": True, "options": {
                "name": {"type": "str", "required": True},
                "tags": {"type": "dict", "default": {}},
                "purge_tags": {"type": "bool", "default": True},
                "subnets": {"type": "list", "elements": "str"},
                "purge_subnets": {"type": "bool", "default": True},
                "routes": {"type": "list", "elements": "dict", "options": {
                    "dest": {"type": "str", "required": True},
                    "gateway_id": {"type": "str"},
                    "nat_gateway_id": {"type": "str"},
                }, "mutually_exclusive": [["gateway_id", "nat_gateway_id"]],
                    "required_one_of": [["gateway_id", "nat_gateway_id"]]},
                "purge_routes": {"type": "bool", "default": True},
            }},
            "wait_timeout": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )
    vpc_id: str = module.params["vpc_id"] or ""
    items: list[dict[str, Any]] = module.params["route_tables"]
    _refuse_bad_items(module, items)
    if not vpc_id and not module.check_mode:
        module.fail_json(msg="vpc_id is empty: create the VPC first")

    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff()) if vpc_id else None
    claimed = {subnet: item["name"] for item in items for subnet in item["subnets"] or []}
    results: list[dict[str, Any]] = []
    table_ids: list[str] = []  # each item's table in the model (check mode: maybe PLANNED)
    at = "read"
    try:
        # Without a VPC (check mode only) there is nothing to read: every table is created.
        vpc = _Vpc(_read(client, vpc_id) if vpc_id else [])
        _refuse_bad_state(module, vpc, vpc_id, items)
        before = {item["name"]: vpc.for_diff(next(iter(vpc.named(item["name"])), None))
                  for item in items}
        as_it_is = {t: vpc.shown(t) for t in vpc.tables}
        converger = _Converger(module, client, vpc, vpc_id, claimed)
        for item in items:
            at = item["name"]
            table_id, changed = converger.converge(item)
            table_ids.append(table_id)
            results.append({"name": item["name"], "changed": changed,
                            "route_table": {} if table_id.startswith(PLANNED)
                            else vpc.shown(table_id)})
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        what = f"route table {at}" if at != "read" else "route tables"
        module.fail_json_aws(e, msg=f"Unable to converge the {what} of {vpc_id}",
                             route_tables=results)

    # Each result shows its table at the end of the run (a later item may have moved a subnet
    # away from it); in check mode, as it is.
    for result, table_id in zip(results, table_ids, strict=True):
        if result["route_table"]:
            result["route_table"] = as_it_is[table_id] if module.check_mode \
                else vpc.shown(table_id)
    answer: dict[str, Any] = {"changed": any(r["changed"] for r in results),
                              "route_tables": results}
    if module._diff:  # the tables that change, as they are and as the run leaves them
        after = {item["name"]: vpc.for_diff(t) for item, t in zip(items, table_ids, strict=True)}
        changing = [n for n in before if before[n] != after[n]]
        answer["diff"] = {"before": {n: before[n] for n in changing},
                          "after": {n: after[n] for n in changing}}
    module.exit_json(**answer)


if __name__ == "__main__":
    main()
