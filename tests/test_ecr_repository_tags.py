"""booking.aws.ecr_repository_tags on the emulator: set, no-change, check mode, update, purge."""

from __future__ import annotations

import pytest

MODULE = "booking.aws.ecr_repository_tags"
REPO = "test-repo"


@pytest.fixture
def repository_arn(fresh_emulator, aws):
    return aws("ecr").create_repository(
        repositoryName=REPO, tags=[{"Key": "Old", "Value": "o"}])["repository"]["repositoryArn"]


def _tags(aws, arn):
    found = aws("ecr").list_tags_for_resource(resourceArn=arn)["tags"]
    return {t["Key"]: t["Value"] for t in found}


def test_check_mode_reports_the_change_and_changes_nothing(ansible, aws, repository_arn):
    result = ansible.module(MODULE, {"name": REPO, "tags": {"Project": "t"}}, check=True, diff=True)
    assert result["changed"] is True, result
    assert result["diff"] == {"before": {"tags": {"Old": "o"}}, "after": {"tags": {"Project": "t"}}}
    assert _tags(aws, repository_arn) == {"Old": "o"}, "check mode changed AWS"


def test_sets_tags_once_then_reports_no_change(ansible, aws, repository_arn):
    first = ansible.module(MODULE, {"name": REPO, "tags": {"Project": "t", "Name": REPO}})
    assert first["changed"] is True, first
    assert first["repository_arn"] == repository_arn
    assert _tags(aws, repository_arn) == {"Project": "t", "Name": REPO}  # "Old" purged
    assert first["tags"] == {"Project": "t", "Name": REPO}

    second = ansible.module(MODULE, {"name": REPO, "tags": {"Project": "t", "Name": REPO}})
    assert second["changed"] is False, second
    checked = ansible.module(MODULE, {"name": REPO, "tags": {"Project": "t", "Name": REPO}},
                             check=True, diff=True)
    assert checked["changed"] is False, checked
    assert checked["diff"]["before"] == checked["diff"]["after"]


def test_updates_a_value_and_keeps_others_without_purge(ansible, aws, repository_arn):
    result = ansible.module(MODULE, {"name": REPO, "tags": {"Old": "new", "Team": "x"},
                                     "purge_tags": False})
    assert result["changed"] is True
    assert _tags(aws, repository_arn) == {"Old": "new", "Team": "x"}
    result = ansible.module(MODULE, {"name": REPO, "tags": {"Team": "x"}, "purge_tags": False})
    assert result["changed"] is False
    assert _tags(aws, repository_arn) == {"Old": "new", "Team": "x"}


def test_purges_every_tag_when_given_none(ansible, aws, repository_arn):
    result = ansible.module(MODULE, {"name": REPO, "tags": {}})
    assert result["changed"] is True
    assert _tags(aws, repository_arn) == {}


def test_missing_repository_fails_but_check_mode_reports_a_change(ansible, fresh_emulator):
    failed = ansible.module(MODULE, {"name": "nope", "tags": {"Project": "t"}})
    assert failed.get("failed") is True
    assert "does not exist" in failed["msg"]
    checked = ansible.module(MODULE, {"name": "nope", "tags": {"Project": "t"}}, check=True)
    assert checked["changed"] is True
    assert checked.get("failed") is not True
