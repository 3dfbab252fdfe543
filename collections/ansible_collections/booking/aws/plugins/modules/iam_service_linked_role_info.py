#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether AWS services' service-linked roles exist, or whether the caller may create them."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_service_linked_role_info
short_description: Whether service-linked roles exist or the caller may create them
description:
  - For each service (C(ecs.amazonaws.com), C(config.amazonaws.com), ...), looks for its
    service-linked role (the roles under the path C(/aws-service-role/<service>/)).
  - For a role that does not exist and with I(simulate), asks the IAM policy simulator
    (C(SimulatePrincipalPolicy)) whether the caller may create it
    (C(iam:CreateServiceLinkedRole) with C(iam:AWSServiceName)), its SCPs and permissions
    boundary included. The caller is I(principal_arn), else the credentials' own identity; an
    assumed-role session is simulated as its role. When the simulator cannot answer (no
    C(iam:SimulatePrincipalPolicy) permission, a federated user, an endpoint without it),
    C(can_create) is null and C(reason) says why.
  - Never changes anything.
options:
  services:
    description: The services' principal names, e.g. C(ecs.amazonaws.com).
    type: list
    elements: str
    required: true
  principal_arn:
    description: The caller's ARN (C(amazon.aws.aws_caller_info)'s C(arn)); default looked up.
    type: str
  simulate:
    description: Ask the policy simulator about roles that do not exist.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Does ECS's service-linked role exist, or may this caller create it?
  booking.aws.iam_service_linked_role_info:
    services: [ecs.amazonaws.com]
    principal_arn: "{{ caller.arn }}"
  register: linked_roles
"""

RETURN = r"""
roles:
  description: One entry per service, in the order asked.
  returned: always
  type: list
  elements: dict
  contains:
    service:
      description: The service, as asked.
      type: str
    exists:
      description: Whether its service-linked role exists.
      type: bool
    role_name:
      description: The existing role's name (empty when it does not exist).
      type: str
      sample: AWSServiceRoleForECS
    can_create:
      description:
        - For a missing role, whether the caller may create it (true, false), or null when the
          simulator could not answer or was not asked. Null for an existing role.
      type: bool
    reason:
      description: How C(can_create) was decided (the simulator's decision, or why it was not).
      type: str
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def _existing(client: Any, service: str) -> list[dict[str, Any]]:
    paginator = client.get_paginator("list_roles")
    roles: list[dict[str, Any]] = []
    for page in paginator.paginate(PathPrefix=f"/aws-service-role/{service}/"):
        roles.extend(page["Roles"])
    return roles


def _principal(client: Any, arn: str) -> tuple[str | None, str]:
    """The IAM principal to simulate for a caller ARN, or (None, why not)."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None, f"not an ARN: {arn}"
    resource = parts[5]
    if resource == "root":
        return None, "root"
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        role_name = resource.split("/")[1]
        return client.get_role(aws_retry=True, RoleName=role_name)["Role"]["Arn"], ""
    if parts[2] == "iam" and resource.split("/")[0] in ("user", "role", "group"):
        return arn, ""
    return None, f"the policy simulator cannot simulate {arn}"


def _simulate(client: Any, principal: str, service: str, account: str,
              partition: str) -> tuple[bool, str]:
    answer = client.simulate_principal_policy(
        PolicySourceArn=principal, ActionNames=["iam:CreateServiceLinkedRole"],
        ResourceArns=[f"arn:{partition}:iam::{account}:role/aws-service-role/{service}/*"],
        ContextEntries=[{"ContextKeyName": "iam:AWSServiceName", "ContextKeyValues": [service],
                         "ContextKeyType": "string"}])
    decision = answer["EvaluationResults"][0]["EvalDecision"]
    return decision == "allowed", f"simulated for {principal}: {decision}"


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "services": {"type": "list", "elements": "str", "required": True},
            "principal_arn": {"type": "str"},
            "simulate": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    errors = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
    client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
    arn = module.params["principal_arn"]
    try:
        if not arn:
            arn = module.client("sts").get_caller_identity()["Arn"]
    except errors as e:
        module.fail_json_aws(e, msg="Unable to look up the caller")
    parts = arn.split(":")
    partition, account = (parts[1], parts[4]) if len(parts) > 4 else ("aws", "")

    principal, why_not = None, "not asked"
    if module.params["simulate"]:
        try:
            principal, why_not = _principal(client, arn)
        except errors as e:
            principal, why_not = None, f"cannot read the caller's role: {str(e)[:200]}"

    found = []
    for service in module.params["services"]:
        try:
            roles = _existing(client, service)
        except errors as e:
            module.fail_json_aws(e, msg=f"Unable to look for the service-linked role of {service}")
        entry: dict[str, Any] = {"service": service, "exists": bool(roles),
                                 "role_name": roles[0]["RoleName"] if roles else "",
                                 "can_create": None, "reason": ""}
        if not roles and why_not == "root":
            entry.update(can_create=True, reason="the caller is the account's root user")
        elif not roles and principal:
            try:
                entry["can_create"], entry["reason"] = _simulate(client, principal, service,
                                                                 account, partition)
            except errors as e:
                entry["reason"] = f"the policy simulator did not answer: {str(e)[:200]}"
        elif not roles:
            entry["reason"] = why_not
        found.append(entry)
    module.exit_json(changed=False, roles=found)


if __name__ == "__main__":
    main()
