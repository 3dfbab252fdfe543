"""Small corrections to moto so the emulator answers the way AWS does.

Each patch restores one documented AWS behaviour that moto 5.2 gets wrong, so that roles can be
written for real AWS and still converge against the emulator. Nothing here changes a role: when a
patch is missing, the symptom is a role that looks non-idempotent against the emulator only.

Apply them once, before the moto server handles its first request: ``apply_all()``.
"""

from __future__ import annotations

from collections.abc import Callable

_applied = False


def _ec2_tag_resource_types() -> None:
    """DescribeTags reports AWS's resource types for NAT gateways and Elastic IPs.

    AWS names them ``natgateway`` and ``elastic-ip``; moto answers ``nat-gateway`` and
    ``vpc-elastic-ip``. amazon.aws filters tags by resource type, finds none, and re-tags the
    NAT gateway and its EIP on every run (``changed`` forever).
    """
    from moto.ec2 import utils

    # The reverse map is shared by reference with moto.ec2.models.tags: mutate it in place.
    utils.EC2_PREFIX_TO_RESOURCE["nat"] = "natgateway"
    utils.EC2_PREFIX_TO_RESOURCE["eipalloc"] = "elastic-ip"


PATCHES: list[Callable[[], None]] = [
    _ec2_tag_resource_types,
]


def apply_all() -> None:
    """Apply every patch once per process."""
    global _applied
    if _applied:
        return
    for patch in PATCHES:
        patch()
    _applied = True
