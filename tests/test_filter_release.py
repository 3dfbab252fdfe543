"""booking.aws.release_plan (make diff's lines) on hand-made ecs_service outputs; pure Python."""

from __future__ import annotations

import copy

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.booking.aws.plugins.filter.release import release_plan

SECRET_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/booking-api/prod/secret_key"
WEB = {
    "family": "booking-api-prod-web", "cpu": "1024", "memory": "2048",
    "containerDefinitions": [{
        "name": "web", "image": "repo:aaa111", "command": ["gunicorn", "--workers", "2"],
        "environment": [{"name": "DJANGO_ALLOWED_HOSTS", "value": "api.example.com"},
                        {"name": "OLD_FLAG", "value": "on"}],
        "secrets": [{"name": "SECRET_KEY", "valueFrom": SECRET_ARN}],
        "healthCheck": {"command": ["CMD", "true"], "interval": 30, "retries": 3}}]}


def _outputs(before, after, registered=("web",), services=None):
    return {"task_definitions": {"web": None if registered else "arn:.../booking-api-prod-web:7"},
            "registered": list(registered),
            "task_definition_diffs": {"web": {"before": {"definition": before},
                                              "after": {"definition": after}}},
            "service_diffs": services or {}}


def test_each_changed_field_is_one_line_and_values_of_the_environment_are_never_shown():
    after = copy.deepcopy(WEB)
    container = after["containerDefinitions"][0]
    container["image"] = "repo:bbb222"
    container["environment"] = [{"name": "DJANGO_ALLOWED_HOSTS", "value": "new.example.com"},
                                {"name": "NEW_FLAG", "value": "hidden-value"}]
    container["secrets"].append({"name": "TWILIO_TOKEN", "valueFrom": SECRET_ARN + "2"})
    container["healthCheck"]["interval"] = 10
    container["command"][2] = "4"
    after["memory"] = "4096"
    lines = release_plan(_outputs(WEB, after))
    assert lines == [
        "task definition web: a new revision of booking-api-prod-web",
        "  memory: 2048 -> 4096",
        "  web command[2]: 2 -> 4",
        "  web environment: + NEW_FLAG, - OLD_FLAG, ~ DJANGO_ALLOWED_HOSTS",
        "  web healthCheck.interval: 30 -> 10",
        "  web image: repo:aaa111 -> repo:bbb222",
        "  web secrets: + TWILIO_TOKEN",
    ]
    assert not [line for line in lines if "hidden-value" in line or "example.com" in line]


def test_unchanged_first_revision_and_services():
    assert release_plan(_outputs(WEB, WEB, registered=())) == [
        "task definition web: unchanged (booking-api-prod-web:7)"]
    first = release_plan(_outputs({}, WEB, services={"web": {"before": {}, "after": {
        "taskDefinition": "", "desiredCount": 2}}}))
    assert first == ["task definition web: the first revision of booking-api-prod-web",
                     "service web: would be created"]
    settings = {"web": {"before": {"deploymentConfiguration": {"maximumPercent": 200,
                                                                "minimumHealthyPercent": 100}},
                        "after": {"deploymentConfiguration": {"maximumPercent": 150,
                                                               "minimumHealthyPercent": 100}}},
                "worker": {"before": {}, "after": {}}}
    assert release_plan(_outputs(WEB, WEB, registered=(), services=settings))[1:] == [
        "service web:", "  deploymentConfiguration.maximumPercent: 200 -> 150",
        "service worker: settings unchanged"]


def test_a_long_value_is_named_by_its_length():
    after = copy.deepcopy(WEB)
    after["containerDefinitions"][0]["entryPoint"] = ["sh", "-c", "x" * 80]
    [_, line] = release_plan(_outputs(WEB, after))
    assert line.startswith("  web entryPoint: null -> (")
    assert line.endswith(" characters)")


def test_anything_but_ecs_service_outputs_is_refused():
    with pytest.raises(AnsibleFilterError, match="task_definition_diffs"):
        release_plan({"task_definitions": {}})
