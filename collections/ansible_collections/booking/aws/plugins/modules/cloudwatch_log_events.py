#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The latest events of a log group's streams (make logs)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_log_events
short_description: Read the latest events of a CloudWatch Logs group, by stream prefix
description:
  - Reads the events of I(log_group) whose streams start with I(stream_prefix) (an ECS
    service's C(web/), C(worker/), C(migrate/)) from I(since) ago until now, oldest first, at
    most I(limit) of them (the latest), as C(aws logs tail) shows them.
  - No collection module reads log events. Never changes anything.
options:
  log_group:
    description: The log group.
    type: str
    required: true
  stream_prefix:
    description: Only streams whose names start with this; empty - every stream.
    type: str
    default: ""
  since:
    description: How far back, a number and a unit - C(s), C(m), C(h) or C(d) (C(10m), C(2h)).
    type: str
    default: 10m
  limit:
    description: At most this many events, the latest.
    type: int
    default: 200
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The web service's log of the last 5 minutes
  booking.aws.cloudwatch_log_events:
    log_group: /ecs/booking-api-prod
    stream_prefix: web/
    since: 5m
  register: logs
"""

RETURN = r"""
events:
  description: The events, oldest first - C(at) (UTC, ISO 8601), C(stream), C(message).
  returned: always
  type: list
  elements: dict
lines:
  description: One line per event, C(<at> <stream> <message>).
  returned: always
  type: list
  elements: str
"""

import re
import time
from datetime import UTC, datetime
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(since: str) -> int:
    """'10m' -> 600 (pure: tests/test_cloudwatch_log_events.py); ValueError otherwise."""
    matched = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", since or "")
    if not matched:
        raise ValueError(f"since must be a number and a unit (s, m, h, d), like 10m; got {since!r}")
    return int(matched.group(1)) * _UNITS[matched.group(2)]


@AWSRetry.jittered_backoff()
def _events(client: Any, group: str, prefix: str, start_ms: int) -> list[dict[str, Any]]:
    request: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
    if prefix:
        request["logStreamNamePrefix"] = prefix
    pages = client.get_paginator("filter_log_events").paginate(**request)
    # logStreamNamePrefix filters on AWS; checked here too (the emulator's moto ignores it).
    return [event for page in pages for event in page.get("events", [])
            if event.get("logStreamName", "").startswith(prefix)]


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "log_group": {"type": "str", "required": True},
            "stream_prefix": {"type": "str", "default": ""},
            "since": {"type": "str", "default": "10m"},
            "limit": {"type": "int", "default": 200},
        },
        supports_check_mode=True,
    )
    p = module.params
    try:
        back = seconds(p["since"])
    except ValueError as error:
        module.fail_json(msg=str(error))
    client = module.client("logs")
    try:
        found = _events(client, p["log_group"], p["stream_prefix"],
                        int((time.time() - back) * 1000))
    except is_boto3_error_code("ResourceNotFoundException"):
        module.fail_json(msg=f"No log group {p['log_group']}: nothing has logged yet.")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to read {p['log_group']}")
    found.sort(key=lambda event: (event["timestamp"], event.get("eventId", "")))
    events = [{"at": datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
               .strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
               "stream": event.get("logStreamName", ""),
               "message": event.get("message", "").rstrip("\n")}
              for event in found[-p["limit"]:]]
    module.exit_json(changed=False, events=events,
                     lines=[f"{e['at']} {e['stream']} {e['message']}" for e in events])


if __name__ == "__main__":
    main()
