#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage a CloudWatch dashboard, comparing its body as parsed JSON."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_dashboard
short_description: Manage a CloudWatch dashboard
description:
  - Creates, replaces or deletes one CloudWatch dashboard (PutDashboard, GetDashboard,
    DeleteDashboards). No module in amazon.aws or community.aws manages dashboards.
  - The body is compared with the dashboard's current body as parsed JSON, so key order and
    whitespace never count as a change; the body is written in a canonical form (sorted keys,
    no spaces).
  - Validation messages AWS returns for an accepted body are reported as warnings; a body AWS
    refuses fails the task.
  - CloudWatch dashboards take no tags.
  - Supports check mode and diff mode.
options:
  name:
    description: Name of the dashboard (letters, digits, C(-) and C(_), up to 255 characters).
    type: str
    required: true
    aliases: [dashboard_name]
  body:
    description:
      - The dashboard body (C(widgets), optionally C(start), C(periodOverride), ...), as a mapping
        or a JSON string. Required with I(state=present).
      - See U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).
    type: raw
  state:
    description: Whether the dashboard should exist.
extends_documentation_fragment:
  - booking.aws.state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Dashboard from a template in the role
  booking.aws.cloudwatch_dashboard:
    name: booking-api-prod
    body: "{{ lookup('ansible.builtin.template', 'dashboard.json.j2') }}"

- name: Remove it
  booking.aws.cloudwatch_dashboard:
    name: booking-api-prod
    state: absent
"""

RETURN = r"""
dashboard_name:
  description: Name of the dashboard.
  returned: always
  type: str
  sample: booking-api-prod
dashboard_arn:
  description: ARN of the dashboard; empty when absent or, in check mode, not created yet.
  returned: always
  type: str
  sample: arn:aws:cloudwatch::123456789012:dashboard/booking-api-prod
body:
  description: The dashboard body after the run, parsed (in check mode, what a run would leave).
  returned: always
  type: dict
  sample: {widgets: []}
validation_messages:
  description: Warnings AWS returned about the body it accepted (also shown as warnings).
  returned: always
  type: list
  elements: dict
  sample: []
"""

import json
import re
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _parse_body(module: AnsibleAWSModule, body: Any) -> dict[str, Any]:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as e:
            module.fail_json(msg=f"body is not valid JSON: {e}")
    if not isinstance(body, dict):
        module.fail_json(msg=f"body must be a JSON object (a mapping), not {type(body).__name__}")
    # One round trip through JSON turns Ansible's string and number types into plain ones.
    return json.loads(_canonical(body))


def _get(client: Any, name: str) -> dict[str, Any] | None:
    try:
        return client.get_dashboard(DashboardName=name, aws_retry=True)
    except is_boto3_error_code("ResourceNotFound"):
        return None


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True, "aliases": ["dashboard_name"]},
            "body": {"type": "raw"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        required_if=[["state", "present", ["body"]]],
        supports_check_mode=True,
    )
    name, state = module.params["name"], module.params["state"]
    if not _NAME.match(name):
        module.fail_json(msg=f"name {name!r}: use 1-255 letters, digits, '-' or '_'")
    wanted = _parse_body(module, module.params["body"]) if state == "present" else None

    client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff())
    messages: list[dict[str, Any]] = []
    try:
        found = _get(client, name)
        current = json.loads(found["DashboardBody"]) if found else None
        before = {"name": name, "body": current} if found else {}
        arn = found["DashboardArn"] if found else ""

        if state == "absent":
            if found and not module.check_mode:
                try:
                    client.delete_dashboards(DashboardNames=[name], aws_retry=True)
                except is_boto3_error_code("ResourceNotFound"):
                    pass  # deleted meanwhile: the wanted state
            module.exit_json(changed=bool(found), dashboard_name=name, dashboard_arn="", body={},
                             validation_messages=[], diff={"before": before, "after": {}})

        changed = current != wanted
        if changed and not module.check_mode:
            answer = client.put_dashboard(DashboardName=name, DashboardBody=_canonical(wanted),
                                          aws_retry=True)
            messages = answer.get("DashboardValidationMessages") or []
            for message in messages:
                module.warn(f"dashboard {name}: {message.get('DataPath', '')} "
                            f"{message.get('Message', '')}".strip())
            arn = (_get(client, name) or {}).get("DashboardArn", "")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to converge dashboard {name}")

    module.exit_json(changed=changed, dashboard_name=name, dashboard_arn=arn, body=wanted,
                     validation_messages=messages,
                     diff={"before": before, "after": {"name": name, "body": wanted}})


if __name__ == "__main__":
    main()
