#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a list of SSM Parameter Store parameters in one module run, never showing a value."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ssm_parameters
short_description: Manage a list of SSM parameters in one module run, values never shown
description:
  - Creates or updates each parameter of I(parameters) - value, type, description, tags - in one
    module run, reading them all with a few batched calls (GetParameters by tens, decrypted;
    one DescribeParameters).
  - Exists for speed - one module start-up (a Python process, boto3 and a client) for all of an
    environment's settings and secrets instead of one per parameter with
    C(community.aws.ssm_parameter) (bench/RESULTS.md, provisioning) - with the same comparison
    as that module's C(overwrite_value=changed) - the decrypted value, the type and, when given,
    the description. A difference is written with Overwrite.
  - Like C(community.aws.ssm_parameter), I(key_id) and I(tier) are used when a value is written
    and not compared (AWS answers a key as an alias, an ID or an ARN, however it was given); to
    move a parameter to another key, change its value or delete it first.
  - Values are C(no_log) and never returned; the result says which parts of each parameter
    differ (C(changes)); run the task with C(no_log) too, as the values are in its arguments.
  - Deleting parameters is not this module's job (the secrets role's teardown deletes by path).
  - Supports check mode.
options:
  parameters:
    description: The parameters.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Full name of the parameter, e.g. C(/booking-api/prod/django_secret_key).
        type: str
        required: true
      value:
        description: The value (never logged, never returned).
        type: str
        required: true
      type:
        description: Type of the parameter.
        type: str
        choices: [String, StringList, SecureString]
        default: String
      description:
        description: Description; empty leaves the current one alone (and sets none on create).
        type: str
        default: ""
      key_id:
        description: KMS key of a C(SecureString), used when its value is written.
        type: str
        default: alias/aws/ssm
      tier:
        description: Tier used when the value is written.
        type: str
        choices: [Standard, Advanced, Intelligent-Tiering]
        default: Standard
      tags:
        description: Tags of the parameter; unset leaves tags alone.
        type: dict
      purge_tags:
        description: Whether tags not in I(tags) are removed.
        type: bool
        default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Write the environment's settings and secrets
  booking.aws.ssm_parameters:
    parameters:
      - name: /booking-api/prod/django_secret_key
        value: "{{ vault_booking_django_secret_key }}"
        type: SecureString
        description: Django SECRET_KEY
        tags: {Project: booking-api}
      - name: /booking-api/prod/allowed_hosts
        value: api.booking.example.com
        description: Django ALLOWED_HOSTS
  no_log: true
"""

RETURN = r"""
parameters:
  description: One result per item of I(parameters), in order; never a value.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The parameter's name.
      type: str
    changed:
      description: Whether the parameter was (in check mode, would be) written or retagged.
      type: bool
    changes:
      description: What differs, C(created) or any of C(value), C(type), C(description), C(tags).
      type: list
      elements: str
    version:
      description: The parameter's version after the run (0 when, in check mode, not created yet).
      type: int
  sample:
    - {name: /booking-api/prod/django_secret_key, changed: false, changes: [], version: 3}
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

# GetParameters takes at most 10 names, DescribeParameters' Name filter at most 50 values.
_GET_BATCH = 10
_DESCRIBE_BATCH = 50


def _batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _current(client: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """The existing parameters among names: Value (decrypted), Type, Version, Description."""
    found: dict[str, dict[str, Any]] = {}
    for batch in _batches(names, _GET_BATCH):
        answer = client.get_parameters(Names=batch, WithDecryption=True, aws_retry=True)
        for parameter in answer["Parameters"]:
            found[parameter["Name"]] = {"Value": parameter["Value"], "Type": parameter["Type"],
                                        "Version": parameter["Version"], "Description": ""}
    existing = sorted(found)
    for batch in _batches(existing, _DESCRIBE_BATCH):
        paginator = client.get_paginator("describe_parameters")
        pages = paginator.paginate(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": batch}])
        for page in pages.build_full_result()["Parameters"]:
            if page["Name"] in found:
                found[page["Name"]]["Description"] = page.get("Description", "")
    return found


def _tags(client: Any, name: str) -> dict[str, str]:
    answer = client.list_tags_for_resource(ResourceType="Parameter", ResourceId=name,
                                           aws_retry=True)
    return {t["Key"]: t["Value"] for t in answer.get("TagList", [])}


def _put(client: Any, wanted: dict[str, Any], *, overwrite: bool,
         tags: dict[str, str] | None) -> int:
    request: dict[str, Any] = {"Name": wanted["name"], "Value": wanted["value"],
                               "Type": wanted["type"], "Tier": wanted["tier"],
                               "Overwrite": overwrite}
    if wanted["description"]:
        request["Description"] = wanted["description"]
    if wanted["type"] == "SecureString":
        request["KeyId"] = wanted["key_id"]
    if tags and not overwrite:  # PutParameter refuses Tags together with Overwrite
        request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return int(client.put_parameter(aws_retry=True, **request)["Version"])


def _converge(client: Any, wanted: dict[str, Any], current: dict[str, Any] | None,
              check_mode: bool) -> dict[str, Any]:
    name = wanted["name"]
    if current is None:
        version = 0 if check_mode else _put(client, wanted, overwrite=False,
                                            tags=wanted["tags"] or None)
        return {"name": name, "changed": True, "changes": ["created"], "version": version}

    changes = [part for part, differs in (
        ("value", current["Value"] != wanted["value"]),
        ("type", current["Type"] != wanted["type"]),
        ("description", bool(wanted["description"])
         and current["Description"] != wanted["description"]),
    ) if differs]
    version = int(current["Version"])
    if changes and not check_mode:
        version = _put(client, wanted, overwrite=True, tags=None)

    if wanted["tags"] is not None:
        to_set, to_unset = compare_aws_tags(_tags(client, name), wanted["tags"],
                                            wanted["purge_tags"])
        if to_set or to_unset:
            changes.append("tags")
            if not check_mode:
                if to_unset:
                    client.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name,
                                                     TagKeys=to_unset, aws_retry=True)
                if to_set:
                    client.add_tags_to_resource(
                        ResourceType="Parameter", ResourceId=name, aws_retry=True,
                        Tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
    return {"name": name, "changed": bool(changes), "changes": changes, "version": version}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "parameters": {"type": "list", "elements": "dict", "required": True, "options": {
                "name": {"type": "str", "required": True},
                "value": {"type": "str", "required": True, "no_log": True},
                "type": {"type": "str", "default": "String",
                         "choices": ["String", "StringList", "SecureString"]},
                "description": {"type": "str", "default": ""},
                "key_id": {"type": "str", "default": "alias/aws/ssm", "no_log": False},
                "tier": {"type": "str", "default": "Standard",
                         "choices": ["Standard", "Advanced", "Intelligent-Tiering"]},
                "tags": {"type": "dict"},
                "purge_tags": {"type": "bool", "default": True},
            }},
        },
        supports_check_mode=True,
    )
    parameters: list[dict[str, Any]] = module.params["parameters"]
    names = [p["name"] for p in parameters]
    refuse_repeats(module, "parameters", names)

    client = module.client("ssm", retry_decorator=AWSRetry.jittered_backoff())
    results: list[dict[str, Any]] = []
    name = ""
    try:
        current = _current(client, names)
        for wanted in parameters:
            name = wanted["name"]
            results.append(_converge(client, wanted, current.get(name), module.check_mode))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to converge the SSM parameters (at {name or 'read'})",
                             parameters=results)

    module.exit_json(changed=any(r["changed"] for r in results), parameters=results)


if __name__ == "__main__":
    main()
