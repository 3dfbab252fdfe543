"""booking.aws.ecs_cluster_settings against the emulator: Container Insights and cluster tags."""

from __future__ import annotations

import pytest
from harness import create_fargate_cluster

MODULE = "booking.aws.ecs_cluster_settings"
CLUSTER = "test-cluster"


@pytest.fixture
def cluster_arn(fresh_emulator, aws):
    return create_fargate_cluster(
        aws, clusterName=CLUSTER, capacityProviders=["FARGATE", "FARGATE_SPOT"],
        tags=[{"key": "Old", "value": "o"}])["clusterArn"]


def _read(aws):
    [cluster] = aws("ecs").describe_clusters(
        clusters=[CLUSTER], include=["SETTINGS", "TAGS"])["clusters"]
    insights = {s["name"]: s["value"] for s in cluster["settings"]}.get("containerInsights")
    tags = {t["key"]: t["value"] for t in cluster.get("tags", [])}
    return insights, tags, cluster


def _args(**overrides):
    return {"cluster": CLUSTER, "container_insights": "enabled",
            "tags": {"Project": "t", "Name": CLUSTER}, **overrides}


def test_check_mode_reports_the_change_and_changes_nothing(ansible, aws, cluster_arn):
    result = ansible.module(MODULE, _args(), check=True, diff=True)
    assert result["changed"] is True, result
    assert result["diff"]["before"] == {"container_insights": "disabled", "tags": {"Old": "o"}}
    assert result["diff"]["after"] == {"container_insights": "enabled",
                                       "tags": {"Project": "t", "Name": CLUSTER}}
    assert _read(aws)[:2] == ("disabled", {"Old": "o"}), "check mode changed AWS"


def test_sets_insights_and_tags_once_then_reports_no_change(ansible, aws, cluster_arn):
    first = ansible.module(MODULE, _args(), diff=True)
    assert first["changed"] is True, first
    insights, tags, cluster = _read(aws)
    assert insights == "enabled"
    assert tags == {"Project": "t", "Name": CLUSTER}  # purge_tags removed "Old"
    assert first["cluster"]["cluster_arn"] == cluster_arn
    assert first["container_insights"] == "enabled"
    assert first["diff"]["after"] == {"container_insights": "enabled", "tags": tags}
    # The capacity providers (community.aws.ecs_cluster's business) are untouched.
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]

    second = ansible.module(MODULE, _args())
    assert second["changed"] is False, second
    checked = ansible.module(MODULE, _args(), check=True, diff=True)
    assert checked["changed"] is False, checked
    assert checked["diff"]["before"] == checked["diff"]["after"]


def test_update_to_enhanced_and_back_to_disabled(ansible, aws, cluster_arn):
    ansible.module(MODULE, _args())
    checked = ansible.module(MODULE, _args(container_insights="enhanced"), check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["container_insights"] == "enabled"
    assert checked["diff"]["after"]["container_insights"] == "enhanced"
    assert _read(aws)[0] == "enabled", "check mode changed AWS"

    assert ansible.module(MODULE, _args(container_insights="enhanced"))["changed"] is True
    assert _read(aws)[0] == "enhanced"
    assert ansible.module(MODULE, _args(container_insights="disabled"))["changed"] is True
    assert _read(aws)[0] == "disabled"
    assert ansible.module(MODULE, _args(container_insights="disabled"))["changed"] is False


def test_tags_without_purge_keep_the_others_and_insights_can_be_left_alone(
        ansible, aws, cluster_arn):
    result = ansible.module(MODULE, {"cluster": cluster_arn, "tags": {"Team": "x"},
                                     "purge_tags": False})
    assert result["changed"] is True, result
    assert _read(aws)[:2] == ("disabled", {"Old": "o", "Team": "x"})
    # A changed value is updated in place; purge then removes what is not listed.
    assert ansible.module(MODULE, {"cluster": CLUSTER, "tags": {"Team": "y"}})["changed"] is True
    assert _read(aws)[:2] == ("disabled", {"Team": "y"})
    assert ansible.module(MODULE, {"cluster": CLUSTER, "tags": {"Team": "y"}})["changed"] is False


def test_a_missing_cluster_fails_but_check_mode_predicts_the_change(ansible, fresh_emulator):
    failed = ansible.module(MODULE, _args())
    assert failed.get("failed") is True
    assert "does not exist" in failed["msg"]
    checked = ansible.module(MODULE, _args(), check=True, diff=True)
    assert checked.get("failed") is not True, checked
    assert checked["changed"] is True
    assert checked["diff"]["after"]["container_insights"] == "enabled"


def test_a_deleted_cluster_counts_as_missing(ansible, aws, cluster_arn):
    aws("ecs").delete_cluster(cluster=CLUSTER)
    failed = ansible.module(MODULE, _args())
    assert failed.get("failed") is True
    assert "not ACTIVE" in failed["msg"]


def test_an_invalid_value_is_refused_before_any_call(ansible, aws, cluster_arn):
    result = ansible.module(MODULE, _args(container_insights="on"))
    assert result.get("failed") is True
    assert "container_insights" in result["msg"]
    assert _read(aws)[0] == "disabled"
