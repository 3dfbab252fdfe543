"""playbooks/diff.yml (`make diff TAG=`): what deploy.yml would change, on the in-process emulator.

The release tests' minimal environment (tests/release_env.py) with aaa111 deployed once, kept as
an emulator snapshot each test starts from. Held: a new tag shows each task definition's new
revision with its image change, a changed setting shows the field (task size, environment
names, service settings), the current tag shows nothing to do, a tag not in the registry is
refused; and no run writes anything to AWS.

Cost: one deploy for the file (about 35 s), four diff runs (about 10-15 s each), one refused run.
"""

from __future__ import annotations

import pytest
import release_env as env
from moto_ecs import RUNTIME
from test_release import ECR, deploy

PREFIX = env.PREFIX
# Any call that would change the environment: none may happen in a diff.
WRITES = {"RegisterTaskDefinition", "DeregisterTaskDefinition", "CreateService", "UpdateService",
          "DeleteService", "RunTask", "TagResource", "UntagResource", "PutParameter",
          "CreateDBSnapshot", "RegisterScalableTarget", "PutScalingPolicy"}


@pytest.fixture(scope="module")
def deployed_state(emulator, ansible):
    yield env.released_snapshot(emulator, lambda tag: deploy(ansible, tag))
    RUNTIME.reset()


@pytest.fixture
def deployed(emulator, deployed_state):
    emulator.restore(deployed_state)
    return emulator


def plan(ansible, emulator, tag, **extra):
    """(run, the plan's lines, the writing calls it made)."""
    first = len(emulator.calls)
    # JSON results: one plan line per output line, never wrapped.
    run = ansible.playbook("playbooks/diff.yml", extra_vars={**ECR, "image_tag": tag, **extra},
                           env={"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    writes = [c.action for c in emulator.calls[first:] if c.action in WRITES]
    lines = [line.strip(' ",') for line in run.output.splitlines()]
    return run, lines, writes


def test_a_new_tag_shows_each_new_revisions_image_and_changes_nothing(ansible, deployed):
    run, lines, writes = plan(ansible, deployed, "bbb222")
    assert run.rc == 0, run.explain()
    assert writes == []
    for key in ("web", "worker", "migrate"):
        assert f"task definition {key}: a new revision of {PREFIX}-{key}" in lines, run.output
    images = [line for line in lines if " image: " in line]
    assert len(images) == 3, images
    assert all(line.endswith(":aaa111 -> " + line.split(" -> ")[1]) and line.endswith(":bbb222")
               for line in images), images
    # Only the image differs: no other field of the definitions, no service setting.
    assert not [line for line in lines if " -> " in line and " image: " not in line], run.output
    assert "service web: settings unchanged" in lines
    assert "service worker: settings unchanged" in lines
    assert any(line.startswith("release of bbb222 (") and line.endswith("current: aaa111")
               for line in lines), run.output


def test_the_current_tag_has_nothing_to_do(ansible, deployed):
    run, lines, writes = plan(ansible, deployed, "aaa111")
    assert run.rc == 0, run.explain()
    assert writes == []
    for key in ("web", "worker", "migrate"):
        assert any(line.startswith(f"task definition {key}: unchanged ({PREFIX}-{key}:")
                   for line in lines), run.output


def test_settings_show_as_the_fields_they_change(ansible, deployed):
    run, lines, writes = plan(ansible, deployed, "aaa111", ecs_service_web_cpu=2048,
                              ecs_service_worker_threads=8, ecs_service_maximum_percent=150)
    assert run.rc == 0, run.explain()
    assert writes == []
    assert f"task definition web: a new revision of {PREFIX}-web" in lines, run.output
    assert "cpu: 1024 -> 2048" in lines, run.output
    assert f"task definition worker: a new revision of {PREFIX}-worker" in lines, run.output
    assert any(line.startswith("worker command[") and line.endswith(": 4 -> 8")
               for line in lines), run.output
    assert "task definition migrate: unchanged" in " ".join(lines)
    # The services keep their revision in the comparison; their deployment settings change.
    assert lines.count("deploymentConfiguration.maximumPercent: 200 -> 150") == 2, run.output


def test_a_tag_not_in_the_registry_is_refused(ansible, deployed):
    run, _, writes = plan(ansible, deployed, "ccc333")
    assert run.rc != 0
    assert "is not in the registry" in run.output
    assert writes == []
