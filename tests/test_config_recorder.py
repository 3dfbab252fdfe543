"""booking.aws.config_recorder on the emulator: create, no change, check, start, update, absent."""

from __future__ import annotations

MODULE = "booking.aws.config_recorder"
NAME = "test-recorder"
SLR_PATH = "/aws-service-role/config.amazonaws.com/"


def _recorders(aws):
    config = aws("config")
    statuses = {s["name"]: s["recording"] for s in
                config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]}
    return {r["name"]: (r["roleARN"], r["recordingGroup"]["allSupported"],
                        r["recordingGroup"]["includeGlobalResourceTypes"], statuses[r["name"]])
            for r in config.describe_configuration_recorders()["ConfigurationRecorders"]}


def _channel(aws):
    aws("s3").create_bucket(Bucket="test-config-bucket")
    aws("config").put_delivery_channel(DeliveryChannel={
        "name": "test-channel", "s3BucketName": "test-config-bucket", "s3KeyPrefix": "config"})


def test_creates_with_the_service_linked_role_then_reports_no_change(ansible, aws, fresh_emulator):
    checked = ansible.module(MODULE, {"name": NAME}, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert SLR_PATH in checked["role_arn"]
    assert _recorders(aws) == {}, "check mode created a recorder"
    assert aws("iam").list_roles(PathPrefix=SLR_PATH)["Roles"] == [], "check mode made the role"

    first = ansible.module(MODULE, {"name": NAME})
    assert first["changed"] is True, first
    [role] = aws("iam").list_roles(PathPrefix=SLR_PATH)["Roles"]
    assert _recorders(aws) == {NAME: (role["Arn"], True, False, False)}
    assert first["role_arn"] == role["Arn"]

    second = ansible.module(MODULE, {"name": NAME})
    assert second["changed"] is False, second
    again = ansible.module(MODULE, {"name": NAME}, check=True, diff=True)
    assert again["changed"] is False, again
    assert again["diff"]["before"] == again["diff"]["after"]


def test_starts_updates_and_stops(ansible, aws, fresh_emulator):
    role = "arn:aws:iam::123456789012:role/test-config"
    ansible.module(MODULE, {"name": NAME, "role_arn": role})
    _channel(aws)

    checked = ansible.module(MODULE, {"name": NAME, "role_arn": role, "recording": True},
                             check=True)
    assert checked["changed"] is True
    assert _recorders(aws)[NAME][3] is False, "check mode started the recorder"
    started = ansible.module(MODULE, {"name": NAME, "role_arn": role, "recording": True})
    assert started["changed"] is True, started
    assert started["recording"] is True
    assert _recorders(aws)[NAME] == (role, True, False, True)
    assert ansible.module(MODULE, {"name": NAME, "role_arn": role, "recording": True})[
        "changed"] is False
    # recording omitted: the status is left alone.
    assert ansible.module(MODULE, {"name": NAME, "role_arn": role})["changed"] is False

    updated = ansible.module(MODULE, {"name": NAME, "role_arn": role,
                                      "include_global_resource_types": True})
    assert updated["changed"] is True, updated
    assert _recorders(aws)[NAME] == (role, True, True, True)

    stopped = ansible.module(MODULE, {"name": NAME, "role_arn": role,
                                      "include_global_resource_types": True, "recording": False})
    assert stopped["changed"] is True
    assert _recorders(aws)[NAME][3] is False


def test_refuses_a_second_recorder(ansible, aws, fresh_emulator):
    ansible.module(MODULE, {"name": "someone-elses"})
    refused = ansible.module(MODULE, {"name": NAME})
    assert refused.get("failed") is True
    assert "someone-elses" in refused["msg"]


def test_absent_stops_and_deletes_only_the_named_recorder(ansible, aws, fresh_emulator):
    ansible.module(MODULE, {"name": "someone-elses"})
    other = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert other["changed"] is False
    assert list(_recorders(aws)) == ["someone-elses"]
    ansible.module(MODULE, {"name": "someone-elses", "state": "absent"})

    ansible.module(MODULE, {"name": NAME})
    _channel(aws)
    ansible.module(MODULE, {"name": NAME, "recording": True})
    checked = ansible.module(MODULE, {"name": NAME, "state": "absent"}, check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["after"] == {}
    assert NAME in _recorders(aws), "check mode deleted the recorder"

    gone = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert gone["changed"] is True, gone
    assert _recorders(aws) == {}
    # The delivery channel can go once no recorder records.
    aws("config").delete_delivery_channel(DeliveryChannelName="test-channel")
    twice = ansible.module(MODULE, {"name": NAME, "state": "absent"})
    assert twice["changed"] is False, twice
    assert aws("iam").list_roles(PathPrefix=SLR_PATH)["Roles"], "the service-linked role stays"
