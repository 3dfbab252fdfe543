#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a list of security groups of one VPC (rules, tags) in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ec2_security_groups
short_description: Manage a list of security groups of one VPC in one module run
description:
  - Creates each security group of I(security_groups) that the VPC lacks (found by its
    C(GroupName) in the VPC, as C(amazon.aws.ec2_security_group) finds it), and keeps its
    inbound and outbound rules and its tags as given, reading all of the VPC's groups with one
    DescribeSecurityGroups call.
  - Exists for speed - one module start-up for all of a VPC's groups instead of one per group,
    and no blind sleeps after a create (C(amazon.aws.ec2_security_group) sleeps 3 s after each
    create and up to 10 s at a time waiting for its rules). EC2 is eventually consistent
    (U(https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html)) - a call on
    a group created moments ago, or naming one in a rule, may answer C(InvalidGroup.NotFound);
    such calls, and only those, are retried for up to I(wait_timeout) seconds.
  - A rule is identified, as AWS identifies it, by its direction, protocol, port range and
    source or destination (a CIDR or a group ID); a rule whose description alone differs is
    updated in place (UpdateSecurityGroupRuleDescriptionsIngress/Egress).
  - A new group comes from AWS with an egress rule allowing all traffic to C(0.0.0.0/0). With
    I(purge_rules_egress) and I(rules_egress) not listing it, it is revoked - an empty
    I(rules_egress) means no egress at all. Rules of a direction whose list is not given are left
    alone.
  - AWS cannot change a group's description - a group whose description differs is left as it
    is, with a warning (as C(amazon.aws.ec2_security_group) does).
  - Groups of the VPC that are not listed are left alone; deleting them is the vpc role's
    teardown's job.
  - The VPC's C(default) group may be listed to keep its rules (e.g. none, as CIS AWS
    Foundations 5.4 and AWS Foundational Security Best Practices EC2.2 ask). AWS creates it with
    the VPC (all traffic in from its own members, all out) and refuses to create a group of that
    name, so it is never created - where EC2 does not show it yet it is read again for up to
    I(wait_timeout) seconds - and its description is AWS's.
  - Supports check mode and diff mode (each changed group's rules and tags before and after, rules
    as readable strings such as C(in tcp 443 from 0.0.0.0/0)).
