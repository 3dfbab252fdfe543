#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage the AWS Config configuration recorder and whether it records."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_recorder
short_description: Manage the AWS Config configuration recorder and its recording status
description:
  - Creates, updates or deletes the configuration recorder of the account in one Region (AWS
    allows one), and starts or stops it.
  - Compares only what it sets (role, recording strategy, global types, included or excluded
    resource types; lists in any order), so a second run reports no change.
    C(community.aws.config_recorder) compares the whole returned recorder with its request and
    reports a change on every run; it also has no check mode, cannot start or stop the recorder
    and knows no recording strategy.
  - Without I(role_arn) the recorder uses AWS Config's service-linked role
    (C(AWSServiceRoleForConfig), path C(/aws-service-role/config.amazonaws.com/)), created with
    CreateServiceLinkedRole when the account has none - AWS's recommended setup. The recorder then
    delivers to S3 through the bucket's policy (principal C(config.amazonaws.com)).
  - Fails when the Region already has a recorder under another name. With I(state=absent) only
    the recorder of that name is stopped and deleted; another one is left alone. The
    service-linked role is never deleted (it is the account's, and AWS Config may use it elsewhere).
  - AWS Config refuses a role it cannot assume yet with C(InvalidRoleException) - its
    service-linked role just created here, or a role created or changed seconds before (IAM
    propagates within seconds). PutConfigurationRecorder is retried on that error for up to
    I(role_wait_timeout) seconds; a role that never becomes usable fails after that time.
  - Starting the recorder needs a delivery channel (C(community.aws.config_delivery_channel)),
    which needs the recorder - so create the recorder with I(recording) omitted, then the channel,
    then run this module again with I(recording=true).
  - Supports check mode and diff mode.
options:
  name:
    description: Name of the recorder.
    type: str
    required: true
  role_arn:
    description: IAM role the recorder assumes; omitted, AWS Config's service-linked role.
    type: str
  all_supported:
    description:
      - Record every supported resource type of the Region (strategy
        C(ALL_SUPPORTED_RESOURCE_TYPES)).
      - Omitted, true unless I(resource_types) or I(exclusion_resource_types) is given.
    type: bool
  include_global_resource_types:
    description:
      - Also record global resource types (IAM). Needs I(all_supported).
      - Enable it in one Region of the account only.
    type: bool
    default: false
  resource_types:
    description:
      - Record only these resource types (strategy C(INCLUSION_BY_RESOURCE_TYPES)), e.g.
        C(AWS::S3::Bucket). List the IAM types here to record them.
    type: list
    elements: str
    default: []
  exclusion_resource_types:
    description:
      - Record every supported resource type, current and future, except these (strategy
        C(EXCLUSION_BY_RESOURCE_TYPES), see
        U(https://docs.aws.amazon.com/config/latest/APIReference/API_ExclusionByResourceTypes.html)),
        e.g. C(AWS::EC2::NetworkInterface), whose every Fargate task or Lambda ENI is a billed
        configuration item.
      - AWS then also records the global IAM types (users, groups, roles, customer managed
        policies) in a Region where AWS Config was available before February 2022, unless they
        are listed here; I(include_global_resource_types) must stay false.
    type: list
    elements: str
    default: []
  recording:
    description: Start (true) or stop (false) recording; omitted, the status is left as it is.
    type: bool
  role_wait_timeout:
    description:
      - Seconds to retry PutConfigurationRecorder while AWS Config answers
        C(InvalidRoleException) (a role it cannot assume yet). 0 fails at the first refusal.
    type: int
    default: 120
  state:
    description: Whether the recorder should exist.
extends_documentation_fragment:
  - booking.aws.state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The recorder (service-linked role), not started yet
  booking.aws.config_recorder:
    name: booking-api-prod-recorder

- name: Its delivery channel
  community.aws.config_delivery_channel:
    name: booking-api-prod-delivery
    s3_bucket: booking-api-prod-backup-123456789012
    s3_prefix: audit/config

- name: Start recording
  booking.aws.config_recorder:
    name: booking-api-prod-recorder
    recording: true

- name: Record everything but network interfaces and the IAM types (another Region has those)
  booking.aws.config_recorder:
    name: booking-api-prod-recorder
    exclusion_resource_types:
      - AWS::EC2::NetworkInterface
      - AWS::IAM::Group
      - AWS::IAM::Policy
      - AWS::IAM::Role
      - AWS::IAM::User
"""

RETURN = r"""
name:
  description: Name of the recorder.
  returned: always
  type: str
  sample: booking-api-prod-recorder
role_arn:
  description: The recorder's role (empty when absent).
  returned: always
  type: str
  sample: >-
    arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig
recording_group:
  description: What it records (empty when absent).
  returned: always
  type: dict
  sample:
    allSupported: false
    includeGlobalResourceTypes: false
    resourceTypes: []
    exclusionByResourceTypes: {resourceTypes: [AWS::EC2::NetworkInterface]}
    recordingStrategy: {useOnly: EXCLUSION_BY_RESOURCE_TYPES}
recording:
  description: Whether it records after the run (in check mode, what a run would leave).
  returned: always
  type: bool
  sample: true
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.eventual_consistency import (
    call_until_accepted,
)

_SLR_SERVICE = "config.amazonaws.com"
_SLR_PATH = f"/aws-service-role/{_SLR_SERVICE}/"


# One name per line: ansible-doc's parser warns on a tuple assignment at module level.
_ALL = "ALL_SUPPORTED_RESOURCE_TYPES"
_INCLUSION = "INCLUSION_BY_RESOURCE_TYPES"
_EXCLUSION = "EXCLUSION_BY_RESOURCE_TYPES"


def _group(raw: dict[str, Any]) -> dict[str, Any]:
    """A recording group as AWS describes it, in one shape (sorted lists, strategy spelt out)."""
    all_supported = bool(raw.get("allSupported", False))
    excluded = sorted((raw.get("exclusionByResourceTypes") or {}).get("resourceTypes") or [])
    strategy = (raw.get("recordingStrategy") or {}).get("useOnly") or (
        _ALL if all_supported else _EXCLUSION if excluded else _INCLUSION)
    return {"allSupported": all_supported,
            "includeGlobalResourceTypes": bool(raw.get("includeGlobalResourceTypes", False)),
            "resourceTypes": sorted(raw.get("resourceTypes") or []),
            "exclusionByResourceTypes": {"resourceTypes": excluded},
            "recordingStrategy": {"useOnly": strategy}}


def _request(group: dict[str, Any]) -> dict[str, Any]:
    """The recordingGroup of PutConfigurationRecorder: only the parts of its strategy."""
    request = {key: group[key] for key in
               ("allSupported", "includeGlobalResourceTypes", "recordingStrategy")}
    if group["resourceTypes"]:
        request["resourceTypes"] = group["resourceTypes"]
    if group["exclusionByResourceTypes"]["resourceTypes"]:
        request["exclusionByResourceTypes"] = group["exclusionByResourceTypes"]
    return request


def _read(client: Any, name: str) -> dict[str, Any]:
    """{name: recorder state} of every recorder in the Region."""
    recorders = client.describe_configuration_recorders(aws_retry=True)["ConfigurationRecorders"]
    statuses = {s["name"]: s for s in client.describe_configuration_recorder_status(
        aws_retry=True)["ConfigurationRecordersStatus"]}
    return {r["name"]: {"name": r["name"], "role_arn": r.get("roleARN", ""),
                        "recording_group": _group(r.get("recordingGroup") or {}),
                        "recording": bool(statuses.get(r["name"], {}).get("recording", False))}
            for r in recorders}


def _service_linked_role(module: AnsibleAWSModule) -> tuple[str, bool]:
    """The ARN of AWS Config's service-linked role, and whether it has to be created."""
    iam = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
    roles = [r for page in iam.get_paginator("list_roles").paginate(PathPrefix=_SLR_PATH)
             for r in page["Roles"]]
    if roles:
        return roles[0]["Arn"], False
    if module.check_mode:
        identity = module.client("sts").get_caller_identity()
        partition = identity["Arn"].split(":")[1]
        return (f"arn:{partition}:iam::{identity['Account']}:role{_SLR_PATH}"
                "AWSServiceRoleForConfig", True)
    try:
        role = iam.create_service_linked_role(aws_retry=True, AWSServiceName=_SLR_SERVICE)["Role"]
    except is_boto3_error_code("InvalidInput"):  # created meanwhile
        role = next(r for page in iam.get_paginator("list_roles").paginate(PathPrefix=_SLR_PATH)
                    for r in page["Roles"])
    return role["Arn"], True


def _exit(module: AnsibleAWSModule, changed: bool, before: dict[str, Any],
          after: dict[str, Any]) -> None:
    module.exit_json(changed=changed, name=module.params["name"],
                     role_arn=after.get("role_arn", ""),
                     recording_group=after.get("recording_group", {}),
                     recording=after.get("recording", False),
                     diff={"before": before, "after": after})


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "role_arn": {"type": "str"},
            "all_supported": {"type": "bool"},
            "include_global_resource_types": {"type": "bool", "default": False},
            "resource_types": {"type": "list", "elements": "str", "default": []},
            "exclusion_resource_types": {"type": "list", "elements": "str", "default": []},
            "recording": {"type": "bool"},
            "role_wait_timeout": {"type": "int", "default": 120},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        supports_check_mode=True,
    )
    p = module.params
    name = p["name"]
    included, excluded = p["resource_types"], p["exclusion_resource_types"]
    all_supported = (not included and not excluded) if p["all_supported"] is None \
        else p["all_supported"]
    if p["state"] == "present":
        if included and excluded:
            module.fail_json(msg="give resource_types (record only these) or "
                                 "exclusion_resource_types (record all but these), not both")
        if all_supported and (included or excluded):
            module.fail_json(msg="resource_types and exclusion_resource_types are only for "
                                 "all_supported=false")
        if not all_supported and not (included or excluded):
            module.fail_json(msg="all_supported=false needs resource_types or "
                                 "exclusion_resource_types")
        if p["include_global_resource_types"] and not all_supported:
            module.fail_json(msg="include_global_resource_types needs all_supported=true (with "
                                 "exclusion_resource_types AWS records the IAM types unless "
                                 "excluded; with resource_types, list them)")
    client = module.client("config", retry_decorator=AWSRetry.jittered_backoff())

    try:
        recorders = _read(client, name)
        before = recorders.get(name, {})

        if p["state"] == "absent":
            if before and not module.check_mode:
                if before["recording"]:
                    client.stop_configuration_recorder(aws_retry=True,
                                                       ConfigurationRecorderName=name)
                try:
                    client.delete_configuration_recorder(aws_retry=True,
                                                         ConfigurationRecorderName=name)
                except is_boto3_error_code("NoSuchConfigurationRecorderException"):
                    pass  # deleted meanwhile: the wanted state
            _exit(module, bool(before), before, {})

        others = sorted(set(recorders) - {name})
        if others:
            module.fail_json(msg=f"this Region already has the configuration recorder {others[0]} "
                                 f"(AWS allows one per account and Region): not creating {name}")

        role_created = False
        role_arn = p["role_arn"]
        if not role_arn:
            if f":role{_SLR_PATH}" in before.get("role_arn", ""):
                role_arn = before["role_arn"]  # already the service-linked role
            else:
                role_arn, role_created = _service_linked_role(module)
        group = _group({
            "allSupported": all_supported,
            "includeGlobalResourceTypes": p["include_global_resource_types"],
            "resourceTypes": included,
            "exclusionByResourceTypes": {"resourceTypes": excluded},
            "recordingStrategy": {"useOnly": _ALL if all_supported
                                  else _EXCLUSION if excluded else _INCLUSION}})
        recording = before.get("recording", False) if p["recording"] is None else p["recording"]
        after = {"name": name, "role_arn": role_arn, "recording_group": group,
                 "recording": recording}
        put = not before or before["role_arn"] != role_arn or before["recording_group"] != group
        toggle = before.get("recording", False) != recording
        changed = put or toggle or role_created

        if not module.check_mode:
            if put:
                recorder = {"name": name, "roleARN": role_arn, "recordingGroup": _request(group)}
                call_until_accepted(
                    lambda: client.put_configuration_recorder(aws_retry=True,
                                                              ConfigurationRecorder=recorder),
                    ["InvalidRoleException"], p["role_wait_timeout"], delay=2.0)
            if toggle and recording:
                client.start_configuration_recorder(aws_retry=True, ConfigurationRecorderName=name)
            elif toggle:
                client.stop_configuration_recorder(aws_retry=True, ConfigurationRecorderName=name)
            if changed:
                after = _read(client, name).get(name, after)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to converge the configuration recorder {name}")

    _exit(module, changed, before, after)


if __name__ == "__main__":
    main()
