#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ECS task definition, in the API's own shape."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_task_definition_info
short_description: Read one ECS task definition in the API's own (camelCase) shape
description:
  - Returns C(DescribeTaskDefinition)'s C(taskDefinition) as the API gives it, keys in camelCase,
    so that a play can register a variant of it with C(booking.aws.ecs_task_definition) (which
    takes container definitions in the API's shape). C(community.aws.ecs_taskdefinition_info)
    turns every key into snake_case, environment variable names in C(secrets) and option names
    of C(logConfiguration) included, which cannot be turned back.
  - Never changes anything.
options:
  task_definition:
    description:
      - The task definition's ARN, C(family:revision), or a family (its latest ACTIVE revision).
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the migrate task definition of the current release
  booking.aws.ecs_task_definition_info:
    task_definition: "{{ record.current.task_definitions.migrate }}"
  register: migrate
"""

RETURN = r"""
task_definition:
  description: The task definition, keys as the API spells them (C(containerDefinitions), ...).
  returned: always
  type: dict
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={"task_definition": {"type": "str", "required": True}},
        supports_check_mode=True,
    )
    name = module.params["task_definition"]
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
    try:
        found: dict[str, Any] = client.describe_task_definition(
            aws_retry=True, taskDefinition=name)["taskDefinition"]
    except client.exceptions.ClientException as e:
        module.fail_json_aws(e, msg=f"No task definition {name}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to read task definition {name}")
    # Timestamps (registeredAt, deregisteredAt) as ISO 8601 text, as Ansible returns them.
    module.exit_json(changed=False, task_definition={
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in found.items()})


if __name__ == "__main__":
    main()
