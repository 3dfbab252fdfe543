"""The audit role's AWS Config rule requests, built in Python.

roles/audit/vars/main.yml hands this filter the role's ``audit_config_rules``, its name prefix and
tags; the rules come out as ``booking.aws.config_rules`` takes them. The names of what other roles
make (the trail, the audit log group) come from the environment contract (``contract.py``), not
from here. Tested without AWS in tests/test_filter_audit.py.

Filters:
- ``audit_rule_requests(rules, name_prefix, tags)``: one request per rule, named
  ``<prefix>-<name>``, tagged with the tags plus ``Name``, ``state: present``; a rule's
  ``max_frequency`` becomes ``maximum_execution_frequency`` only when the rule gives one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

# The keys of an audit_config_rules item (meta/argument_specs.yml): required, then optional.
REQUIRED_KEYS: tuple[str, ...] = ("name", "identifier")
OPTIONAL_KEYS: tuple[str, ...] = ("description", "resource_types", "parameters", "max_frequency")


def _wrong(what: str, expected: str, value: Any) -> AnsibleFilterError:
    return AnsibleFilterError(f"audit_rule_requests: {what} must be {expected}, got {value!r}")


def _check_rule(index: int, rule: Any) -> Mapping[str, Any]:
    """The rule, if it has the keys and types the role's argument spec gives an item."""
    if not isinstance(rule, Mapping):
        raise _wrong(f"audit_config_rules[{index}]", "a dict", rule)
    unknown = sorted(str(key) for key in rule if key not in REQUIRED_KEYS + OPTIONAL_KEYS)
    if unknown:
        raise AnsibleFilterError(
            f"audit_rule_requests: audit_config_rules[{index}] has unknown keys {unknown}; a rule "
            f"takes {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)}")
    for key in REQUIRED_KEYS:
        if not isinstance(rule.get(key), str) or not rule[key]:
            raise _wrong(f"audit_config_rules[{index}].{key}", "a non-empty string",
                         rule.get(key))
    # Optional keys may be left out; a null passes through as the former Jinja passed it.
    for key in ("description", "max_frequency"):
        if rule.get(key) is not None and not isinstance(rule[key], str):
            raise _wrong(f"audit_config_rules[{index}].{key}", "a string", rule[key])
    if rule.get("parameters") is not None and not isinstance(rule["parameters"], Mapping):
        raise _wrong(f"audit_config_rules[{index}].parameters", "a dict", rule["parameters"])
    types = rule.get("resource_types")
    if types is not None and (isinstance(types, (str, bytes)) or not isinstance(types, Sequence)
                              or not all(isinstance(item, str) for item in types)):
        raise _wrong(f"audit_config_rules[{index}].resource_types", "a list of strings", types)
    return rule


def audit_rule_requests(rules: Sequence[Mapping[str, Any]], name_prefix: str,
                        tags: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``audit_config_rules`` as ``booking.aws.config_rules`` takes them, in the given order.

    Each request: ``name`` ``<name_prefix>-<rule name>``, ``identifier``, ``description`` (''
    when left out), ``input_parameters`` (the rule's ``parameters``, {} when left out),
    ``compliance_resource_types`` (the rule's ``resource_types``, [] when left out), ``tags``
    (``tags`` plus ``Name``, the request's name), ``purge_tags: true``, ``state: present``, and
    ``maximum_execution_frequency`` when the rule has a ``max_frequency`` key. Two rules of the
    same name are refused (they would be one AWS Config rule).
    """
    if not isinstance(name_prefix, str) or not name_prefix:
        raise _wrong("the name prefix", "a non-empty string", name_prefix)
    if not isinstance(tags, Mapping):
        raise _wrong("the tags", "a dict", tags)
    if isinstance(rules, (str, bytes, Mapping)) or not isinstance(rules, Sequence):
        raise _wrong("audit_config_rules", "a list of rules", rules)
    requests: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(rules):
        rule = _check_rule(index, item)
        name = f"{name_prefix}-{rule['name']}"
        if name in seen:
            raise AnsibleFilterError(
                f"audit_rule_requests: two rules are named {rule['name']!r}; each rule needs its "
                "own name")
        seen.add(name)
        request: dict[str, Any] = {
            "name": name,
            "identifier": rule["identifier"],
            "description": rule.get("description", ""),
            "input_parameters": rule.get("parameters", {}),
            "compliance_resource_types": rule.get("resource_types", []),
            "tags": {**tags, "Name": name},
            "purge_tags": True,
            "state": "present",
        }
        if "max_frequency" in rule:
            request["maximum_execution_frequency"] = rule["max_frequency"]
        requests.append(request)
    return requests


class FilterModule:
    """booking.aws.audit_rule_requests."""

    def filters(self) -> dict[str, Any]:
        return {"audit_rule_requests": audit_rule_requests}
