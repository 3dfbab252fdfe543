#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A listener rule that forwards to weighted target groups whose weights ECS owns."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: elb_forward_rule
short_description: A listener rule forwarding to target groups whose weights a deployer shifts
description:
  - Makes sure an Application Load Balancer listener has a rule at I(priority) with
    I(conditions) that forwards to exactly the target groups I(target_groups).
  - The weights are set only when the rule is created or when its set of target groups changes
    (the first group gets 100, the others 0). Afterwards they belong to whoever shifts traffic;
    ECS's blue/green, canary and linear deployments move them between the two groups
    (C(loadBalancers[].advancedConfiguration.productionListenerRule) and C(testListenerRule)).
    C(amazon.aws.elb_application_lb) would compare the weights and put them back on every run,
    sending production traffic to a target group with no tasks (the IaC-against-deployer fight
    of terraform-aws-alb issue 409 and aws-cdk issue 36649).
  - Supports check mode and diff mode.
options:
  listener_arn:
    description: The listener's ARN.
    type: str
    required: true
  priority:
    description: The rule's priority (1-50000); identifies the rule on the listener.
    type: int
    required: true
  conditions:
    description:
      - "The rule's conditions in the ELBv2 API's shape, e.g.
        C([{Field: path-pattern, Values: [\"/*\"]}]). Compared by field and values."
    type: list
    elements: dict
    default: []
  target_groups:
    description: Target group ARNs the rule forwards to; the first one takes all traffic when the
      rule is created.
    type: list
    elements: str
    default: []
  state:
    description: Whether the rule exists.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The production rule ECS shifts between the web service's two target groups
  booking.aws.elb_forward_rule:
    listener_arn: "{{ https_listener_arn }}"
    priority: 1
    conditions: [{Field: path-pattern, Values: ["/*"]}]
    target_groups: ["{{ blue_target_group_arn }}", "{{ green_target_group_arn }}"]
"""

RETURN = r"""
rule_arn:
  description: The rule's ARN (empty when absent, or under check mode before it exists).
  returned: always
  type: str
weights:
  description: Target group ARN -> weight, as the rule forwards now.
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

AWS_ERRORS: tuple[type[Exception], ...]
try:
    AWS_ERRORS = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
except NameError:
    AWS_ERRORS = ()

# A condition's values live in Values or, in the newer shape, in <Field>Config.Values.
_CONFIG_KEYS = {"path-pattern": "PathPatternConfig", "host-header": "HostHeaderConfig",
                "http-request-method": "HttpRequestMethodConfig",
                "source-ip": "SourceIpConfig"}


def canonical_conditions(conditions: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    """Conditions as sorted (field, sorted values) pairs, whichever shape they came in."""
    result = []
    for condition in conditions:
        field = condition["Field"]
        config = condition.get(_CONFIG_KEYS.get(field, ""), {}) or {}
        values = config.get("Values") or condition.get("Values") or []
        result.append((field, tuple(sorted(values))))
    return sorted(result)


def forward_weights(rule: dict[str, Any]) -> dict[str, int]:
    """Target group ARN -> weight of the rule's forward action."""
    for action in rule.get("Actions", []):
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        if action.get("TargetGroupArn"):
            return {action["TargetGroupArn"]: 1}
    return {}


def forward_action(target_groups: list[str]) -> list[dict[str, Any]]:
    groups = [{"TargetGroupArn": arn, "Weight": 100 if index == 0 else 0}
              for index, arn in enumerate(target_groups)]
    return [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": groups, "TargetGroupStickinessConfig": {"Enabled": False}}}]


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "listener_arn": {"type": "str", "required": True},
            "priority": {"type": "int", "required": True},
            "conditions": {"type": "list", "elements": "dict", "default": []},
            "target_groups": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ("conditions", "target_groups"))],
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("elbv2", retry_decorator=AWSRetry.jittered_backoff())
    try:
        rules = client.describe_rules(aws_retry=True, ListenerArn=p["listener_arn"])["Rules"]
    except AWS_ERRORS as e:
        module.fail_json_aws(e, msg=f"Unable to read the rules of {p['listener_arn']}")
    rule = next((r for r in rules if r.get("Priority") == str(p["priority"])), None)
    before: dict[str, Any] = {}
    if rule is not None:
        before = {"conditions": canonical_conditions(rule.get("Conditions", [])),
                  "target_groups": sorted(forward_weights(rule))}

    if p["state"] == "absent":
        if rule is not None and not module.check_mode:
            try:
                client.delete_rule(aws_retry=True, RuleArn=rule["RuleArn"])
            except AWS_ERRORS as e:
                module.fail_json_aws(e, msg=f"Unable to delete rule {rule['RuleArn']}")
        module.exit_json(changed=rule is not None, rule_arn="", weights={},
                         diff={"before": before, "after": {}})

    after = {"conditions": canonical_conditions(p["conditions"]),
             "target_groups": sorted(p["target_groups"])}
    if rule is None:
        weights = {g["TargetGroupArn"]: g["Weight"]
                   for g in forward_action(p["target_groups"])[0]["ForwardConfig"]["TargetGroups"]}
        rule_arn = ""
        if not module.check_mode:
            try:
                rule_arn = client.create_rule(
                    aws_retry=True, ListenerArn=p["listener_arn"], Priority=p["priority"],
                    Conditions=p["conditions"], Actions=forward_action(p["target_groups"]),
                )["Rules"][0]["RuleArn"]
            except AWS_ERRORS as e:
                module.fail_json_aws(
                    e, msg=f"Unable to create the rule at priority {p['priority']}")
        module.exit_json(changed=True, rule_arn=rule_arn, weights=weights,
                         diff={"before": {}, "after": after})

    weights = forward_weights(rule)
    update: dict[str, Any] = {}
    if before["conditions"] != after["conditions"]:
        update["Conditions"] = p["conditions"]
    if before["target_groups"] != after["target_groups"]:
        # Another pair of groups: the weights of the old pair mean nothing for the new one.
        update["Actions"] = forward_action(p["target_groups"])
        weights = {g["TargetGroupArn"]: g["Weight"]
                   for g in update["Actions"][0]["ForwardConfig"]["TargetGroups"]}
    if update and not module.check_mode:
        try:
            client.modify_rule(aws_retry=True, RuleArn=rule["RuleArn"], **update)
        except AWS_ERRORS as e:
            module.fail_json_aws(e, msg=f"Unable to modify rule {rule['RuleArn']}")
    module.exit_json(changed=bool(update), rule_arn=rule["RuleArn"], weights=weights,
                     diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
