#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage the GuardDuty detector of an account and Region (no collection has a module for it)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: guardduty_detector
short_description: Manage the GuardDuty detector of the account in one Region
description:
  - An account has at most one GuardDuty detector per Region. With I(state=present) the module
    reuses the detector that exists (whoever made it) and sets its status, finding publishing
    frequency and tags; it creates one only when the Region has none.
  - With I(state=absent) the detector is deleted only if it carries every tag in I(tags) (same
    keys and values), so the teardown of one environment never removes a detector another
    environment or another team made. A detector without those tags is left alone and reported
    in C(skipped_reason). Deleting the detector deletes its findings.
  - Tags are read from GetDetector and changed with TagResource/UntagResource.
  - Supports check mode and diff mode.
options:
  state:
    description: Whether the Region's detector should exist.
  enable:
    description: Whether the detector monitors (C(ENABLED)) or is suspended (C(DISABLED)).
    type: bool
    default: true
  finding_publishing_frequency:
    description:
      - How often updated findings are exported to EventBridge (and S3). AWS's default is
        C(SIX_HOURS); omitted, the current value is left as it is (AWS's default on creation).
    type: str
    choices: [FIFTEEN_MINUTES, ONE_HOUR, SIX_HOURS]
  tags:
    description:
      - Tags of the detector. With I(state=absent), required and not empty - the tags that mark
        the detector as this caller's; the detector is deleted only if it has all of them.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags not listed in I(tags) (I(state=present) only).
    type: bool
    default: true
extends_documentation_fragment:
  - booking.aws.state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: GuardDuty on, findings exported every 15 minutes
  booking.aws.guardduty_detector:
    enable: true
    finding_publishing_frequency: FIFTEEN_MINUTES
    tags: {Project: booking-api, Environment: prod, ManagedBy: ansible}

- name: Remove the detector, but only if this environment made it
  booking.aws.guardduty_detector:
    state: absent
    tags: {Project: booking-api, Environment: prod}
"""

RETURN = r"""
detector_id:
  description: ID of the detector; empty when there is none (or, in check mode, not created yet).
  returned: always
  type: str
  sample: 12abc34d567e8fa901bc2d34e56789f0
status:
  description: C(ENABLED), C(DISABLED), or empty when there is no detector after the run.
  returned: always
  type: str
  sample: ENABLED
finding_publishing_frequency:
  description: The detector's finding publishing frequency after the run (empty without detector).
  returned: always
  type: str
  sample: FIFTEEN_MINUTES
tags:
  description: The detector's tags after the run (in check mode, what a real run would leave).
  returned: always
  type: dict
  sample: {Project: booking-api}
skipped_reason:
  description: With I(state=absent), why an existing detector was left alone; empty otherwise.
  returned: always
  type: str
  sample: ""
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags


def _find(client: Any) -> tuple[str, dict[str, Any]] | None:
    ids: list[str] = []
    for page in client.get_paginator("list_detectors").paginate():
        ids.extend(page.get("DetectorIds", []))
    if not ids:
        return None
    detector_id = sorted(ids)[0]  # AWS allows one per Region; sorted only for determinism
    try:
        found = client.get_detector(aws_retry=True, DetectorId=detector_id)
    except is_boto3_error_code("BadRequestException"):
        return None  # deleted meanwhile
    return detector_id, found


def _state(found: dict[str, Any] | None) -> dict[str, Any]:
    if not found:
        return {}
    return {"status": found.get("Status", ""),
            "finding_publishing_frequency": found.get("FindingPublishingFrequency", ""),
            "tags": dict(found.get("Tags") or {})}


def _arn(module: AnsibleAWSModule, detector_id: str) -> str:
    identity = module.client("sts").get_caller_identity()
    partition = identity["Arn"].split(":")[1]
    return f"arn:{partition}:guardduty:{module.region}:{identity['Account']}:detector/{detector_id}"


def _exit(module: AnsibleAWSModule, changed: bool, detector_id: str, before: dict[str, Any],
          after: dict[str, Any], skipped_reason: str = "") -> None:
    module.exit_json(changed=changed, detector_id=detector_id, status=after.get("status", ""),
                     finding_publishing_frequency=after.get("finding_publishing_frequency", ""),
                     tags=after.get("tags", {}), skipped_reason=skipped_reason,
                     diff={"before": before, "after": after})


def _absent(module: AnsibleAWSModule, client: Any) -> None:
    owner_tags: dict[str, str] = module.params["tags"] or {}
    if not owner_tags:
        module.fail_json(msg="state=absent needs tags: the tags that mark the detector as yours")
    located = _find(client)
    if located is None:
        _exit(module, False, "", {}, {})
    detector_id, found = located  # type: ignore[misc]
    before = _state(found)
    if not owner_tags.items() <= before["tags"].items():
        _exit(module, False, detector_id, before, before,
              skipped_reason=f"detector {detector_id} does not carry the tags {owner_tags}: "
                             "not ours, left alone")
    if not module.check_mode:
        try:
            client.delete_detector(aws_retry=True, DetectorId=detector_id)
        except is_boto3_error_code("BadRequestException"):
            pass  # deleted meanwhile: the wanted state
    _exit(module, True, "", before, {})


def _present(module: AnsibleAWSModule, client: Any) -> None:
    p = module.params
    wanted_status = "ENABLED" if p["enable"] else "DISABLED"
    wanted_tags: dict[str, str] | None = p["tags"]
    located = _find(client)

    if located is None:
        after = {"status": wanted_status,
                 "finding_publishing_frequency": p["finding_publishing_frequency"] or "SIX_HOURS",
                 "tags": wanted_tags or {}}
        detector_id = ""
        if not module.check_mode:
            kwargs: dict[str, Any] = {"Enable": p["enable"]}
            if p["finding_publishing_frequency"]:
                kwargs["FindingPublishingFrequency"] = p["finding_publishing_frequency"]
            if wanted_tags:
                kwargs["Tags"] = wanted_tags
            detector_id = client.create_detector(aws_retry=True, **kwargs)["DetectorId"]
            after = _state(client.get_detector(aws_retry=True, DetectorId=detector_id))
        _exit(module, True, detector_id, {}, after)

    detector_id, found = located  # type: ignore[misc]
    before = _state(found)
    update: dict[str, Any] = {}
    if before["status"] != wanted_status:
        update["Enable"] = p["enable"]
    frequency = p["finding_publishing_frequency"]
    if frequency and before["finding_publishing_frequency"] != frequency:
        update["FindingPublishingFrequency"] = frequency
    to_set, to_unset = ({}, [])
    if wanted_tags is not None:
        to_set, to_unset = compare_aws_tags(before["tags"], wanted_tags, p["purge_tags"])

    after = dict(before, tags={k: v for k, v in before["tags"].items() if k not in to_unset})
    after["tags"].update(to_set)
    if "Enable" in update:
        after["status"] = wanted_status
    if "FindingPublishingFrequency" in update:
        after["finding_publishing_frequency"] = frequency
    changed = bool(update or to_set or to_unset)

    if changed and not module.check_mode:
        if update:
            client.update_detector(aws_retry=True, DetectorId=detector_id, **update)
        if to_set or to_unset:
            arn = _arn(module, detector_id)
            if to_unset:
                client.untag_resource(aws_retry=True, ResourceArn=arn, TagKeys=to_unset)
            if to_set:
                client.tag_resource(aws_retry=True, ResourceArn=arn, Tags=to_set)
        after = _state(client.get_detector(aws_retry=True, DetectorId=detector_id))
    _exit(module, changed, detector_id, before, after)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "enable": {"type": "bool", "default": True},
            "finding_publishing_frequency": {
                "type": "str", "choices": ["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"]},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        required_if=[["state", "absent", ["tags"]]],
        supports_check_mode=True,
    )
    client = module.client("guardduty", retry_decorator=AWSRetry.jittered_backoff())
    try:
        if module.params["state"] == "absent":
            _absent(module, client)
        _present(module, client)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to converge the GuardDuty detector")


if __name__ == "__main__":
    main()
