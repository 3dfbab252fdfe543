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
  - WAF cannot protect a load balancer that is still provisioning, nor use a web ACL created
    moments ago; it answers C(WAFUnavailableEntityException) ("Retry your request") or
    C(WAFNonexistentItemException) ("If you've just created a resource ..., you might just need
    to wait a few minutes"). Both are retried every I(poll_interval) seconds for up to
    I(wait_timeout) seconds, on every call. Still, associate after the load balancer is C(active).
  - With I(state=absent), a resource WAF does not know (C(WAFNonexistentItemException) on the
    read) has no web ACL.
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
  wait_timeout:
    description:
      - Seconds to retry while WAF answers C(WAFUnavailableEntityException) or
        C(WAFNonexistentItemException) (a load balancer still provisioning, a web ACL not
        propagated yet). AWS can take minutes; 0 fails at the first such answer.
    type: int
    default: 600
  poll_interval:
    description: Seconds between those retries.
    type: int
    default: 10
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

import time
from collections.abc import Callable
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.booking.aws.plugins.module_utils.eventual_consistency import (
    call_until_accepted,
)

# What WAF answers while the resource or the web ACL is not usable yet (WAFv2 API reference;
# terraform-provider-aws #29080, #17527; aws-load-balancer-controller #2022).
NOT_READY = ("WAFUnavailableEntityException", "WAFNonexistentItemException")


def _current(client: Any, resource_arn: str) -> str:
    response = client.get_web_acl_for_resource(aws_retry=True, ResourceArn=resource_arn)
    return (response.get("WebACL") or {}).get("ARN", "")


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "resource_arn": {"type": "str", "required": True},
            "web_acl_arn": {"type": "str"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "wait_timeout": {"type": "int", "default": 600},
            "poll_interval": {"type": "int", "default": 10},
        },
        required_if=[("state", "present", ["web_acl_arn"])],
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("wafv2", retry_decorator=AWSRetry.jittered_backoff())
    deadline = time.monotonic() + p["wait_timeout"]

    def retried(call: Callable[[], Any]) -> Any:
        """call(), retried while WAF cannot use the resource or the web ACL yet."""
        return call_until_accepted(call, NOT_READY, max(0.0, deadline - time.monotonic()),
                                   delay=p["poll_interval"], max_delay=p["poll_interval"])

    resource = p["resource_arn"]
    try:
        if p["state"] == "present":
            before = retried(lambda: _current(client, resource))
        else:
            try:
                before = _current(client, resource)
            except is_boto3_error_code("WAFNonexistentItemException"):
                before = ""  # WAF knows no such resource (any more): nothing protects it
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Unable to read the resource's web ACL")

    wanted = p["web_acl_arn"] if p["state"] == "present" else ""
    changed = before != wanted
    if changed and not module.check_mode:
        try:
            if before:
                retried(lambda: client.disassociate_web_acl(aws_retry=True, ResourceArn=resource))
            if wanted:
                retried(lambda: client.associate_web_acl(aws_retry=True, WebACLArn=wanted,
                                                         ResourceArn=resource))
            after = retried(lambda: _current(client, resource))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Unable to change the resource's web ACL")
    else:
        after = wanted
    module.exit_json(changed=changed, web_acl_arn=after,
                     diff={"before": {"web_acl_arn": before}, "after": {"web_acl_arn": after}})


if __name__ == "__main__":
    main()
