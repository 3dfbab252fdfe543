#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read or record the current release in Parameter Store (<path>/current, <path>/previous)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_record
short_description: Read or record which release runs, in Parameter Store
description:
  - A release is a JSON document (image reference, task definition revisions, when, by whom)
    kept in the String parameter C(<path>/current); recording a different release first copies
    the current one to C(<path>/previous).
  - Two releases are the same when their C(image) and C(task_definitions) are equal; recording
    the same release again changes nothing (its time and author are not rewritten).
  - With I(release) omitted, only reads.
  - Supports check mode and diff mode.
options:
  path:
    description: Parameter path of the records, e.g. C(/booking-api/prod/release).
    type: str
    required: true
  release:
    description:
      - The release now running. Must hold C(image) and C(task_definitions); any other keys
        (C(tag), C(digest), C(revisions), C(by), ...) are stored as given. C(at) (UTC, ISO 8601)
        is added when recorded.
    type: dict
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the release record
  booking.aws.release_record:
    path: /booking-api/prod/release
  register: releases

- name: Record the release
  booking.aws.release_record:
    path: /booking-api/prod/release
    release:
      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/booking-api-prod:3f2c1aa
      tag: 3f2c1aa
      task_definitions: {web: "arn:...:booking-api-prod-web:7"}
      by: alice
"""

RETURN = r"""
current:
  description: The current release after the call (empty dict if none).
  returned: always
  type: dict
previous:
  description: The previous release after the call (empty dict if none).
  returned: always
  type: dict
"""

import json
from datetime import UTC, datetime
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

IDENTITY = ("image", "task_definitions")


def _read(client: Any, name: str) -> dict[str, Any]:
    try:
        value = client.get_parameter(aws_retry=True, Name=name)["Parameter"]["Value"]
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return {}
        raise
    return json.loads(value)


def _write(client: Any, name: str, record: dict[str, Any], description: str) -> None:
    client.put_parameter(aws_retry=True, Name=name, Type="String", Overwrite=True,
                         Description=description,
                         Value=json.dumps(record, sort_keys=True, separators=(",", ":")))


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={"path": {"type": "str", "required": True},
                       "release": {"type": "dict"}},
        supports_check_mode=True,
    )
    path = module.params["path"].rstrip("/")
    release = module.params["release"]
    if release is not None and any(key not in release for key in IDENTITY):
        module.fail_json(msg=f"release must hold {', '.join(IDENTITY)}")
    client = module.client("ssm", retry_decorator=AWSRetry.jittered_backoff())
    try:
        current = _read(client, f"{path}/current")
        previous = _read(client, f"{path}/previous")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to read the release record under {path}")

    same = release is None or all(current.get(k) == release[k] for k in IDENTITY)
    if same:
        module.exit_json(changed=False, current=current, previous=previous)

    new = {**release, "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if not module.check_mode:
        try:
            if current:
                _write(client, f"{path}/previous", current, "The release before the current one")
            _write(client, f"{path}/current", new, "The release running now")
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Unable to write the release record under {path}")
    module.exit_json(changed=True, current=new, previous=current or previous,
                     diff={"before": {"current": current, "previous": previous},
                           "after": {"current": new, "previous": current or previous}})


if __name__ == "__main__":
    main()
