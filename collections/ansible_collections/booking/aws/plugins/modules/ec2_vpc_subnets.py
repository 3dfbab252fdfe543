#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a VPC's list of subnets (CIDR, AZ, public IP on launch, tags) in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ec2_vpc_subnets
short_description: Manage a list of subnets of one VPC in one module run
description:
  - Creates each subnet of I(subnets) that the VPC lacks (found by CIDR, as
    C(amazon.aws.ec2_vpc_subnet) finds them), and keeps its C(MapPublicIpOnLaunch) and tags as
    given, reading all of the VPC's subnets with one DescribeSubnets call.
  - Exists for speed - one module start-up (a Python process, boto3 and a client) for all the
    subnets instead of one per subnet (bench/RESULTS.md, provisioning).
  - A subnet cannot move to another availability zone - one found by its CIDR in another zone
    than I(az) fails the run, naming both, before anything is changed.
  - Subnets of the VPC that are not listed are left alone; deleting them is the vpc role's
    teardown's job.
  - Supports check mode (a subnet to be created is returned as an empty C(subnet)).
options:
  vpc_id:
    description:
      - The VPC. Empty is accepted only in check mode, before the VPC exists (every subnet
        would be created).
    type: str
    required: true
  subnets:
    description: The subnets.
    type: list
    elements: dict
    required: true
    suboptions:
      cidr:
        description: IPv4 CIDR block of the subnet; identifies it in the VPC.
        type: str
        required: true
      az:
        description: Availability zone of the subnet, e.g. C(us-east-1a).
        type: str
        required: true
      map_public:
        description: Whether instances launched in the subnet get a public IPv4 address.
        type: bool
        default: false
      tags:
        description: Tags of the subnet; unset leaves tags alone.
        type: dict
      purge_tags:
        description: Whether tags not in I(tags) are removed.
        type: bool
        default: true
  wait_timeout:
    description: Seconds to wait for a created subnet to become available.
    type: int
    default: 300
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Public and private subnets in two zones
  booking.aws.ec2_vpc_subnets:
    vpc_id: vpc-0a1b2c3d4e5f67890
    subnets:
      - {cidr: 10.0.1.0/24, az: us-east-1a, map_public: true, tags: {Name: public-a}}
      - {cidr: 10.0.2.0/24, az: us-east-1b, map_public: true, tags: {Name: public-b}}
      - {cidr: 10.0.10.0/24, az: us-east-1a, tags: {Name: private-a}}
"""

RETURN = r"""
subnets:
  description: One result per item of I(subnets), in order.
  returned: always
  type: list
  elements: dict
  contains:
    cidr:
      description: The item's CIDR.
      type: str
    changed:
      description: Whether the subnet was (in check mode, would be) created or changed.
      type: bool
    subnet:
      description:
        - The subnet after the run (in check mode, as it is) - C(id), C(cidr_block),
          C(availability_zone), C(state), C(map_public_ip_on_launch), C(tags) - empty for one
          check mode would create.
      type: dict
  sample:
    - cidr: 10.0.1.0/24
      changed: false
      subnet: {id: subnet-0123456789abcdef0, cidr_block: 10.0.1.0/24,
               availability_zone: us-east-1a, state: available,
               map_public_ip_on_launch: true, tags: {Name: public-a}}
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.booking.aws.plugins.module_utils.list_module import refuse_repeats


def _shown(subnet: dict[str, Any]) -> dict[str, Any]:
    return {"id": subnet["SubnetId"], "cidr_block": subnet["CidrBlock"],
            "availability_zone": subnet["AvailabilityZone"], "state": subnet.get("State", ""),
            "map_public_ip_on_launch": bool(subnet.get("MapPublicIpOnLaunch")),
            "tags": {t["Key"]: t["Value"] for t in subnet.get("Tags") or []}}


def _vpc_subnets(client: Any, vpc_id: str) -> dict[str, dict[str, Any]]:
    paginator = client.get_paginator("describe_subnets")
    found = paginator.paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]) \
        .build_full_result()["Subnets"]
    return {s["CidrBlock"]: _shown(s) for s in found}


