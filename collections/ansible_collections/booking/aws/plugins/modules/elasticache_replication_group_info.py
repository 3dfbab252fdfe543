#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Describe an ElastiCache replication group (community.aws.elasticache_info lists clusters)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: elasticache_replication_group_info
short_description: Describe an ElastiCache replication group
description:
  - Returns one replication group in the same flat form as
    M(booking.aws.elasticache_replication_group) returns it, including status, primary
    endpoint, members and tags; engine version, security groups, subnet group and maintenance
    window are read from the first member cluster (null when it cannot be described).
  - Use it to wait for a group to become C(available) with C(until).
options:
  replication_group_id:
    description: The replication group's identifier.
    type: str
    required: true
    aliases: [name]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait for the replication group to become available
  booking.aws.elasticache_replication_group_info:
    replication_group_id: booking-api-prod-redis
  register: redis
  until: redis.replication_group.status | default('') == 'available'
  retries: 60
  delay: 20
"""

RETURN = r"""
exists:
  description: Whether the group exists.
  returned: always
  type: bool
replication_group:
  description:
    - The group (see the return value of M(booking.aws.elasticache_replication_group));
      empty when it does not exist.
  returned: always
  type: dict
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.elasticache_replication_group import (
    read,
)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "replication_group_id": {"type": "str", "required": True, "aliases": ["name"]},
        },
        supports_check_mode=True,
    )
    client = module.client("elasticache", retry_decorator=AWSRetry.jittered_backoff())
    try:
        group = read(client, module.params["replication_group_id"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to describe the replication group")
    module.exit_json(changed=False, exists=group is not None, replication_group=group or {})


if __name__ == "__main__":
    main()
