"""booking.aws.alb_waf_rules (plugins/filter/alb.py), in pure Python.

The alb role's web ACL rules were built by a Jinja loop in roles/alb/vars/main.yml; the filter
must build the very same rules so a converged web ACL stays unchanged. REFERENCE below is what
that Jinja rendered (ansible-core 2.21, before the move) for the molecule scenario's prefix and
the role's default rule groups. No emulator: the plugin file is loaded from its path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.booking.aws.plugins.filter import alb

REPO = Path(__file__).resolve().parents[1]





def _json(value: Any) -> str:
    """Compared as JSON: key order, and int vs str vs bool, count."""
    return json.dumps(value)


# The molecule scenario's prefix molecule-staging: web ACL molecule-staging-waf, whose metric name
# (__alb_web_acl_metric) is the same; the role's default alb_waf_managed_rule_groups.
METRIC = "molecule-staging-waf"
GROUPS = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
          "AWSManagedRulesAmazonIpReputationList"]


def _rule(group: str, priority: int, metric: str = METRIC) -> dict[str, Any]:
    return {"name": group, "priority": priority, "override_action": {"none": {}},
            "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
            "visibility_config": {"sampled_requests_enabled": True,
                                  "cloud_watch_metrics_enabled": True,
                                  "metric_name": f"{metric}-{group}"}}


# Rendered by the former Jinja of roles/alb/vars/main.yml (__alb_waf_rules) for GROUPS and METRIC.
REFERENCE: list[dict[str, Any]] = [
    {"name": "AWSManagedRulesCommonRuleSet", "priority": 0, "override_action": {"none": {}},
     "statement": {"managed_rule_group_statement": {"vendor_name": "AWS",
                                                    "name": "AWSManagedRulesCommonRuleSet"}},
     "visibility_config": {"sampled_requests_enabled": True, "cloud_watch_metrics_enabled": True,
                           "metric_name": "molecule-staging-waf-AWSManagedRulesCommonRuleSet"}},
    {"name": "AWSManagedRulesKnownBadInputsRuleSet", "priority": 1,
     "override_action": {"none": {}},
     "statement": {"managed_rule_group_statement": {
         "vendor_name": "AWS", "name": "AWSManagedRulesKnownBadInputsRuleSet"}},
     "visibility_config": {
         "sampled_requests_enabled": True, "cloud_watch_metrics_enabled": True,
         "metric_name": "molecule-staging-waf-AWSManagedRulesKnownBadInputsRuleSet"}},
    {"name": "AWSManagedRulesAmazonIpReputationList", "priority": 2,
     "override_action": {"none": {}},
     "statement": {"managed_rule_group_statement": {
         "vendor_name": "AWS", "name": "AWSManagedRulesAmazonIpReputationList"}},
     "visibility_config": {
         "sampled_requests_enabled": True, "cloud_watch_metrics_enabled": True,
         "metric_name": "molecule-staging-waf-AWSManagedRulesAmazonIpReputationList"}},
]


# --- the former Jinja's output --------------------------------------------------------------------

def test_rules_of_the_default_groups_are_what_the_former_jinja_rendered():
    assert _json(alb.alb_waf_rules(GROUPS, METRIC)) == _json(REFERENCE)


def test_other_groups_and_a_sanitised_metric_as_the_former_jinja_rendered():
    # Prefix booking.api-prod: web ACL booking.api-prod-waf, metric booking_api-prod-waf.
    groups = ["AWSManagedRulesSQLiRuleSet", "AWSManagedRulesLinuxRuleSet",
              "AWSManagedRulesAnonymousIpList", "AWSManagedRulesBotControlRuleSet"]
    expected = [_rule(group, index, "booking_api-prod-waf") for index, group in enumerate(groups)]
    assert _json(alb.alb_waf_rules(groups, "booking_api-prod-waf")) == _json(expected)


# --- behaviour ------------------------------------------------------------------------------------

def test_priorities_follow_the_list_order_from_zero():
    reordered = [GROUPS[2], GROUPS[0], GROUPS[1]]
    rules = alb.alb_waf_rules(reordered, METRIC)
    assert [(rule["name"], rule["priority"]) for rule in rules] == [
        (GROUPS[2], 0), (GROUPS[0], 1), (GROUPS[1], 2)]
    assert all(isinstance(rule["priority"], int) for rule in rules)


def test_metric_names_are_the_web_acls_then_the_group():
    rules = alb.alb_waf_rules(GROUPS, "booking-api-prod-waf")
    assert [rule["visibility_config"]["metric_name"] for rule in rules] == [
        f"booking-api-prod-waf-{group}" for group in GROUPS]
    assert all(rule["visibility_config"]["sampled_requests_enabled"] is True
               and rule["visibility_config"]["cloud_watch_metrics_enabled"] is True
               for rule in rules)


def test_each_rule_keeps_its_groups_actions_and_names_an_aws_managed_group():
    for rule, group in zip(alb.alb_waf_rules(GROUPS, METRIC), GROUPS, strict=True):
        assert rule["override_action"] == {"none": {}}
        assert rule["statement"] == {"managed_rule_group_statement": {"vendor_name": "AWS",
                                                                      "name": group}}


def test_no_groups_no_rules():
    assert alb.alb_waf_rules([], METRIC) == []


def test_the_roles_default_groups_pass_the_filters_checks():
    defaults = yaml.safe_load((REPO / "roles/alb/defaults/main.yml").read_text())
    groups = defaults["alb_waf_managed_rule_groups"]
    assert [rule["name"] for rule in alb.alb_waf_rules(groups, METRIC)] == groups


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("groups", "metric", "message"), [
    (GROUPS, "", "metric name must be letters, digits"),
    (GROUPS, "booking.api-prod-waf", "metric name must be letters, digits"),
    (GROUPS, None, "metric name must be letters, digits"),
    ("AWSManagedRulesCommonRuleSet", METRIC, "must be a list of rule group names"),
    ({"AWSManagedRulesCommonRuleSet": 0}, METRIC, "must be a list of rule group names"),
    ([GROUPS[0], ""], METRIC, r"alb_waf_managed_rule_groups\[1\] must be a rule group name"),
    ([GROUPS[0], "AWS Managed"], METRIC, r"alb_waf_managed_rule_groups\[1\]"),
    ([None], METRIC, r"alb_waf_managed_rule_groups\[0\]"),
    ([GROUPS[0], GROUPS[1], GROUPS[0]], METRIC, "AWSManagedRulesCommonRuleSet is listed twice"),
])
def test_bad_input_is_refused(groups: Any, metric: Any, message: str):
    with pytest.raises(AnsibleFilterError, match=message):
        alb.alb_waf_rules(groups, metric)


# --- wiring ---------------------------------------------------------------------------------------

def test_filter_module_names_the_filter():
    assert alb.FilterModule().filters() == {"alb_waf_rules": alb.alb_waf_rules}


def test_the_roles_vars_use_the_filter_and_the_contract_and_loop_no_more():
    text = (REPO / "roles/alb/vars/main.yml").read_text()
    assert "{%" not in text
    values = yaml.safe_load(text)
    assert "booking.aws.alb_waf_rules(__alb_web_acl_metric)" in values["__alb_waf_rules"]
    assert "booking.aws.resource_names" in values["__alb_names"]
    assert values["__alb_name"] == "{{ __alb_names.load_balancer }}"
    assert values["__alb_target_group_name"] == "{{ __alb_names.target_group }}"
    assert values["__alb_web_acl_name"] == "{{ __alb_names.web_acl }}"
