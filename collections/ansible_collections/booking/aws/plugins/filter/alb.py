"""The alb role's WAF rules, built in Python.

roles/alb/vars/main.yml hands this filter the role's ``alb_waf_managed_rule_groups`` and the web
ACL's metric name; the rules come out as ``community.aws.wafv2_web_acl`` takes them. The names of
the load balancer, target group and web ACL come from the environment contract
(``contract.py``), not from here. Tested without AWS in tests/test_filter_alb.py.

Filters:
- ``alb_waf_rules(groups, web_acl_metric)``: one rule per AWS managed rule group, in the given
  order (priority 0, 1, ...), each keeping the group's own actions (``override_action: none``),
  with CloudWatch metrics ``<web_acl_metric>-<group>`` and sampled requests on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

# The vendor of the managed rule groups the role uses.
VENDOR = "AWS"
# A WAF metric name (and so a group name that goes into one) takes letters, digits, - and _.
_METRIC_PART = re.compile(r"^[A-Za-z0-9_-]+$")


def _wrong(what: str, expected: str, value: Any) -> AnsibleFilterError:
    return AnsibleFilterError(f"alb_waf_rules: {what} must be {expected}, got {value!r}")


def alb_waf_rules(groups: Sequence[str], web_acl_metric: str) -> list[dict[str, Any]]:
    """The web ACL's rules: each of ``groups`` as an AWS managed rule group statement.

    The n-th group (from 0) gets priority n, so the list order is the evaluation order. Each rule
    is named after its group, does not override the group's actions, and reports to CloudWatch
    as ``<web_acl_metric>-<group>`` with sampled requests. A group or metric name with characters
    a WAF metric name does not take, and a group listed twice, are refused.
    """
    if not isinstance(web_acl_metric, str) or not _METRIC_PART.match(web_acl_metric):
        raise _wrong("the web ACL's metric name", "letters, digits, - and _ only",
                     web_acl_metric)
    if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
        raise _wrong("alb_waf_managed_rule_groups", "a list of rule group names", groups)
    rules: list[dict[str, Any]] = []
    for priority, group in enumerate(groups):
        if not isinstance(group, str) or not _METRIC_PART.match(group):
            raise _wrong(f"alb_waf_managed_rule_groups[{priority}]",
                         "a rule group name (letters, digits, - and _)", group)
        if any(rule["name"] == group for rule in rules):
            raise AnsibleFilterError(
                f"alb_waf_rules: the rule group {group} is listed twice in "
                "alb_waf_managed_rule_groups")
        rules.append({
            "name": group,
            "priority": priority,
            "override_action": {"none": {}},
            "statement": {"managed_rule_group_statement": {"vendor_name": VENDOR, "name": group}},
            "visibility_config": {"sampled_requests_enabled": True,
                                  "cloud_watch_metrics_enabled": True,
                                  "metric_name": f"{web_acl_metric}-{group}"},
        })
    return rules


class FilterModule:
    """booking.aws.alb_waf_rules."""

    def filters(self) -> dict[str, Any]:
        return {"alb_waf_rules": alb_waf_rules}
