#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ensure an AWS service's service-linked role exists (CreateServiceLinkedRole when missing)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_service_linked_role
short_description: Ensure that an AWS service's service-linked role exists
description:
  - Looks for the service-linked role of I(service) (the roles under the path
    C(/aws-service-role/<service>/), e.g. C(AWSServiceRoleForECS) for C(ecs.amazonaws.com)) and
    creates it with CreateServiceLinkedRole when the account has none.
  - Some services create their role themselves on first use, but not always in time for that
    first use - ECS's CreateCluster naming the Fargate capacity providers fails on a new account
    with "Unable to assume the service linked role" - so a play creates the role first.
  - A role that another run created meanwhile (AWS answers C(InvalidInput) "... has been taken in
    this account") counts as found, not as a failure.
  - Never deletes a role (it is the account's, and other stacks may rely on it), never changes an
    existing one.
  - A new role is not usable by the service at once (IAM propagates it within seconds), and this
    module does not wait; retry the service's first call that needs it (see the example).
  - No amazon.aws or community.aws module creates service-linked roles.
  - Supports check mode.
options:
  service:
    description: The service's principal name, e.g. C(ecs.amazonaws.com), C(config.amazonaws.com).
    type: str
    required: true
  description:
    description: Description of the role when this module creates it (ignored for an existing one).
    type: str
  custom_suffix:
    description:
      - Suffix of the role's name (C(<name>_<suffix>)), for the few services that allow several
        service-linked roles. Omitted, the service's one role without a suffix.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create ECS's service-linked role before the first Fargate cluster
  booking.aws.iam_service_linked_role:
    service: ecs.amazonaws.com
  register: linked_role

- name: Create the cluster (retried while IAM propagates a role created just now)
  community.aws.ecs_cluster:
    name: booking-api-prod-cluster
    capacity_providers: [FARGATE, FARGATE_SPOT]
    state: present
  register: cluster
  until: cluster is not failed or not linked_role.created
  retries: 12
  delay: 10
"""

RETURN = r"""
arn:
  description:
    - The role's ARN. In check mode, for a role that would be created, the ARN it would have
      when the service's role name is known (C(AWSServiceRoleForECS), ...), else empty.
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS
role_name:
  description: The role's name (empty in check mode when it is not known).
  returned: always
  type: str
  sample: AWSServiceRoleForECS
created:
  description: Whether this run created the role (in check mode, whether a run would).
  returned: always
  type: bool
"""

import re
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# AWS's names of the service-linked roles this stack meets (IAM User Guide, "AWS services that
# work with IAM", and each service's "Using service-linked roles" page): only used to name the
# role in check mode. The lookup itself goes by path, whatever the name.
KNOWN_NAMES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "config.amazonaws.com": "AWSServiceRoleForConfig",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
    "elasticache.amazonaws.com": "AWSServiceRoleForElastiCache",
    "guardduty.amazonaws.com": "AWSServiceRoleForAmazonGuardDuty",
    "ecs.application-autoscaling.amazonaws.com":
        "AWSServiceRoleForApplicationAutoScaling_ECSService",
}

_TAKEN = re.compile(r"role name (\S+) has been taken")


def _find(client: Any, service: str, suffix: str | None) -> dict[str, Any] | None:
    """The service's service-linked role (with that suffix, or the one without any), or None."""
    roles = [r for page in client.get_paginator("list_roles").paginate(
        PathPrefix=f"/aws-service-role/{service}/") for r in page["Roles"]]
    if suffix:
        roles = [r for r in roles if r["RoleName"].endswith(f"_{suffix}")]
    elif len(roles) > 1:  # a service with suffixed roles too: its plain one
        known = KNOWN_NAMES.get(service)
        roles = [r for r in roles if r["RoleName"] == known] or roles
    return roles[0] if roles else None


def _taken(client: Any, service: str, suffix: str | None,
           error: Exception) -> dict[str, Any] | None:
    """The role CreateServiceLinkedRole said "has been taken" if it is the service's, else None."""
    match = _TAKEN.search(str(error))
    if not match:
        return None
    try:
        role = client.get_role(aws_retry=True, RoleName=match.group(1))["Role"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        role = None  # NoSuchEntity too: not readable yet, look by path below
    if role and role.get("Path") == f"/aws-service-role/{service}/":
        return role
    try:
        return _find(client, service, suffix)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        return None


def _predicted(module: AnsibleAWSModule, service: str, suffix: str | None) -> tuple[str, str]:
    """(arn, name) the role would have, as far as it is known without creating it."""
    name = KNOWN_NAMES.get(service, "")
    if not name:
        return "", ""
    if suffix:
        name = f"{name}_{suffix}"
    try:
        caller = module.client("sts").get_caller_identity()["Arn"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        return "", name
    partition, account = caller.split(":")[1], caller.split(":")[4]
    return f"arn:{partition}:iam::{account}:role/aws-service-role/{service}/{name}", name


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "service": {"type": "str", "required": True},
            "description": {"type": "str"},
            "custom_suffix": {"type": "str"},
        },
        supports_check_mode=True,
    )
    p = module.params
    service, suffix = p["service"], p["custom_suffix"]
    client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
    errors = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)

    try:
        role = _find(client, service, suffix)
    except errors as e:
        module.fail_json_aws(e, msg=f"Unable to look for the service-linked role of {service}")
    if role:
        module.exit_json(changed=False, created=False, arn=role["Arn"], role_name=role["RoleName"])
    if module.check_mode:
        arn, name = _predicted(module, service, suffix)
        module.exit_json(changed=True, created=True, arn=arn, role_name=name)

    request = {"AWSServiceName": service}
    if p["description"]:
        request["Description"] = p["description"]
    if suffix:
        request["CustomSuffix"] = suffix
    created = True
    try:
        role = client.create_service_linked_role(aws_retry=True, **request)["Role"]
    except is_boto3_error_code("InvalidInput") as e:
        # "Service role name AWSServiceRoleForECS has been taken in this account, please try a
        # different suffix.": made meanwhile (another run, or the service itself), and perhaps
        # not listed yet (IAM's reads are eventually consistent). Any other InvalidInput fails.
        role = _taken(client, service, suffix, e)
        if role is None:
            module.fail_json_aws(e, msg=f"Unable to create the service-linked role of {service}")
        created = False
    except errors as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Unable to create the service-linked role of {service}")
    module.exit_json(changed=created, created=created, arn=role["Arn"],
                     role_name=role["RoleName"])


if __name__ == "__main__":
    main()
