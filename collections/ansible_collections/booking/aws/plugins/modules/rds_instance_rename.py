#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rename an RDS DB instance and wait until it answers by its new name."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_instance_rename
short_description: Rename an RDS DB instance (ModifyDBInstance NewDBInstanceIdentifier) and wait
description:
  - Renames I(db_instance_identifier) to I(new_db_instance_identifier), immediately, and waits
    until the instance is C(available) under its new name and its old name is free - the way the
    RDS User Guide replaces an instance by another ("Renaming a DB instance"). The endpoint name
    follows the identifier.
  - Idempotent - when only I(new_db_instance_identifier) exists, the rename is done and nothing
    changes. Fails when both exist (the new name is taken) or neither does.
  - Adds I(add_tags) to the renamed instance (other tags are kept).
  - C(amazon.aws.rds_instance) with C(new_db_instance_identifier) cannot be re-run - once renamed,
    its O(db_instance_identifier) is missing and it would create a new, empty instance by that name.
  - Supports check mode; there a missing I(db_instance_identifier) is reported as a rename (a
    preceding task, in check mode too, would have created it).
options:
  db_instance_identifier:
    description: The instance's current name.
    type: str
    required: true
  new_db_instance_identifier:
    description: Its new name.
    type: str
    required: true
  add_tags:
    description: Tags to add to (or update on) the renamed instance; its other tags are kept.
    type: dict
    default: {}
  wait:
    description: Wait until the instance is available by its new name and the old name is free.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 2400
  poll_interval:
    description: Seconds between two looks.
    type: int
    default: 20
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Set the current database aside
  booking.aws.rds_instance_rename:
    db_instance_identifier: booking-api-prod-postgres
    new_db_instance_identifier: booking-api-prod-postgres-pre-restore-20261207094500
    add_tags: {Purpose: pre-restore}
"""

RETURN = r"""
instance:
  description: The renamed instance as DescribeDBInstances gives it (snake_case keys, C(tags) a
    dict); empty in check mode when it does not exist yet.
  returned: always
  type: dict
"""

import time

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.booking.aws.plugins.module_utils.rds_instances import (
    describe_instance,
    instance_result,
)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "db_instance_identifier": {"type": "str", "required": True},
            "new_db_instance_identifier": {"type": "str", "required": True},
            "add_tags": {"type": "dict", "default": {}},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 2400},
            "poll_interval": {"type": "int", "default": 20},
        },
        supports_check_mode=True,
    )
    p = module.params
    old, new = p["db_instance_identifier"], p["new_db_instance_identifier"]
    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff())
    changed = False
    try:
        current, renamed = describe_instance(client, old), describe_instance(client, new)
        if current is None and renamed is None:
            if module.check_mode:
                module.exit_json(changed=True, instance={})
            module.fail_json(msg=f"Neither {old} nor {new} exists: nothing to rename")
        if current is not None and renamed is not None:
            module.fail_json(msg=f"Cannot rename {old} to {new}: {new} exists already")
        if current is not None:
            changed = True
            if module.check_mode:
                module.exit_json(changed=True, instance=instance_result(current))
            client.modify_db_instance(aws_retry=True, DBInstanceIdentifier=old,
                                      NewDBInstanceIdentifier=new, ApplyImmediately=True)
        if p["wait"] and changed:
            deadline = time.monotonic() + p["wait_timeout"]
            while True:
                renamed = describe_instance(client, new)
                if (renamed and renamed["DBInstanceStatus"] == "available"
                        and describe_instance(client, old) is None):
                    break
                if time.monotonic() > deadline:
                    status = renamed["DBInstanceStatus"] if renamed else "not found"
                    module.fail_json(msg=f"{new} is still {status} after {p['wait_timeout']} s")
                time.sleep(p["poll_interval"])
        renamed = describe_instance(client, new) or renamed
        if renamed and p["add_tags"]:
            tags = boto3_tag_list_to_ansible_dict(renamed.get("TagList", []))
            missing = {k: str(v) for k, v in p["add_tags"].items() if tags.get(k) != str(v)}
            if missing:
                changed = True
                if not module.check_mode:
                    client.add_tags_to_resource(aws_retry=True,
                                                ResourceName=renamed["DBInstanceArn"],
                                                Tags=ansible_dict_to_boto3_tag_list(missing))
                    renamed = describe_instance(client, new) or renamed
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to rename DB instance {old} to {new}")

    module.exit_json(changed=changed, instance=instance_result(renamed))


if __name__ == "__main__":
    main()