options:
  vpc_id:
    description:
      - The VPC. Empty is accepted only in check mode, before the VPC exists (every group would
        be created).
    type: str
    required: true
  security_groups:
    description:
      - The security groups, converged in order - a rule naming another item by I(group_name)
        must come after that item.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the group (C(GroupName)); identifies it in the VPC.
        type: str
        required: true
      description:
        description: Description of the group, used when it is created (AWS cannot change it).
        type: str
        required: true
      rules:
        description:
          - Inbound rules. Unset leaves inbound rules alone; empty means none (with
            I(purge_rules)).
          - Each rule stands for one AWS rule per port range and source (C(ports) and
            C(cidr_ip) are expanded as C(amazon.aws.ec2_security_group) expands them).
        type: list
        elements: dict
        suboptions:
          proto:
            description: Protocol; C(all) (or C(-1)) is every protocol and port.
            type: str
            choices: [tcp, udp, icmp, all, "-1"]
            default: tcp
          ports:
            description:
              - Ports or port ranges (C(8000-8010)), required for C(tcp) and C(udp), refused for
                C(all).
              - For C(icmp), ICMP types (any code) or C(type-code) pairs; unset is every type.
            type: list
            elements: raw
          cidr_ip:
            description: IPv4 CIDRs (one or a list); a host address is taken as its C(/32).
            type: list
            elements: str
          group_id:
            description: ID of the source (destination for egress) security group.
            type: str
          group_name:
            description:
              - Name of an earlier item of I(security_groups), resolved to its group ID - this
                is how one module run chains groups (the app group's rule naming the load
                balancer's group). A name that is not an earlier item fails the run before
                anything changes.
            type: str
          rule_desc:
            description: Description of the rule.
            type: str
      rules_egress:
        description:
          - Outbound rules, as I(rules) (C(cidr_ip), C(group_id) and C(group_name) are then
            destinations). Unset leaves outbound rules alone; empty means none (with
            I(purge_rules_egress)).
        type: list
        elements: dict
        suboptions:
          proto:
            description: Protocol, as in I(rules).
            type: str
            choices: [tcp, udp, icmp, all, "-1"]
            default: tcp
          ports:
            description: Ports, port ranges or ICMP types, as in I(rules).
            type: list
            elements: raw
          cidr_ip:
            description: Destination IPv4 CIDRs (one or a list).
            type: list
            elements: str
          group_id:
            description: ID of the destination security group.
            type: str
          group_name:
            description: Name of an earlier item of I(security_groups), as in I(rules).
            type: str
          rule_desc:
            description: Description of the rule.
            type: str
      purge_rules:
        description: Whether inbound rules not in I(rules) are revoked (when I(rules) is given).
        type: bool
        default: true
      purge_rules_egress:
        description:
          - Whether outbound rules not in I(rules_egress) are revoked (when I(rules_egress) is
            given), the default egress rule of a new group included.
        type: bool
        default: true
      tags:
        description: Tags of the group (C(Name) is not added implicitly); unset leaves tags alone.
        type: dict
      purge_tags:
        description: Whether tags not in I(tags) are removed.
        type: bool
        default: true
  wait_timeout:
    description:
      - Seconds to retry a call that EC2 answers C(InvalidGroup.NotFound) for a group created
        in this run (the group itself, or one its rules name).
    type: int
    default: 60
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Load balancer, app and database groups, chained by name
  booking.aws.ec2_security_groups:
    vpc_id: vpc-0a1b2c3d4e5f67890
    security_groups:
      - name: booking-alb
        description: load balancer
        rules:
          - {proto: tcp, ports: [80, 443], cidr_ip: 0.0.0.0/0, rule_desc: HTTP and HTTPS}
        rules_egress:
          - {proto: tcp, ports: [8000], cidr_ip: [10.0.10.0/24, 10.0.11.0/24]}
        tags: {Name: booking-alb}
      - name: booking-app
        description: app tasks
        rules:
          - {proto: tcp, ports: [8000], group_name: booking-alb, rule_desc: from the ALB}
        rules_egress:
          - {proto: all, cidr_ip: 0.0.0.0/0}
        tags: {Name: booking-app}
      - name: booking-postgres
        description: PostgreSQL
        rules:
          - {proto: tcp, ports: [5432], group_name: booking-app}
        rules_egress: []
        tags: {Name: booking-postgres}
  register: security_groups
"""

RETURN = r"""
security_groups:
  description: One result per item of I(security_groups), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The item's name.
      type: str
    changed:
      description: Whether the group was (in check mode, would be) created or changed.
      type: bool
    group_id:
      description: The group's ID; empty for one check mode would create.
      type: str
    group:
      description:
        - The group as the run leaves it (in check mode, would leave it) - C(id), C(name),
          C(description), C(ingress) and C(egress) (sorted readable rules, e.g.
          C(in tcp 443 from 0.0.0.0/0 # HTTPS)) and C(tags).
      type: dict
  sample:
    - name: booking-alb
      changed: false
      group_id: sg-0123456789abcdef0
      group:
        id: sg-0123456789abcdef0
        name: booking-alb
        description: load balancer
        ingress: ["in tcp 443 from 0.0.0.0/0 # HTTP and HTTPS",
                  "in tcp 80 from 0.0.0.0/0 # HTTP and HTTPS"]
        egress: ["out tcp 8000 to 10.0.10.0/24"]
        tags: {Name: booking-alb}
group_ids:
  description: The groups' IDs by name (empty for one check mode would create).
  returned: always
  type: dict
  sample: {booking-alb: sg-0123456789abcdef0, booking-app: sg-0fedcba9876543210}
diff:
  description: In diff mode, C(before) and C(after) of each changed group, by name.
  returned: when diff mode is on
  type: dict
"""

import ipaddress
from collections.abc import Callable
from typing import Any, NamedTuple

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.booking.aws.plugins.module_utils.eventual_consistency import (
    call_until_accepted,
    read_until_found,
)
from ansible_collections.booking.aws.plugins.module_utils.list_module import refuse_repeats

# Check mode's stand-in for the ID of a group it would create (never sent to AWS).
PLACEHOLDER = "new:"
NOT_FOUND = ("InvalidGroup.NotFound",)

_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp",
              "all": "-1", "-1": "-1"}
# Where each kind of target sits in an IpPermission: list key, item key.
_TARGET_KEYS = {"cidr": ("IpRanges", "CidrIp"), "cidr6": ("Ipv6Ranges", "CidrIpv6"),
                "prefix": ("PrefixListIds", "PrefixListId"),
                "group": ("UserIdGroupPairs", "GroupId")}


class Rule(NamedTuple):
    """A rule as AWS identifies it; its description is kept beside it, not in it."""
    direction: str  # "in" or "out"
    proto: str  # "tcp", "udp", "icmp", "-1" or another protocol number
    from_port: int | None
    to_port: int | None
    kind: str  # "cidr", "cidr6", "prefix", "group" - or "name" (an item) until resolved
    target: str


# What AWS gives every new group of a VPC.
DEFAULT_EGRESS = Rule("out", "-1", None, None, "cidr", "0.0.0.0/0")
# The group AWS creates with each VPC (and refuses to let anyone create): its description, and
# its rules besides DEFAULT_EGRESS, all traffic in from its own members.
DEFAULT_GROUP = "default"
DEFAULT_GROUP_DESCRIPTION = "default VPC security group"

Rules = dict[Rule, str]  # rule -> description ("" for none)


def _protocol(value: Any) -> str:
    return _PROTOCOLS.get(str(value).lower(), str(value))


def _port(value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        raise ValueError(f"{value!r} is not a port or a from-to range")
    return int(text)


def _port_ranges(proto: str, ports: list[Any] | None) -> list[tuple[int | None, int | None]]:
    """The (from, to) pairs of a rule, as AWS stores them; ValueError says what is wrong."""
    if proto == "-1":
        if ports:
            raise ValueError("ports are refused with proto all (it covers every port)")
        return [(None, None)]
    if proto == "icmp":
        if not ports:
            return [(-1, -1)]
        pairs = []
        for port in ports:
            icmp_type, _, code = str(port).partition("-")
            pairs.append((_port(icmp_type), _port(code) if code else -1))
        return pairs
    if not ports:
        raise ValueError(f"ports are required with proto {proto}")
    ranges = []
    for port in ports:
        first, _, last = str(port).partition("-")
        low, high = sorted((_port(first), _port(last or first)))
        if not 0 <= low <= high <= 65535:
            raise ValueError(f"port {port} is not within 0-65535")
        ranges.append((low, high))
    return ranges


def _cidr(module: Any, value: str) -> str:
    network = ipaddress.ip_network(value.strip(), strict=False)
    if network.version != 4:
        raise ValueError(f"{value} is not an IPv4 CIDR")
    if str(network) != value.strip() and "/" in value:
        # As amazon.aws: AWS would refuse host bits; use the network, and say so.
        module.warn(f"CIDR {value} has host bits set: using {network}")
    return str(network)


def _targets(module: Any, spec: dict[str, Any]) -> list[tuple[str, str]]:
    given = [k for k in ("cidr_ip", "group_id", "group_name") if spec.get(k)]
    if len(given) != 1:
        raise ValueError("each rule needs exactly one of cidr_ip, group_id, group_name")
    if given[0] == "cidr_ip":
        return [("cidr", _cidr(module, c)) for c in spec["cidr_ip"]]
    if given[0] == "group_id":
        return [("group", spec["group_id"])]
    return [("name", spec["group_name"])]


def _planned(module: Any, items: list[dict[str, Any]]) -> list[Rules]:
    """Each item's wanted rules (groups named by item, unresolved), or the run fails naming every
    problem - before any AWS call, so a bad list changes nothing."""
    problems: list[str] = []
    plans: list[Rules] = []
    names = [item["name"] for item in items]
    for index, item in enumerate(items):
        rules: Rules = {}
        for direction, option in (("in", "rules"), ("out", "rules_egress")):
            for number, spec in enumerate(item[option] or [], 1):
                where = f"{item['name']}: {option}[{number}]"
                try:
                    proto = _protocol(spec["proto"])
                    ranges = _port_ranges(proto, spec["ports"])
                    targets = _targets(module, spec)
                except ValueError as error:
                    problems.append(f"{where}: {error}")
                    continue
                for kind, target in targets:
                    if kind == "name" and target not in names[:index]:
                        problems.append(
                            f"{where}: group_name {target} is not an earlier item of "
                            "security_groups" + (" (it comes later: list it first)"
                                                 if target in names else ""))
                    for low, high in ranges:
                        rule = Rule(direction, proto, low, high, kind, target)
                        description = spec["rule_desc"] or ""
                        if rules.get(rule, description) != description:
                            problems.append(f"{where}: {_text(rule, description, {})} is "
                                            "listed twice with different descriptions")
                        rules[rule] = description
        plans.append(rules)
    if problems:
        module.fail_json(msg="security_groups: " + "; ".join(problems))
    return plans


def _rules_of(group: dict[str, Any]) -> Rules:
    rules: Rules = {}
    for direction, key in (("in", "IpPermissions"), ("out", "IpPermissionsEgress")):
        for permission in group.get(key) or []:
            proto = _protocol(permission["IpProtocol"])
            low, high = ((None, None) if proto == "-1"
                         else (permission.get("FromPort"), permission.get("ToPort")))
            for kind, (list_key, item_key) in _TARGET_KEYS.items():
                for target in permission.get(list_key) or []:
                    rule = Rule(direction, proto, low, high, kind, target[item_key])
                    rules[rule] = target.get("Description") or ""
    return rules


def _vpc_groups(client: Any, vpc_id: str) -> dict[str, dict[str, Any]]:
    paginator = client.get_paginator("describe_security_groups")
    found = paginator.paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]) \
        .build_full_result()["SecurityGroups"]
    return {g["GroupName"]: {"id": g["GroupId"], "description": g.get("Description", ""),
                             "rules": _rules_of(g),
                             "tags": {t["Key"]: t["Value"] for t in g.get("Tags") or []}}
            for g in found}


def _text(rule: Rule, description: str, names: dict[str, str]) -> str:
    """A rule as a readable, sortable string: `in tcp 443 from 0.0.0.0/0 # HTTPS`."""
    proto = "all" if rule.proto == "-1" else rule.proto
    if rule.from_port is None:
        ports = ""
    elif rule.proto == "icmp":
        ports = " all" if rule.from_port == -1 else f" type {rule.from_port}" + (
            "" if rule.to_port == -1 else f" code {rule.to_port}")
    elif rule.from_port == rule.to_port:
        ports = f" {rule.from_port}"
    else:
        ports = f" {rule.from_port}-{rule.to_port}"
    if rule.kind == "name":  # not resolved yet (in an error message)
        target = f"group {rule.target}"
    elif rule.target.startswith(PLACEHOLDER):
        target = f"group {rule.target.removeprefix(PLACEHOLDER)} (to be created)"
    elif rule.target in names:
        target = f"{rule.target} ({names[rule.target]})"
    else:
        target = rule.target
    where = "from" if rule.direction == "in" else "to"
    return f"{rule.direction} {proto}{ports} {where} {target}" + (
        f" # {description}" if description else "")


def _permissions(rules: Rules) -> list[dict[str, Any]]:
    permissions = []
    for rule, description in rules.items():
        permission: dict[str, Any] = {"IpProtocol": rule.proto}
        if rule.from_port is not None:
            permission["FromPort"] = rule.from_port
            permission["ToPort"] = rule.to_port
        list_key, item_key = _TARGET_KEYS[rule.kind]
        target = {item_key: rule.target}
        if description:
            target["Description"] = description
        permission[list_key] = [target]
        permissions.append(permission)
    return permissions


class Converger:
    """Converges the items in order, keeping what later items need: the IDs by name."""

    def __init__(self, module: Any, client: Any, vpc_id: str,
                 current: dict[str, dict[str, Any]]) -> None:
        self.module = module
        self.client = client
        self.vpc_id = vpc_id
        self.current = current
        self.check_mode: bool = module.check_mode
        self.wait_timeout: int = module.params["wait_timeout"]
        self.ids: dict[str, str] = {}  # item name -> group ID (a placeholder in check mode)
        self.names = {g["id"]: name for name, g in current.items()}  # for readable rules
        self.created: set[str] = set()  # IDs of the groups created in this run

    def _call(self, method: Callable[..., Any], involved: set[str], **request: Any) -> Any:
        """A call on a group; where a group involved was created in this run, EC2 may not know
        it yet, and InvalidGroup.NotFound is retried for up to wait_timeout."""
        def call() -> Any:
            return method(aws_retry=True, **request)
        if involved & self.created:
            return call_until_accepted(call, NOT_FOUND, self.wait_timeout, delay=0.5,
                                       max_delay=5.0)
        return call()

    def _resolve(self, rules: Rules) -> Rules:
        return {(r._replace(kind="group", target=self.ids[r.target]) if r.kind == "name" else r): d
                for r, d in rules.items()}

    def _default_group(self) -> dict[str, Any]:
        """The VPC's default group: AWS made it with the VPC, EC2 may not show it yet (eventual
        consistency) - read again, never created. Before the VPC exists (check mode): as AWS
        will make it."""
        if not self.vpc_id:
            group_id = PLACEHOLDER + DEFAULT_GROUP
            return {"id": group_id, "description": DEFAULT_GROUP_DESCRIPTION, "tags": {},
                    "rules": {DEFAULT_EGRESS: "",
                              Rule("in", "-1", None, None, "group", group_id): ""}}

        found = read_until_found(
            lambda: _vpc_groups(self.client, self.vpc_id).get(DEFAULT_GROUP),
            timeout=self.wait_timeout)
        if not found:
            self.module.fail_json(msg=f"{self.vpc_id} shows no {DEFAULT_GROUP} security group "
                                      f"after {self.wait_timeout} s (AWS creates it with the VPC)")
        return found

    def converge(self, item: dict[str, Any], planned: Rules) -> dict[str, Any]:
        name = item["name"]
        current = self.current.get(name)
        if current is None and name == DEFAULT_GROUP:
            current = self.current[name] = self._default_group()
            self.names[current["id"]] = name
        wanted = self._resolve(planned)
        if current is None:
            before = None
            group_id = self._create(item)
            have: Rules = {DEFAULT_EGRESS: ""}
            tags: dict[str, str] = dict(item["tags"] or {})
            description = item["description"]
            changed = True
        else:
            before = current
            group_id = current["id"]
            have = dict(current["rules"])
            tags = dict(current["tags"])
            description = current["description"]
            changed = False
            if description != item["description"]:
                self.module.warn(
                    f"security group {name}: its description {description!r} differs from the "
                    f"one given ({item['description']!r}); AWS cannot change a group's "
                    "description - delete the group and run again to re-create it")
            changed |= self._tag(group_id, tags, item)
        self.ids[name] = group_id

        after = dict(have)
        for direction, option, purge in (("in", "rules", "purge_rules"),
                                         ("out", "rules_egress", "purge_rules_egress")):
            if item[option] is None:
                continue  # not given: this direction is left alone
            want = {r: d for r, d in wanted.items() if r.direction == direction}
            had = {r: d for r, d in have.items() if r.direction == direction}
            revoke = {r: d for r, d in had.items() if r not in want} if item[purge] else {}
            authorize = {r: d for r, d in want.items() if r not in had}
            redescribe = {r: d for r, d in want.items() if r in had and had[r] != d}
            if revoke or authorize or redescribe:
                changed = True
                after = {r: d for r, d in after.items() if r not in revoke}
                after.update(authorize)
                after.update(redescribe)
                if not self.check_mode:
                    self._apply(group_id, direction, revoke, authorize, redescribe)

        shown = {"description": description, **self._readable(after), "tags": tags}
        result = {"name": name, "changed": changed,
                  "group_id": "" if group_id.startswith(PLACEHOLDER) else group_id,
                  "group": {"id": "" if group_id.startswith(PLACEHOLDER) else group_id,
                            "name": name, **shown}}
        if changed:
            result["diff"] = {"before": None if before is None else {
                "description": before["description"], **self._readable(before["rules"]),
                "tags": before["tags"]}, "after": shown}
        return result

    def _readable(self, rules: Rules) -> dict[str, list[str]]:
        return {key: sorted(_text(r, d, self.names) for r, d in rules.items()
                            if r.direction == direction)
                for key, direction in (("ingress", "in"), ("egress", "out"))}

    def _create(self, item: dict[str, Any]) -> str:
        name = item["name"]
        if self.check_mode:
            return PLACEHOLDER + name
        request: dict[str, Any] = {"VpcId": self.vpc_id, "GroupName": name,
                                   "Description": item["description"]}
        if item["tags"]:
            # Tags in the create call: the group is never untagged, and no later call on a
            # group EC2 may not know yet.
            request["TagSpecifications"] = [{
                "ResourceType": "security-group",
                "Tags": [{"Key": k, "Value": v} for k, v in item["tags"].items()]}]
        group_id: str = self.client.create_security_group(aws_retry=True, **request)["GroupId"]
        self.created.add(group_id)
        self.names[group_id] = name
        return group_id

    def _tag(self, group_id: str, tags: dict[str, str], item: dict[str, Any]) -> bool:
        """Updates `tags` (the current ones) to the wanted ones; True when they differ."""
        if item["tags"] is None:
            return False
        to_set, to_unset = compare_aws_tags(tags, item["tags"], item["purge_tags"])
        if not to_set and not to_unset:
            return False
        if not self.check_mode:
            if to_unset:
                self.client.delete_tags(aws_retry=True, Resources=[group_id],
                                        Tags=[{"Key": k} for k in to_unset])
            if to_set:
                self.client.create_tags(aws_retry=True, Resources=[group_id],
                                        Tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
        for key in to_unset:
            tags.pop(key, None)
        tags.update(to_set)
        return True

    def _apply(self, group_id: str, direction: str, revoke: Rules, authorize: Rules,
               redescribe: Rules) -> None:
        way = "ingress" if direction == "in" else "egress"
        client = self.client
        calls = (
            # Revoked first: the group is never more open than before or after the run. The
            # current descriptions go along (AWS ignores them; moto matches group rules on them).
            (revoke, getattr(client, f"revoke_security_group_{way}")),
            (authorize, getattr(client, f"authorize_security_group_{way}")),
            (redescribe, getattr(client, f"update_security_group_rule_descriptions_{way}")),
        )
        for rules, method in calls:
            if rules:
                involved = {group_id} | {r.target for r in rules if r.kind == "group"}
                self._call(method, involved, GroupId=group_id, IpPermissions=_permissions(rules))


def main() -> None:
    rule_options = {
        "proto": {"type": "str", "default": "tcp", "choices": ["tcp", "udp", "icmp", "all", "-1"]},
        "ports": {"type": "list", "elements": "raw"},
        "cidr_ip": {"type": "list", "elements": "str"},
        "group_id": {"type": "str"},
        "group_name": {"type": "str"},
        "rule_desc": {"type": "str"},
    }
    rule_spec = {"type": "list", "elements": "dict", "options": rule_options,
                 "mutually_exclusive": [["cidr_ip", "group_id", "group_name"]],
                 "required_one_of": [["cidr_ip", "group_id", "group_name"]]}
    module = AnsibleAWSModule(
        argument_spec={
            "vpc_id": {"type": "str", "required": True},
            "security_groups": {"type": "list", "elements": "dict", "required": True, "options": {
                "name": {"type": "str", "required": True},
                "description": {"type": "str", "required": True},
                "rules": rule_spec,
                "rules_egress": rule_spec,
                "purge_rules": {"type": "bool", "default": True},
                "purge_rules_egress": {"type": "bool", "default": True},
                "tags": {"type": "dict"},
                "purge_tags": {"type": "bool", "default": True},
            }},
            "wait_timeout": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )
    vpc_id: str = module.params["vpc_id"] or ""
    items: list[dict[str, Any]] = module.params["security_groups"]
    refuse_repeats(module, "security_groups", [item["name"] for item in items])
    plans = _planned(module, items)
    if not vpc_id and not module.check_mode:
        module.fail_json(msg="vpc_id is empty: create the VPC first")

    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    results: list[dict[str, Any]] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    name = ""
    try:
        # No VPC yet (check mode): no groups either, every one would be created.
        current = _vpc_groups(client, vpc_id) if vpc_id else {}
        converger = Converger(module, client, vpc_id, current)
        for item, planned in zip(items, plans, strict=True):
            name = item["name"]
            result = converger.converge(item, planned)
            diff = result.pop("diff", None)
            if diff:
                if diff["before"] is not None:
                    before[name] = diff["before"]
                after[name] = diff["after"]
            results.append(result)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        where = f"security group {name}" if name else "the security groups"
        module.fail_json_aws(e, msg=f"Unable to converge {where} of {vpc_id}",
                             security_groups=results,
                             group_ids={r["name"]: r["group_id"] for r in results})

    outcome: dict[str, Any] = {
        "changed": any(r["changed"] for r in results), "security_groups": results,
        "group_ids": {r["name"]: r["group_id"] for r in results}}
    if module._diff:
        outcome["diff"] = {"before": before, "after": after}
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
