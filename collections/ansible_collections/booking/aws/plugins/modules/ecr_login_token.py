#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A registry login for ECR (what `aws ecr get-login-password` prints), for podman/docker push."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_login_token
short_description: Get the user name, password and address to log a container client in to ECR
description:
  - Calls C(GetAuthorizationToken) and decodes the token into the C(username) (always C(AWS)) and
    C(password) a C(podman login) / C(docker login) needs, and the registry host of the account in
    the region. The password is valid for 12 hours; mark tasks that use it C(no_log).
  - Changes nothing.
options:
  registry_id:
    description: Account id of the registry; default the caller's.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log podman in to ECR
  booking.aws.ecr_login_token:
  register: ecr_login
  no_log: true
"""

RETURN = r"""
registry:
  description: Registry host, e.g. C(123456789012.dkr.ecr.us-east-1.amazonaws.com).
  returned: always
  type: str
username:
  description: Always C(AWS).
  returned: always
  type: str
password:
  description: The registry password (secret).
  returned: always
  type: str
expires_at:
  description: When the password stops working.
  returned: always
  type: str
"""

import base64
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def main() -> None:
    module = AnsibleAWSModule(argument_spec={"registry_id": {"type": "str"}},
                              supports_check_mode=True)
    client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff())
    kwargs: dict[str, Any] = {}
    if module.params["registry_id"]:
        kwargs["registryIds"] = [module.params["registry_id"]]
    try:
        data = client.get_authorization_token(aws_retry=True, **kwargs)["authorizationData"][0]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to get an ECR authorization token")
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    registry = data["proxyEndpoint"].split("://", 1)[-1].rstrip("/")
    module.exit_json(changed=False, registry=registry, username=username, password=password,
                     expires_at=str(data.get("expiresAt")))


if __name__ == "__main__":
    main()
