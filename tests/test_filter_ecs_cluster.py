"""booking.aws.ecs_cluster_s3_bucket_arns and ecs_cluster_stray_policies
(plugins/filter/ecs_cluster.py), in pure Python.

The ecs_cluster role's bucket ARNs and the inline policies it removes were built by Jinja loops in
roles/ecs_cluster/vars/main.yml; the filters must build the very same values so a converged
environment stays unchanged. The references below are what that Jinja rendered (ansible-core
2.21, before the move) for the molecule scenario's inputs and for a production-like input in
aws-cn with policies added by hand. No emulator: the plugin file is loaded from its path.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.booking.aws.plugins.filter import ecs_cluster as ecs

REPO = Path(__file__).resolve().parents[1]





def _json(value: Any) -> str:
    return json.dumps(value)


AWS = {"account": "123456789012", "arn": "arn:aws:iam::123456789012:user/ci"}
CN = {"account": "210987654321", "arn": "arn:aws-cn:sts::210987654321:assumed-role/deploy/x"}
GOV = {"account": "555566667777", "arn": "arn:aws-us-gov:iam::555566667777:root"}

# Rendered by the former Jinja (__ecs_cluster_s3_bucket_arns) for the molecule scenario (prefix
# molecule-staging, the default parts static and media) and for booking-api-prod in aws-cn with
# a third part.
REFERENCE_ARNS = ["arn:aws:s3:::molecule-staging-static-123456789012",
                  "arn:aws:s3:::molecule-staging-media-123456789012"]
REFERENCE_CN_ARNS = ["arn:aws-cn:s3:::booking-api-prod-static-210987654321",
                     "arn:aws-cn:s3:::booking-api-prod-media-210987654321",
                     "arn:aws-cn:s3:::booking-api-prod-uploads-210987654321"]


def _managed(prefix: str) -> dict[str, list[str]]:
    """__ecs_cluster_inline_policies for the prefix."""
    return {f"{prefix}-task-execution": ["task-execution"],
            f"{prefix}-task": ["app-buckets", "ecs-exec"]}


def _results(*roles: tuple[str, list[str] | None]) -> list[dict[str, Any]]:
    """The results of the looped amazon.aws.iam_role_info task; None: the role does not exist."""
    return [{"changed": False, "failed": False, "item": name, "ansible_loop_var": "item",
             "iam_roles": [] if policies is None else [
                 {"role_name": name, "arn": f"arn:aws:iam::1:role/{name}", "path": "/",
                  "inline_policies": policies}]}
            for name, policies in roles]


# Policies added by hand on both roles of booking-api-prod, between the granted ones.
STRAY_RESULTS = _results(
    ("booking-api-prod-task-execution", ["handmade", "task-execution", "AdminAccess"]),
    ("booking-api-prod-task", ["ecs-exec", "debug", "app-buckets"]))
# Rendered by the former Jinja (__ecs_cluster_stray_policies) for STRAY_RESULTS.
REFERENCE_STRAY = [{"role": "booking-api-prod-task-execution", "policy": "handmade"},
                   {"role": "booking-api-prod-task-execution", "policy": "AdminAccess"},
                   {"role": "booking-api-prod-task", "policy": "debug"}]


# --- the former Jinja's output --------------------------------------------------------------------

def test_bucket_arns_are_what_the_former_jinja_rendered():
    arns = ecs.ecs_cluster_s3_bucket_arns(["static", "media"], "molecule-staging", AWS)
    assert _json(arns) == _json(REFERENCE_ARNS)
    arns = ecs.ecs_cluster_s3_bucket_arns(["static", "media", "uploads"], "booking-api-prod", CN)
    assert _json(arns) == _json(REFERENCE_CN_ARNS)


def test_stray_policies_are_what_the_former_jinja_rendered():
    stray = ecs.ecs_cluster_stray_policies(STRAY_RESULTS, _managed("booking-api-prod"))
    assert _json(stray) == _json(REFERENCE_STRAY)


def test_a_converged_pair_of_roles_has_no_stray_policy_as_before():
    results = _results(("molecule-staging-task-execution", ["task-execution"]),
                       ("molecule-staging-task", ["app-buckets", "ecs-exec"]))
    assert ecs.ecs_cluster_stray_policies(results, _managed("molecule-staging")) == []


# --- bucket ARNs ----------------------------------------------------------------------------------

def test_bucket_arns_take_the_partition_and_the_account_of_the_caller():
    assert ecs.ecs_cluster_s3_bucket_arns(["media"], "b-qa", GOV) == [
        "arn:aws-us-gov:s3:::b-qa-media-555566667777"]
    # An account given as a number is written as the Jinja ~ wrote it.
    assert ecs.ecs_cluster_s3_bucket_arns(["static"], "b-qa", {**AWS, "account": 123456789012}) == [
        "arn:aws:s3:::b-qa-static-123456789012"]


def test_no_parts_no_arns():
    assert ecs.ecs_cluster_s3_bucket_arns([], "b-qa", GOV) == []


@pytest.mark.parametrize(("parts", "prefix", "identity", "message"), [
    ("static", "b-qa", AWS, "must be a list of non-empty strings"),
    (["static", ""], "b-qa", AWS, "must be a list of non-empty strings"),
    ([None], "b-qa", AWS, "must be a list of non-empty strings"),
    (["static"], "", AWS, "name prefix must be a non-empty string"),
    (["static"], "b-qa", {}, "needs 'account' and 'arn'"),
    (["static"], "b-qa", {"account": "1"}, "needs 'account' and 'arn'"),
    (["static"], "b-qa", {"arn": AWS["arn"]}, "needs 'account' and 'arn'"),
    (["static"], "b-qa", {**AWS, "arn": "aws:iam::1:user/x"}, "needs 'account' and 'arn'"),
    (["static"], "b-qa", None, "needs 'account' and 'arn'"),
])
def test_bucket_arns_refuse_bad_input(parts: Any, prefix: Any, identity: Any, message: str):
    with pytest.raises(AnsibleFilterError, match=message):
        ecs.ecs_cluster_s3_bucket_arns(parts, prefix, identity)


# --- stray policies -------------------------------------------------------------------------------

def test_stray_policies_only_on_the_managed_roles():
    results = _results(("booking-api-prod-task", ["debug"]),
                       ("someone-elses-role", ["anything", "task-execution"]))
    assert ecs.ecs_cluster_stray_policies(results, _managed("booking-api-prod")) == [
        {"role": "booking-api-prod-task", "policy": "debug"}]


def test_a_policy_granted_to_the_other_role_is_stray_on_this_one():
    results = _results(("booking-api-prod-task-execution", ["app-buckets"]))
    assert ecs.ecs_cluster_stray_policies(results, _managed("booking-api-prod")) == [
        {"role": "booking-api-prod-task-execution", "policy": "app-buckets"}]


def test_missing_roles_and_skipped_results_add_nothing():
    results = [{"skipped": True, "item": "b-qa-task-execution"},
               *_results(("b-qa-task", None))]
    assert ecs.ecs_cluster_stray_policies(results, _managed("b-qa")) == []
    assert ecs.ecs_cluster_stray_policies([], _managed("b-qa")) == []


def test_the_inputs_are_not_changed():
    results, managed = copy.deepcopy(STRAY_RESULTS), _managed("booking-api-prod")
    ecs.ecs_cluster_stray_policies(results, managed)
    assert results == STRAY_RESULTS
    assert managed == _managed("booking-api-prod")


@pytest.mark.parametrize(("results", "managed", "message"), [
    (STRAY_RESULTS, None, "managed policies must be a dict"),
    (STRAY_RESULTS, {"r": "task-execution"}, "managed policies must be a dict"),
    ({"results": STRAY_RESULTS}, _managed("booking-api-prod"), "expected the results"),
    (["booking-api-prod-task"], _managed("booking-api-prod"), "result is not a dict"),
    ([{"iam_roles": {"role_name": "x"}}], _managed("x"), "iam_roles must be a list"),
    ([{"iam_roles": [{"role_name": "x-task"}]}], _managed("x"), "needs role_name and inline"),
    ([{"iam_roles": [{"inline_policies": []}]}], _managed("x"), "needs role_name and inline"),
    ([{"iam_roles": ["x-task"]}], _managed("x"), "needs role_name and inline"),
])
def test_stray_policies_refuse_bad_input(results: Any, managed: Any, message: str):
    with pytest.raises(AnsibleFilterError, match=message):
        ecs.ecs_cluster_stray_policies(results, managed)


# --- wiring ---------------------------------------------------------------------------------------

def test_filter_module_names_both_filters():
    assert ecs.FilterModule().filters() == {
        "ecs_cluster_s3_bucket_arns": ecs.ecs_cluster_s3_bucket_arns,
        "ecs_cluster_stray_policies": ecs.ecs_cluster_stray_policies}


def test_the_roles_vars_use_the_filters_and_the_contract_and_loop_no_more():
    text = (REPO / "roles/ecs_cluster/vars/main.yml").read_text()
    assert "{%" not in text
    values = yaml.safe_load(text)
    assert "booking.aws.ecs_cluster_s3_bucket_arns(" in values["__ecs_cluster_s3_bucket_arns"]
    assert "booking.aws.ecs_cluster_stray_policies(" in values["__ecs_cluster_stray_policies"]
    assert "booking.aws.resource_names" in values["__ecs_cluster_names"]
    assert values["__ecs_cluster_name"] == "{{ __ecs_cluster_names.cluster }}"
    assert values["__ecs_cluster_log_group"] == "{{ __ecs_cluster_names.app_log_group }}"
    assert values["__ecs_cluster_execution_role"] == (
        "{{ __ecs_cluster_names.task_execution_role }}")
    assert values["__ecs_cluster_task_role"] == "{{ __ecs_cluster_names.task_role }}"
    defaults = yaml.safe_load((REPO / "roles/ecs_cluster/defaults/main.yml").read_text())
    assert defaults["ecs_cluster_ecr_repository"] == (
        "{{ (ecs_cluster_name_prefix | booking.aws.resource_names).repository }}")
