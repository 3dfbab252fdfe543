#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The values of service quotas applied to the account (or AWS's defaults)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_quota_info
short_description: Read the values of service quotas applied to the account
description:
  - For each quota, asks Service Quotas for the value applied to the account in the Region
    (C(GetServiceQuota)); when AWS has no applied value for it (C(NoSuchResourceException)),
    reads AWS's default (C(GetAWSDefaultServiceQuota)) instead and says so.
  - The applied value is what AWS enforces; a new account may be given less than the default.
  - Never changes anything.
options:
  quotas:
    description: The quotas to read.
    type: list
    elements: dict
    required: true
    suboptions:
      service_code:
        description: The service's code in Service Quotas, e.g. C(fargate), C(ec2), C(vpc).
        type: str
        required: true
      quota_code:
        description: The quota's code, e.g. C(L-3032A538).
        type: str
        required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the Fargate On-Demand vCPU and VPC quotas
  booking.aws.service_quota_info:
    quotas:
      - {service_code: fargate, quota_code: L-3032A538}
      - {service_code: vpc, quota_code: L-F678F1CE}
  register: quotas
"""

RETURN = r"""
quotas:
  description: One entry per quota asked for, in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    service_code:
      description: As asked.
      type: str
    quota_code:
      description: As asked.
      type: str
    name:
      description: The quota's name.
      type: str
      sample: Fargate On-Demand vCPU resource count
    value:
      description: The quota's value.
      type: float
    applied:
      description: True when I(value) is the account's applied value, false when AWS's default.
      type: bool
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def _read(client: Any, service_code: str, quota_code: str) -> dict[str, Any]:
    kwargs = {"ServiceCode": service_code, "QuotaCode": quota_code}
    try:
        quota, applied = client.get_service_quota(aws_retry=True, **kwargs)["Quota"], True
    except is_boto3_error_code("NoSuchResourceException"):
        quota = client.get_aws_default_service_quota(aws_retry=True, **kwargs)["Quota"]
        applied = False
    return {"service_code": service_code, "quota_code": quota_code,
            "name": quota.get("QuotaName", ""), "value": quota.get("Value"), "applied": applied}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "quotas": {"type": "list", "elements": "dict", "required": True, "options": {
                "service_code": {"type": "str", "required": True},
                "quota_code": {"type": "str", "required": True},
            }},
        },
        supports_check_mode=True,
    )
    client = module.client("service-quotas", retry_decorator=AWSRetry.jittered_backoff())
    found = []
    for item in module.params["quotas"]:
        try:
            found.append(_read(client, item["service_code"], item["quota_code"]))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Unable to read the quota {item['service_code']}/"
                                        f"{item['quota_code']}")
    module.exit_json(changed=False, quotas=found)


if __name__ == "__main__":
    main()
