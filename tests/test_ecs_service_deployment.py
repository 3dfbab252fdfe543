"""booking.aws.ecs_service_deployment against the scripted data plane's blue/green deployments
(tools/ecs_deployments.py): wait for the test-traffic pause, continue or roll back, stop and roll
back during the bake time, check mode. The stack and helpers are tests/test_ecs_deployments.py's
(minutes of 0.4 s there; bake times here are given in such minutes). About 30 s."""

from __future__ import annotations

import time

from test_ecs_deployments import (  # the same stack and readers
    CLUSTER,
    SERVICE,
    _create,
    _ended,
    _pause,
    _sd,
    _service,
    _update,
    _weights,
    stack,  # the fixture (pyproject.toml lets its arguments shadow it)
)

MODULE = "booking.aws.ecs_service_deployment"
HOOK = _pause("POST_TEST_TRAFFIC_SHIFT", timeoutInMinutes=60, action="ROLLBACK")


def _args(**more):
    return {"cluster": CLUSTER, "service": SERVICE, "poll_interval": 1, "wait_timeout": 60,
            **more}


def _start_paused(stack, ansible, bake_minutes=0):
    """A second revision deploying with the PAUSE hook, waited for by the module."""
    _create(stack)
    _update(stack, 2, lifecycleHooks=HOOK, bakeTimeInMinutes=bake_minutes)
    paused = ansible.module(MODULE, _args(task_definition=stack["revisions"][1], wait_for="pause"))
    assert paused["found"] is True
    assert paused["changed"] is False
    return paused["deployment"]


def test_waits_for_the_test_traffic_pause_then_continues_to_the_end(stack, ansible):
    deployment = _start_paused(stack, ansible)
    assert deployment["stage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert deployment["hook"]["type"] == "PAUSE"
    assert deployment["ended"] is False
    assert _weights(stack, "test") == {"blue": 0, "green": 100}  # the smoke test's listener
    assert _weights(stack, "production") == {"blue": 100, "green": 0}  # production unmoved

    ended = ansible.module(MODULE, _args(service_deployment_arn=deployment["arn"],
                                         action="continue", wait_for="end"))
    assert ended["changed"] is True
    assert ended["deployment"]["status"] == "SUCCESSFUL"
    assert _weights(stack, "production") == {"blue": 0, "green": 100}
    assert _service(stack)["taskDefinition"] == stack["revisions"][1]


def test_a_rollback_at_the_pause_leaves_production_on_the_old_revision(stack, ansible):
    deployment = _start_paused(stack, ansible)
    ended = ansible.module(MODULE, _args(service_deployment_arn=deployment["arn"],
                                         action="rollback", wait_for="end"))
    assert ended["changed"] is True
    assert ended["deployment"]["status"] == "ROLLBACK_SUCCESSFUL"
    assert ended["deployment"]["rollback"]["reason"]
    assert _weights(stack, "production") == {"blue": 100, "green": 0}
    assert _weights(stack, "test") == {"blue": 100, "green": 0}
    assert _service(stack)["taskDefinition"] == stack["revisions"][0]


def test_check_mode_answers_nothing(stack, ansible):
    deployment = _start_paused(stack, ansible)
    checked = ansible.module(MODULE, _args(service_deployment_arn=deployment["arn"],
                                           action="continue", wait_for="end"), check=True)
    assert checked["changed"] is True
    time.sleep(1)
    still = _sd(stack, deployment["arn"])
    assert still["status"] == "IN_PROGRESS"
    assert still["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"


def test_stop_rollback_during_the_bake_returns_traffic_without_new_tasks(stack, ansible):
    deployment = _start_paused(stack, ansible, bake_minutes=100)  # 40 s: time to stop it
    ansible.module(MODULE, _args(service_deployment_arn=deployment["arn"], action="continue"))
    deadline = time.monotonic() + 30
    while _sd(stack, deployment["arn"]).get("lifecycleStage") != "BAKE_TIME":
        assert time.monotonic() < deadline, _sd(stack, deployment["arn"])
        time.sleep(0.2)
    assert _weights(stack, "production") == {"blue": 0, "green": 100}
    started = len(_service(stack)["deployments"])

    stopped = ansible.module(MODULE, _args(action="stop_rollback", wait_for="end"))
    assert stopped["changed"] is True
    assert stopped["deployment"]["status"] == "ROLLBACK_SUCCESSFUL"
    assert _weights(stack, "production") == {"blue": 100, "green": 0}
    service = _service(stack)
    assert service["taskDefinition"] == stack["revisions"][0]
    assert len(service["deployments"]) <= started  # no deployment started for the rollback


def test_no_deployment_of_the_task_definition_is_nothing_to_do(stack, ansible):
    _create(stack)
    result = ansible.module(MODULE, _args(task_definition=stack["revisions"][2],
                                          action="continue", wait_for="end"))
    assert result == {**result, "changed": False, "found": False, "deployment": {}}


def test_a_deployment_ecs_rolled_back_before_the_wait_is_found_as_it_ended(stack, ansible):
    """The release's wait for its own deployment comes after the worker's rollout; if the test
    traffic pause timed out meanwhile (its action ROLLBACK), ECS has put the old revision back
    as PRIMARY. That deployment is the release's all the same: found, ended, with ECS's reason -
    not "no deployment of the task definition" (a release would then record what ECS undid)."""
    _create(stack)
    arn = _update(stack, 2, lifecycleHooks=_pause("POST_TEST_TRAFFIC_SHIFT", timeoutInMinutes=1,
                                                   action="ROLLBACK"))
    assert _ended(stack, arn)["status"] == "ROLLBACK_SUCCESSFUL"
    assert _service(stack)["taskDefinition"] == stack["revisions"][0]  # PRIMARY: the old one
    result = ansible.module(MODULE, _args(task_definition=stack["revisions"][1], wait_for="pause"))
    assert result["found"] is True, result
    assert result["changed"] is False
    assert result["deployment"]["arn"] == arn
    assert result["deployment"]["status"] == "ROLLBACK_SUCCESSFUL"
    assert result["deployment"]["ended"] is True
    assert "pause hook timed out" in result["deployment"]["status_reason"]


def test_continue_is_nothing_to_do_once_ended_and_fails_while_not_paused(stack, ansible):
    deployment = _start_paused(stack, ansible, bake_minutes=100)
    ansible.module(MODULE, _args(service_deployment_arn=deployment["arn"], action="continue"))
    again = ansible.module(MODULE, _args(service_deployment_arn=deployment["arn"],
                                         action="continue"))
    assert again.get("failed") is True  # shifting or baking: no hook awaits an answer
    assert "awaits no action" in again["msg"]
    ansible.module(MODULE, _args(action="stop_rollback", wait_for="end"))
    ended = ansible.module(MODULE, _args(service_deployment_arn=deployment["arn"],
                                         action="continue"))
    assert ended["changed"] is False  # a re-run after the end
    assert ended["deployment"]["status"] == "ROLLBACK_SUCCESSFUL"
