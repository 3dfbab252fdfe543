#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage the tags of an ECR repository (community.aws.ecs_ecr has no tags option)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_repository_tags
short_description: Manage the tags of an existing ECR repository
description:
  - Sets the tags of an ECR repository created by C(community.aws.ecs_ecr), which cannot tag.
  - With I(purge_tags=true) (the default) tags not listed in I(tags) are removed.
  - Fails when the repository does not exist, except in check mode, where a repository that a
    preceding task would create is reported as a change.
  - Supports check mode and diff mode.
options:
  name:
    description: Name of the repository.
    type: str
    required: true
  registry_id:
    description: Account ID of the registry; the caller's default registry when omitted.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Tag the repository
  booking.aws.ecr_repository_tags:
    name: booking-api-prod
    tags:
      Project: booking-api
      Environment: prod
      Name: booking-api-prod
"""

RETURN = r"""
repository_arn:
  description: ARN of the repository; empty in check mode when the repository does not exist yet.
  returned: always
  type: str
  sample: arn:aws:ecr:us-east-1:123456789012:repository/booking-api-prod
tags:
  description: The repository's tags after the run (in check mode, what a real run would leave).
  returned: always
  type: dict
  sample: {Project: booking-api, Name: booking-api-prod}
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


def _describe(client: Any, name: str, registry_id: str | None) -> dict[str, Any] | None:
    kwargs: dict[str, Any] = {"repositoryNames": [name]}
    if registry_id:
        kwargs["registryId"] = registry_id
    try:
        return client.describe_repositories(aws_retry=True, **kwargs)["repositories"][0]
    except is_boto3_error_code("RepositoryNotFoundException"):
        return None


def _tags(client: Any, arn: str) -> dict[str, str]:
    found = client.list_tags_for_resource(aws_retry=True, resourceArn=arn).get("tags", [])
    return {t["Key"]: t["Value"] for t in found}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "registry_id": {"type": "str"},
            "tags": {"type": "dict", "required": True, "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff())

    try:
        repository = _describe(client, p["name"], p["registry_id"])
        if repository is None:
            if not module.check_mode:
                module.fail_json(msg=f"ECR repository {p['name']} does not exist")
            module.exit_json(changed=True, repository_arn="", tags=p["tags"],
                             diff={"before": {}, "after": {"tags": p["tags"]}})

        arn = repository["repositoryArn"]
        current = _tags(client, arn)
        to_set, to_unset = compare_aws_tags(current, p["tags"], p["purge_tags"])
        changed = bool(to_set or to_unset)
        after = {k: v for k, v in current.items() if k not in to_unset}
        after.update(to_set)
        if changed and not module.check_mode:
            if to_unset:
                client.untag_resource(aws_retry=True, resourceArn=arn, tagKeys=to_unset)
            if to_set:
                client.tag_resource(aws_retry=True, resourceArn=arn,
                                    tags=[{"Key": k, "Value": v} for k, v in to_set.items()])
            after = _tags(client, arn)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to tag ECR repository {p['name']}")

    module.exit_json(changed=changed, repository_arn=arn, tags=after,
                     diff={"before": {"tags": current}, "after": {"tags": after}})


if __name__ == "__main__":
    main()
