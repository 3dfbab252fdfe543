# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DB instances as our RDS modules read and return them (rds_instance_restore, _rename)."""

from __future__ import annotations

from typing import Any

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
)


def describe_instance(client: Any, identifier: str) -> dict[str, Any] | None:
    """The instance as DescribeDBInstances gives it, or None when there is none by that name.
    `client` carries a retry decorator (``aws_retry=True``)."""
    try:
        found = client.describe_db_instances(aws_retry=True, DBInstanceIdentifier=identifier)
    except is_boto3_error_code("DBInstanceNotFound"):
        return None
    return found["DBInstances"][0]


def instance_result(instance: dict[str, Any] | None) -> dict[str, Any]:
    """The instance as our modules return it: snake_case keys, ``tags`` a dict."""
    if not instance:
        return {}
    described = dict(instance)
    tags = boto3_tag_list_to_ansible_dict(described.pop("TagList", []))
    result = camel_dict_to_snake_dict(described)
    result["tags"] = tags
    return result
