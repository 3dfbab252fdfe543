#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether RDS can create an engine version on a DB instance class in the Region."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_orderable_instance_info
short_description: Whether RDS offers an engine version on a DB instance class here
description:
  - Asks RDS (C(DescribeOrderableDBInstanceOptions), every page) which versions of I(engine)
    it can create on I(instance_class) in the Region, in a VPC, and tells whether
    I(engine_version) is among them.
  - I(engine_version) may be a full version (C(15.12)) or a major version (C(15)); a major
    version matches each of its minor versions, as C(CreateDBInstance) accepts a major version
    and picks its default minor.
  - The versions are filtered here, not by the API's C(EngineVersion) filter (an exact
    version), so a major version works.
  - Never changes anything.
options:
  engine:
    description: The DB engine.
    type: str
    default: postgres
  engine_version:
    description: The version to create, full or major.
    type: str
    required: true
  instance_class:
    description: The DB instance class, e.g. C(db.t3.medium).
    type: str
    required: true
  storage_type:
    description: Only options with this storage type (C(gp2), C(gp3), C(io1), ...).
    type: str
  multi_az:
    description: Only options that can run Multi-AZ.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Can RDS create PostgreSQL 15 on db.t3.medium (gp2, Multi-AZ) here?
  booking.aws.rds_orderable_instance_info:
    engine: postgres
    engine_version: "15"
    instance_class: db.t3.medium
    storage_type: gp2
    multi_az: true
  register: orderable
  failed_when: not orderable.orderable
"""

RETURN = r"""
orderable:
  description: Whether at least one version matching I(engine_version) is offered.
  returned: always
  type: bool
versions:
  description: The offered versions matching I(engine_version), oldest first.
  returned: always
  type: list
  elements: str
  sample: ["15.12", "15.13", "15.14"]
class_versions:
  description:
    - Every version of I(engine) offered on I(instance_class) (with the storage type and
      Multi-AZ asked for), oldest first; empty when RDS does not offer the class for the engine.
  returned: always
  type: list
  elements: str
storage_types:
  description: The storage types offered with the matching versions.
  returned: always
  type: list
  elements: str
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def matches(wanted: str, version: str) -> bool:
    """A full version matches itself; a major (or major.minor) matches the versions under it."""
    return version == wanted or version.startswith(wanted + ".")


@AWSRetry.jittered_backoff()
def _options(client: Any, engine: str, instance_class: str) -> list[dict[str, Any]]:
    paginator = client.get_paginator("describe_orderable_db_instance_options")
    pages = paginator.paginate(Engine=engine, DBInstanceClass=instance_class, Vpc=True)
    return pages.build_full_result().get("OrderableDBInstanceOptions", [])


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "engine": {"type": "str", "default": "postgres"},
            "engine_version": {"type": "str", "required": True},
            "instance_class": {"type": "str", "required": True},
            "storage_type": {"type": "str"},
            "multi_az": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params
    client = module.client("rds")
    try:
        options = _options(client, p["engine"], p["instance_class"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Unable to read the orderable options of {p['engine']} on "
                                    f"{p['instance_class']}")
    options = [o for o in options
               if (not p["storage_type"] or o.get("StorageType") == p["storage_type"])
               and (not p["multi_az"] or o.get("MultiAZCapable"))]
    class_versions = sorted({o["EngineVersion"] for o in options}, key=version_key)
    wanted = [o for o in options if matches(p["engine_version"], o["EngineVersion"])]
    versions = sorted({o["EngineVersion"] for o in wanted}, key=version_key)
    module.exit_json(changed=False, orderable=bool(versions), versions=versions,
                     class_versions=class_versions,
                     storage_types=sorted({o.get("StorageType", "") for o in wanted} - {""}))


if __name__ == "__main__":
    main()