def _converge(client: Any, vpc_id: str, wanted: dict[str, Any], current: dict[str, Any] | None,
              check_mode: bool, wait_timeout: int) -> dict[str, Any]:
    cidr = wanted["cidr"]
    tags = wanted["tags"] or {}
    if current is None:
        if check_mode:
            return {"cidr": cidr, "changed": True, "subnet": {}}
        request: dict[str, Any] = {"VpcId": vpc_id, "CidrBlock": cidr,
                                   "AvailabilityZone": wanted["az"]}
        if tags:
            request["TagSpecifications"] = [{
                "ResourceType": "subnet",
                "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        subnet_id = client.create_subnet(aws_retry=True, **request)["Subnet"]["SubnetId"]
        client.get_waiter("subnet_available").wait(
            SubnetIds=[subnet_id],
            WaiterConfig={"Delay": 5, "MaxAttempts": max(1, wait_timeout // 5)})
        if wanted["map_public"]:
            client.modify_subnet_attribute(aws_retry=True, SubnetId=subnet_id,
                                           MapPublicIpOnLaunch={"Value": True})
        return {"cidr": cidr, "changed": True, "subnet": {"id": subnet_id}}

    changed = False
    subnet_id = current["id"]
    if current["map_public_ip_on_launch"] != wanted["map_public"]:
        changed = True
        if not check_mode:
            client.modify_subnet_attribute(aws_retry=True, SubnetId=subnet_id,
                                           MapPublicIpOnLaunch={"Value": wanted["map_public"]})
    if wanted["tags"] is not None:
        to_set, to_unset = compare_aws_tags(current["tags"], wanted["tags"], wanted["purge_tags"])
        if to_set or to_unset:
            changed = True
            if not check_mode:
                if to_unset:
                    client.delete_tags(aws_retry=True, Resources=[subnet_id],
                                       Tags=[{"Key": k} for k in to_unset])
                if to_set:
                    client.create_tags(aws_retry=True, Resources=[subnet_id],
                                       Tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
    return {"cidr": cidr, "changed": changed, "subnet": {"id": subnet_id}}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "vpc_id": {"type": "str", "required": True},
            "subnets": {"type": "list", "elements": "dict", "required": True, "options": {
                "cidr": {"type": "str", "required": True},
                "az": {"type": "str", "required": True},
                "map_public": {"type": "bool", "default": False},
                "tags": {"type": "dict"},
                "purge_tags": {"type": "bool", "default": True},
            }},
            "wait_timeout": {"type": "int", "default": 300},
        },
        supports_check_mode=True,
    )
    vpc_id: str = module.params["vpc_id"] or ""
    wanted: list[dict[str, Any]] = module.params["subnets"]
    cidrs = [s["cidr"] for s in wanted]
    refuse_repeats(module, "subnets", cidrs, what="CIDR")
    if not vpc_id:
        if not module.check_mode:
            module.fail_json(msg="vpc_id is empty: create the VPC first")
        module.exit_json(changed=True,
                         subnets=[{"cidr": c, "changed": True, "subnet": {}} for c in cidrs])

    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    results: list[dict[str, Any]] = []
    try:
        current = _vpc_subnets(client, vpc_id)
        moved = [f"{s['cidr']} is in {current[s['cidr']]['availability_zone']}, not {s['az']}"
                 for s in wanted
                 if s["cidr"] in current and current[s["cidr"]]["availability_zone"] != s["az"]]
        if moved:
            module.fail_json(msg="subnets cannot change zone (delete them first): "
                                 + "; ".join(moved))
        for item in wanted:
            results.append(_converge(client, vpc_id, item, current.get(item["cidr"]),
                                     module.check_mode, module.params["wait_timeout"]))
        # Read back what changed (one call), so that every result shows the subnet as it is.
        if any(r["changed"] for r in results) and not module.check_mode:
            current = _vpc_subnets(client, vpc_id)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
            botocore.exceptions.WaiterError) as e:
        module.fail_json_aws(e, msg=f"Unable to converge the subnets of {vpc_id}",
                             subnets=results)

    for result in results:
        if result["subnet"]:
            result["subnet"] = current[result["cidr"]]
    module.exit_json(changed=any(r["changed"] for r in results), subnets=results)


if __name__ == "__main__":
    main()
