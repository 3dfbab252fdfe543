# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canonical forms of ECS task definitions and service settings, for comparison.

AWS hands back a definition with defaults filled in (``cpu: 0``, ``essential: true``,
``protocol: tcp``, empty lists, ``hostPort`` equal to ``containerPort`` under awsvpc) and keeps
list order; a desired definition rarely spells those out. Two definitions are "the same" when
their canonical forms are equal: empty values dropped, defaults removed, name-keyed lists sorted.
"""

from __future__ import annotations

from typing import Any

# Task definition fields that define what runs. Anything else AWS returns (revision, status,
# compatibilities, registeredAt, requiresAttributes, ...) is bookkeeping.
TASK_FIELDS = (
    "family", "containerDefinitions", "cpu", "memory", "networkMode", "requiresCompatibilities",
    "executionRoleArn", "taskRoleArn", "runtimePlatform", "volumes", "ephemeralStorage",
    "pidMode", "ipcMode", "proxyConfiguration", "placementConstraints",
)

# Container fields AWS fills with these values when they are not given.
_CONTAINER_DEFAULTS: dict[str, Any] = {"cpu": 0, "essential": True}


def drop_empty(value: Any) -> Any:
    """`value` without None, empty lists and empty dicts, recursively."""
    if isinstance(value, dict):
        cleaned = {k: drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [drop_empty(v) for v in value if v not in (None, [], {})]
    return value


def _by(key: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: str(item.get(key, "")))


def canonical_container(container: dict[str, Any], network_mode: str) -> dict[str, Any]:
    out = drop_empty(dict(container))
    for key, default in _CONTAINER_DEFAULTS.items():
        if out.get(key) == default:
            out.pop(key)
    for key in ("environment", "secrets"):
        if key in out:
            out[key] = _by("name", out[key])
    if "portMappings" in out:
        mappings = []
        for mapping in out["portMappings"]:
            mapping = dict(mapping)
            if mapping.get("protocol") == "tcp":
                mapping.pop("protocol")
            if network_mode == "awsvpc" and mapping.get("hostPort") == mapping.get(
                    "containerPort"):
                mapping.pop("hostPort")
            mappings.append(mapping)
        out["portMappings"] = sorted(mappings, key=lambda m: (m.get("containerPort", 0),
                                                              m.get("name", "")))
    for key in ("mountPoints", "volumesFrom", "ulimits", "dependsOn"):
        if key in out:
            out[key] = sorted(out[key], key=repr)
    return out


def canonical_task_definition(definition: dict[str, Any]) -> dict[str, Any]:
    """The fields that define a task, in a form where equal means "runs the same"."""
    network_mode = definition.get("networkMode") or "bridge"
    out: dict[str, Any] = {k: definition[k] for k in TASK_FIELDS if k in definition}
    out = drop_empty(out)
    out["networkMode"] = network_mode
    for key in ("cpu", "memory"):
        if key in out:
            out[key] = str(out[key])
    if "requiresCompatibilities" in out:
        out["requiresCompatibilities"] = sorted(out["requiresCompatibilities"])
    if "volumes" in out:
        out["volumes"] = _by("name", out["volumes"])
    out["containerDefinitions"] = _by("name", [
        canonical_container(c, network_mode) for c in definition.get("containerDefinitions", [])])
    return out


def contains(current: Any, wanted: Any) -> bool:
    """Whether `current` has every value `wanted` spells out (lists compared whole)."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(
            contains(current.get(k), v) for k, v in wanted.items())
    return current == wanted
