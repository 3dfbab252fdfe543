"""The ecs_cluster role's S3 bucket ARNs and stray inline policies, built in Python.

roles/ecs_cluster/vars/main.yml hands these filters the role's inputs, the caller's identity and
what its tasks read (the two task roles' inline policies). The names of what other roles use
(cluster, app log group, task execution and task roles, ECR repository) come from the
environment contract (``contract.py``), not from here. Tested without AWS in
tests/test_filter_ecs_cluster.py.

Filters:
- ``ecs_cluster_s3_bucket_arns(parts, name_prefix, identity)``: the ARNs of the app's buckets,
  ``arn:<partition>:s3:::<prefix>-<part>-<account>``, in the order of ``parts``.
- ``ecs_cluster_stray_policies(role_results, managed)``: the inline policies found on the
  managed roles that the role does not grant, as ``{role, policy}`` items to remove.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.booking.aws.plugins.filter.contract import bucket_name


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _caller(filter_name: str, identity: Any) -> tuple[str, str]:
    """(partition, account) of an aws_caller_info answer; the partition is its ARN's second part."""
    account = identity.get("account") if isinstance(identity, Mapping) else None
    arn = identity.get("arn") if isinstance(identity, Mapping) else None
    parts = arn.split(":") if isinstance(arn, str) else []
    if (account is None or str(account) == "" or len(parts) < 6 or parts[0] != "arn"
            or not parts[1]):
        raise AnsibleFilterError(
            f"{filter_name}: the AWS identity needs 'account' and 'arn' as aws_caller_info "
            f"returns them; got {identity!r}")
    return parts[1], str(account)


def ecs_cluster_s3_bucket_arns(parts: Sequence[str], name_prefix: str,
                               identity: Mapping[str, Any]) -> list[str]:
    """``arn:<partition>:s3:::<name_prefix>-<part>-<account>`` for each of ``parts``.

    ``identity`` is the caller's (``account``, ``arn``): the bucket names end in its account, the
    ARNs take the partition (aws, aws-cn, aws-us-gov) off its ARN. No parts, no ARNs.
    """
    name = "ecs_cluster_s3_bucket_arns"
    if not isinstance(name_prefix, str) or not name_prefix:
        raise AnsibleFilterError(
            f"{name}: the name prefix must be a non-empty string, got {name_prefix!r}")
    if not _is_list(parts) or not all(isinstance(part, str) and part for part in parts):
        raise AnsibleFilterError(
            f"{name}: ecs_cluster_task_s3_bucket_parts must be a list of non-empty strings, "
            f"got {parts!r}")
    partition, account = _caller(name, identity)
    return [f"arn:{partition}:s3:::{bucket_name(name_prefix, part, account)}" for part in parts]


def ecs_cluster_stray_policies(role_results: Sequence[Mapping[str, Any]],
                               managed: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """The inline policies of the managed roles that are not theirs: ``[{role, policy}]``.

    ``role_results`` are the ``results`` of the looped ``amazon.aws.iam_role_info`` task (each
    with ``iam_roles``, each role with ``role_name`` and ``inline_policies``); a result without
    ``iam_roles`` (skipped) or with none (the role does not exist yet) adds nothing. ``managed``
    maps each role the cluster role manages to the inline policies it grants. Only roles in
    ``managed`` are looked at; the result keeps the order roles and policies were read in.
    """
    name = "ecs_cluster_stray_policies"
    if not isinstance(managed, Mapping) or not all(
            _is_list(policies) for policies in managed.values()):
        raise AnsibleFilterError(
            f"{name}: the managed policies must be a dict of policy name lists by role, "
            f"got {managed!r}")
    if not _is_list(role_results):
        raise AnsibleFilterError(
            f"{name}: expected the results of the iam_role_info loop, got {role_results!r}")
    stray: list[dict[str, str]] = []
    for result in role_results:
        if not isinstance(result, Mapping):
            raise AnsibleFilterError(f"{name}: an iam_role_info result is not a dict: {result!r}")
        roles = result.get("iam_roles", [])
        if not _is_list(roles):
            raise AnsibleFilterError(f"{name}: iam_roles must be a list, got {roles!r}")
        for role in roles:
            if (not isinstance(role, Mapping) or not isinstance(role.get("role_name"), str)
                    or not _is_list(role.get("inline_policies"))):
                raise AnsibleFilterError(
                    f"{name}: every role of iam_roles needs role_name and inline_policies, "
                    f"got {role!r}")
            granted = managed.get(role["role_name"])
            if granted is None:
                continue
            stray.extend({"role": role["role_name"], "policy": policy}
                         for policy in role["inline_policies"] if policy not in granted)
    return stray


class FilterModule:
    """booking.aws.ecs_cluster_s3_bucket_arns, ecs_cluster_stray_policies."""

    def filters(self) -> dict[str, Any]:
        return {
            "ecs_cluster_s3_bucket_arns": ecs_cluster_s3_bucket_arns,
            "ecs_cluster_stray_policies": ecs_cluster_stray_policies,
        }
