"""What a release would change, on one screen (playbooks/diff.yml, `make diff TAG=`).

Tested without AWS in tests/test_filter_release.py, on the emulator in tests/test_diff.py.

Filters:
- ``release_plan(ecs_service_outputs)``: lines saying, for each task definition of the
  release (web, worker, migrate), whether a new revision would be registered and which of its
  fields change (the image, environment and secret *names* - never a value -, the task size,
  any other field by its path), then each service's settings that would change. The inputs are
  the check-mode diffs of the modules deploy.yml itself runs, as the ecs_service role publishes
  them (``task_definition_diffs``: ``booking.aws.ecs_task_definition``'s before/after
  definitions per family, ``registered``; ``service_diffs``: ``booking.aws.ecs_service_rollout``'s
  before/after settings per service), so the plan cannot disagree with the release.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

# A value longer than this is named, not shown.
_SHOWN_LENGTH = 60


def _short(value: Any) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return shown if len(shown) <= _SHOWN_LENGTH else f"({len(shown)} characters)"


def _leaf_changes(path: str, old: Any, new: Any) -> list[str]:
    """`path: old -> new` for each differing leaf: into mappings by key and lists of the same
    length by index, so a changed setting deep in a structure reads as itself."""
    if old == new:
        return []
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        return [line for key in sorted(set(old) | set(new), key=str)
                for line in _leaf_changes(f"{path}.{key}", old.get(key), new.get(key))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [line for index, (a, b) in enumerate(zip(old, new, strict=True))
                for line in _leaf_changes(f"{path}[{index}]", a, b)]
    return [f"{path}: {_short(old)} -> {_short(new)}"]


def _named(items: list[dict[str, Any]] | None, value_key: str) -> dict[str, Any]:
    return {item["name"]: item.get(value_key) for item in items or []}


def _names_changed(label: str, before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """`label: + ADDED, - REMOVED, ~ CHANGED` by name; the values are never shown."""
    parts = [f"+ {n}" for n in sorted(set(after) - set(before))]
    parts += [f"- {n}" for n in sorted(set(before) - set(after))]
    parts += [f"~ {n}" for n in sorted(set(before) & set(after)) if before[n] != after[n]]
    return f"{label}: {', '.join(parts)}" if parts else None


def _container_changes(name: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    lines = []
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if field == "environment":
            line = _names_changed(f"{name} environment", _named(old, "value"),
                                  _named(new, "value"))
        elif field == "secrets":
            line = _names_changed(f"{name} secrets", _named(old, "valueFrom"),
                                  _named(new, "valueFrom"))
        elif field == "image":
            line = f"{name} image: {old} -> {new}"
        else:
            lines += _leaf_changes(f"{name} {field}", old, new)
            continue
        if line:
            lines.append(line)
    return lines


def definition_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The fields of a task definition that differ, one line each (containers by name)."""
    lines = [line for field in sorted((set(before) | set(after)) - {"containerDefinitions"})
             for line in _leaf_changes(field, before.get(field), after.get(field))]
    old = {c["name"]: c for c in before.get("containerDefinitions") or []}
    new = {c["name"]: c for c in after.get("containerDefinitions") or []}
    for name in sorted(set(old) | set(new)):
        if name not in old:
            lines.append(f"container {name}: added")
        elif name not in new:
            lines.append(f"container {name}: removed")
        else:
            lines += _container_changes(name, old[name], new[name])
    return lines


def release_plan(outputs: Mapping[str, Any]) -> list[str]:
    """``ecs_service_outputs`` after its task_definitions and services steps in check mode."""
    if not isinstance(outputs, Mapping) or "task_definition_diffs" not in outputs:
        raise AnsibleFilterError("release_plan: expected ecs_service_outputs with "
                                 "task_definition_diffs (the ecs_service role's "
                                 "task_definitions step)")
    lines = []
    registered = set(outputs.get("registered") or [])
    for key, diff in outputs["task_definition_diffs"].items():
        before = ((diff or {}).get("before") or {}).get("definition") or {}
        after = ((diff or {}).get("after") or {}).get("definition") or {}
        if key not in registered:
            arn = (outputs.get("task_definitions") or {}).get(key) or ""
            lines.append(f"task definition {key}: unchanged ({arn.rsplit('/', 1)[-1]})")
        elif not before:
            lines.append(f"task definition {key}: the first revision of {after.get('family')}")
        else:
            lines.append(f"task definition {key}: a new revision of {after.get('family')}")
            lines += [f"  {line}" for line in definition_changes(before, after)]
    for key, diff in (outputs.get("service_diffs") or {}).items():
        before, after = (diff or {}).get("before") or {}, (diff or {}).get("after") or {}
        if not before and after:
            lines.append(f"service {key}: would be created")
            continue
        changed = sorted(field for field in set(before) | set(after)
                         if before.get(field) != after.get(field))
        if not changed:
            lines.append(f"service {key}: settings unchanged")
            continue
        lines.append(f"service {key}:")
        lines += [f"  {line}" for field in changed
                  for line in _leaf_changes(field, before.get(field), after.get(field))]
    return lines


class FilterModule:
    """booking.aws.release_plan."""

    def filters(self) -> dict[str, Any]:
        return {"release_plan": release_plan}
