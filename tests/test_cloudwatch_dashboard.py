"""booking.aws.cloudwatch_dashboard on the emulator: create, compare as JSON, update, delete."""

from __future__ import annotations

import json

import pytest

MODULE = "booking.aws.cloudwatch_dashboard"
NAME = "test-dashboard"

BODY = {
    "widgets": [
        {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
         "properties": {"title": "Web CPU", "region": "us-east-1", "view": "timeSeries",
                        "stat": "Average", "period": 60,
                        "metrics": [["AWS/ECS", "CPUUtilization", "ClusterName", "c",
                                     "ServiceName", "web", {"label": "web"}]]}},
        {"type": "text", "x": 12, "y": 0, "width": 12, "height": 6,
         "properties": {"markdown": "# Runbook"}},
    ],
}


def _reordered(value):
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


def _read(aws):
    names = [d["DashboardName"] for d in aws("cloudwatch").list_dashboards()["DashboardEntries"]]
    if NAME not in names:
        return None
    return json.loads(aws("cloudwatch").get_dashboard(DashboardName=NAME)["DashboardBody"])


@pytest.fixture
def empty(fresh_emulator, aws):
    return aws


@pytest.fixture
def existing(fresh_emulator, aws):
    aws("cloudwatch").put_dashboard(DashboardName=NAME, DashboardBody=json.dumps(BODY, indent=2))
    return aws


def test_check_mode_reports_the_dashboard_to_create_and_creates_nothing(ansible, empty):
    result = ansible.module(MODULE, {"name": NAME, "body": BODY}, check=True, diff=True)
    assert result["changed"] is True, result
    assert result["diff"] == {"before": {}, "after": {"name": NAME, "body": BODY}}
    assert result["dashboard_arn"] == ""
    assert _read(empty) is None, "check mode created the dashboard"


def test_creates_once_then_reports_no_change(ansible, empty):
    first = ansible.module(MODULE, {"name": NAME, "body": BODY}, diff=True)
    assert first["changed"] is True, first
    assert _read(empty) == BODY
    assert first["dashboard_arn"].endswith(f":dashboard/{NAME}")
    assert first["body"] == BODY
    # Written canonically: sorted keys, no whitespace.
    stored = empty("cloudwatch").get_dashboard(DashboardName=NAME)["DashboardBody"]
    assert stored == json.dumps(BODY, sort_keys=True, separators=(",", ":"))

    second = ansible.module(MODULE, {"name": NAME, "body": BODY})
    assert second["changed"] is False, second
    assert second["dashboard_arn"] == first["dashboard_arn"]
    checked = ansible.module(MODULE, {"name": NAME, "body": BODY}, check=True, diff=True)
    assert checked["changed"] is False, checked
    assert checked["diff"]["before"] == checked["diff"]["after"]


def test_key_order_whitespace_and_json_strings_are_no_change(ansible, existing):
    # The dashboard was written by someone else, indented; the module's body is the same JSON.
    as_dict = ansible.module(MODULE, {"name": NAME, "body": _reordered(BODY)})
    assert as_dict["changed"] is False, as_dict
    as_string = ansible.module(MODULE, {"name": NAME, "body": json.dumps(BODY, indent=4)})
    assert as_string["changed"] is False, as_string
    # Left as it was: nothing was rewritten.
    stored = existing("cloudwatch").get_dashboard(DashboardName=NAME)["DashboardBody"]
    assert stored == json.dumps(BODY, indent=2)


def test_a_changed_body_is_reported_in_check_mode_and_replaced_by_a_run(ansible, existing):
    wanted = json.loads(json.dumps(BODY))
    wanted["widgets"][0]["properties"]["stat"] = "Maximum"
    wanted["widgets"].pop()

    checked = ansible.module(MODULE, {"name": NAME, "body": wanted}, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"]["before"] == {"name": NAME, "body": BODY}
    assert checked["diff"]["after"] == {"name": NAME, "body": wanted}
    assert _read(existing) == BODY, "check mode changed the dashboard"

    result = ansible.module(MODULE, {"name": NAME, "body": wanted})
    assert result["changed"] is True, result
    assert _read(existing) == wanted
    assert ansible.module(MODULE, {"name": NAME, "body": wanted})["changed"] is False


def test_absent_deletes_once_and_check_mode_keeps_it(ansible, existing):
    checked = ansible.module(MODULE, {"name": NAME, "state": "absent"}, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"] == {"before": {"name": NAME, "body": BODY}, "after": {}}
    assert _read(existing) == BODY, "check mode deleted the dashboard"

    result = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert result["changed"] is True, result
    assert _read(existing) is None
    again = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert again["changed"] is False, again
    assert again.get("failed") is not True


@pytest.mark.parametrize(("args", "message"), [
    ({"name": NAME, "body": "{not json"}, "not valid JSON"),
    ({"name": NAME, "body": [1, 2]}, "JSON object"),
    ({"name": NAME, "body": "[]"}, "JSON object"),
    ({"name": "bad name!", "body": BODY}, "letters, digits"),
    ({"name": NAME}, "body"),
])
def test_bad_input_is_refused_before_any_change(ansible, empty, args, message):
    result = ansible.module(MODULE, args)
    assert result.get("failed") is True, result
    assert message in result["msg"]
    assert empty("cloudwatch").list_dashboards()["DashboardEntries"] == []
