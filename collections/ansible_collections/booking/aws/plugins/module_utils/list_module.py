# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the list modules (cloudwatch_metric_alarms, config_rules, ssm_parameters, ec2_vpc_subnets)
share: refusing a list that names one resource twice, and converging each item with one
result, one diff and one error message per item."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

with contextlib.suppress(ImportError):  # a missing botocore is reported by AnsibleAWSModule
    import botocore


def refuse_repeats(module: Any, option: str, keys: list[str], what: str = "name") -> None:
    """Fail the module if a key (a name, a CIDR) appears more than once in the list option."""
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        module.fail_json(msg=f"{option}: each {what} once; repeated: {', '.join(repeated)}")


def converge_each(module: Any, option: str, items: list[dict[str, Any]],
                  converge: Callable[[dict[str, Any]], dict[str, Any]],
                  describe: Callable[[dict[str, Any]], str]) -> None:
    """Converge every item in order and exit the module.

    ``converge(item)`` returns the item's result with ``changed`` and ``diff``; the module returns
    ``<option>``: one result per item with its ``name``, and one diff keyed by the names of the
    items that changed. The first AWS error fails the module with ``describe(item)`` named and
    the results so far.
    """
    results: list[dict[str, Any]] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for item in items:
        try:
            result = converge(item)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg=f"Unable to converge {describe(item)}",
                                 **{option: results})
        diff = result.pop("diff")
        if result["changed"]:
            before[item["name"]] = diff["before"]
            after[item["name"]] = diff["after"]
        results.append({"name": item["name"], **result})
    module.exit_json(changed=any(r["changed"] for r in results), **{option: results},
                     diff={"before": before, "after": after})
