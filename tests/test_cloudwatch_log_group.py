"""booking.aws.cloudwatch_log_group: create, no change, check mode changes nothing, delete."""

from __future__ import annotations

MODULE = "booking.aws.cloudwatch_log_group"
NAME = "/test/app"


def _group(aws):
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=NAME)["logGroups"]
    return groups[0] if groups else None


def _tags(aws):
    arn = _group(aws)["arn"].removesuffix(":*")
    return aws("logs").list_tags_for_resource(resourceArn=arn)["tags"]


def test_create_then_no_change(fresh_emulator, ansible, aws):
    args = {"name": NAME, "retention_days": 30, "tags": {"Project": "t"}}
    checked = ansible.module(MODULE, args, check=True, diff=True)
    assert checked["changed"] is True
    assert _group(aws) is None

    assert ansible.module(MODULE, args)["changed"] is True
    assert _group(aws)["retentionInDays"] == 30
    assert _tags(aws) == {"Project": "t"}

    assert ansible.module(MODULE, args)["changed"] is False
    again = ansible.module(MODULE, args, check=True, diff=True)
    assert again["changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"]


def test_check_mode_reports_drift_without_repairing_it(fresh_emulator, ansible, aws):
    """The reason this module exists: amazon.aws.cloudwatchlogs_log_group repairs in check mode."""
    args = {"name": NAME, "retention_days": 90, "tags": {"Project": "t"}}
    ansible.module(MODULE, args)
    aws("logs").put_retention_policy(logGroupName=NAME, retentionInDays=1)
    aws("logs").tag_resource(resourceArn=_group(aws)["arn"].removesuffix(":*"),
                             tags={"Stray": "x"})

    checked = ansible.module(MODULE, args, check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["retention_days"] == 1
    assert checked["diff"]["after"]["retention_days"] == 90
    assert _group(aws)["retentionInDays"] == 1
    assert "Stray" in _tags(aws)

    assert ansible.module(MODULE, args)["changed"] is True
    assert _group(aws)["retentionInDays"] == 90
    assert _tags(aws) == {"Project": "t"}


def test_omitted_retention_is_left_alone_and_zero_means_forever(fresh_emulator, ansible, aws):
    ansible.module(MODULE, {"name": NAME, "retention_days": 7})
    assert ansible.module(MODULE, {"name": NAME})["changed"] is False
    assert _group(aws)["retentionInDays"] == 7
    assert ansible.module(MODULE, {"name": NAME, "retention_days": 0})["changed"] is True
    assert "retentionInDays" not in _group(aws)


def test_absent(fresh_emulator, ansible, aws):
    ansible.module(MODULE, {"name": NAME})
    assert ansible.module(MODULE, {"name": NAME, "state": "absent"}, check=True)["changed"]
    assert _group(aws) is not None
    assert ansible.module(MODULE, {"name": NAME, "state": "absent"})["changed"] is True
    assert _group(aws) is None
    assert ansible.module(MODULE, {"name": NAME, "state": "absent"})["changed"] is False


def test_a_retention_aws_does_not_offer_is_refused(fresh_emulator, ansible):
    result = ansible.module(MODULE, {"name": NAME, "retention_days": 31})
    assert result.get("failed") is True
    assert "retention_days" in result["msg"]
