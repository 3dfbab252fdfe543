#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Associate a WAFv2 web ACL with one resource (an ALB, API Gateway stage, ...)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: wafv2_web_acl_association
short_description: Associate a regional WAFv2 web ACL with a resource
description:
  - Ensures that the resource I(resource_arn) is protected by the web ACL I(web_acl_arn), or by
    none with I(state=absent).
  - Reads the current association with GetWebACLForResource and changes it with AssociateWebACL
    and DisassociateWebACL only. (C(community.aws.wafv2_resources) also lists every resource of
    the web ACL, which needs ListResourcesForWebACL.)
  - A resource has at most one web ACL; one that is protected by another web ACL is first
    disassociated, then associated with I(web_acl_arn).
  - Supports check mode and diff mode.
options:
  resource_arn:
    description: ARN of the protected resource, e.g. an application load balancer.
    type: str
    required: true
  web_acl_arn:
    description: ARN of the REGIONAL web ACL. Required when I(state=present).
    type: str
  state:
    description: C(present) associates the web ACL; C(absent) removes whatever web ACL protects
      the resource.
extends_documentation_fragment:
  - booking.aws.state
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Protect the load balancer with the web ACL
  booking.aws.wafv2_web_acl_association:
    resource_arn: "{{ alb.load_balancer_arn }}"
    web_acl_arn: "{{ waf.arn }}"
"""

RETURN = r"""
web_acl_arn:
  description: ARN of the web ACL protecting the resource afterwards (in check mode, the one it
    would have); empty string when none.
  returned: always
  type: str
  sample: arn:aws:wafv2:us-east-1:123456789012:regional/webacl/booking-api-prod-waf/1a2b3c
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def _current(client: Any, resource_arn: str) -> str:
    response = client.get_web_acl_for_resource(aws_retry=True, ResourceArn=resource_arn)
    return (response.get("WebACL") or {}).get("ARN", "")


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "resource_arn": {"type": "str", "required": True},
            "web_acl_arn": {"type": "str"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        required_if=[("state", "present", ["web_acl_arn"])],
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("wafv2", retry_decorator=AWSRetry.jittered_backoff(
        catch_extra_error_codes=["WAFUnavailableEntityException"]))

    try:
        before = _current(client, p["resource_arn"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to read the resource's web ACL")

    wanted = p["web_acl_arn"] if p["state"] == "present" else ""
    changed = before != wanted
    if changed and not module.check_mode:
        try:
            if before:
                client.disassociate_web_acl(aws_retry=True, ResourceArn=p["resource_arn"])
            if wanted:
                client.associate_web_acl(aws_retry=True, WebACLArn=wanted,
                                         ResourceArn=p["resource_arn"])
            after = _current(client, p["resource_arn"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Unable to change the resource's web ACL")
    else:
        after = wanted
    module.exit_json(changed=changed, web_acl_arn=after,
                     diff={"before": {"web_acl_arn": before}, "after": {"web_acl_arn": after}})


if __name__ == "__main__":
    main()
