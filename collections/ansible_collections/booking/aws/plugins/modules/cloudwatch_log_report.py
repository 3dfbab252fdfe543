#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report a one-off task printed, read back from its CloudWatch Logs stream."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_log_report
short_description: Read the JSON report a one-off task printed, from its CloudWatch Logs stream
description:
  - A one-off ECS task (a data copy, a recovery check) prints its result as one JSON line; the
    task's C(awslogs) driver ships it to I(log_group) / I(log_stream). This module reads the
    stream from the start and returns the last report line, parsed, and the last lines of the
    stream (for an error message).
  - A report line either starts with I(marker) followed by JSON, or is a JSON object that has the
    key I(key) (its value is the report).
  - The driver ships the last lines a moment after the task has stopped, so the module reads again
    for up to I(wait_seconds) until a report line is there; no report after that is not an error
    (C(report) is null) - the caller decides.
  - No collection module reads log events (C(amazon.aws.cloudwatchlogs_log_group_info) lists
    groups). Never changes anything.
options:
  log_group:
    description: The log group.
    type: str
    required: true
  log_stream:
    description: The log stream (C(<prefix>/<container>/<task id>) for an ECS task).
    type: str
    required: true
  marker:
    description: The text a report line starts with, followed by the JSON report.
    type: str
  key:
    description: The key of the JSON object a report line is; its value is the report.
    type: str
  wait_seconds:
    description: How long to read again until a report line is there.
    type: int
    default: 20
  tail_lines:
    description: How many of the stream's last lines to return.
    type: int
    default: 20
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the recovery check's report
  booking.aws.cloudwatch_log_report:
    log_group: /ecs/booking-api-prod
    log_stream: migrate/migrate/0123456789abcdef
    marker: "RECOVERY_REPORT "
  register: check
"""

RETURN = r"""
report:
  description: The last report line's JSON, or null when the stream has none.
  returned: always
  type: raw
tail:
  description: The stream's last lines (I(tail_lines)), oldest first.
  returned: always
  type: list
  elements: str
"""

import json
import time
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def find_report(lines: list[str], marker: str | None, key: str | None) -> Any:
    """The last report among `lines` (pure: tests/test_cloudwatch_log_report.py)."""
    found = None
    for line in lines:
        text = line.strip()
        if marker is not None:
            if text.startswith(marker):
                try:
                    found = json.loads(text[len(marker):])
                except ValueError:
                    continue
        elif key is not None and text.startswith("{"):
            try:
                document = json.loads(text)
            except ValueError:
                continue
            if isinstance(document, dict) and key in document:
                found = document[key]
    return found


@AWSRetry.jittered_backoff()
def _page(client: Any, request: dict[str, Any]) -> dict[str, Any]:
    return client.get_log_events(**request)


def read_stream(client: Any, group: str, stream: str) -> list[str]:
    """Every message of the stream, oldest first (pages until the token stops moving)."""
    lines: list[str] = []
    request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream,
                               "startFromHead": True}
    while True:
        page = _page(client, request)
        lines += [event["message"] for event in page.get("events", [])]
        token = page.get("nextForwardToken")
        if not token or token == request.get("nextToken"):
            return lines
        request["nextToken"] = token


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "log_group": {"type": "str", "required": True},
            "log_stream": {"type": "str", "required": True},
            "marker": {"type": "str"},
            "key": {"type": "str", "no_log": False},
            "wait_seconds": {"type": "int", "default": 20},
            "tail_lines": {"type": "int", "default": 20},
        },
        mutually_exclusive=[["marker", "key"]],
        required_one_of=[["marker", "key"]],
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("logs")
    deadline = time.monotonic() + p["wait_seconds"]
    while True:
        try:
            lines = read_stream(client, p["log_group"], p["log_stream"])
        except is_boto3_error_code("ResourceNotFoundException"):
            lines = []  # the stream appears with the task's first line
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Unable to read {p['log_group']}:{p['log_stream']}")
        report = find_report(lines, p["marker"], p["key"])
        if report is not None or time.monotonic() >= deadline:
            break
        time.sleep(2)
    module.exit_json(changed=False, report=report, tail=lines[-p["tail_lines"]:])


if __name__ == "__main__":
    main()
