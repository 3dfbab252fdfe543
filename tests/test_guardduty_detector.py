"""booking.aws.guardduty_detector on the emulator: create, no change, check mode, update, absent."""

from __future__ import annotations

MODULE = "booking.aws.guardduty_detector"
OURS = {"Project": "booking-api", "Environment": "test", "ManagedBy": "ansible"}


def _detectors(aws):
    client = aws("guardduty")
    return {i: client.get_detector(DetectorId=i) for i in client.list_detectors()["DetectorIds"]}


def test_creates_once_then_reports_no_change(ansible, aws, fresh_emulator):
    args = {"finding_publishing_frequency": "FIFTEEN_MINUTES", "tags": OURS}
    checked = ansible.module(MODULE, args, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"]["before"] == {}
    assert _detectors(aws) == {}, "check mode created a detector"

    first = ansible.module(MODULE, args)
    assert first["changed"] is True, first
    [(detector_id, detector)] = _detectors(aws).items()
    assert first["detector_id"] == detector_id
    assert (detector["Status"], detector["FindingPublishingFrequency"]) == (
        "ENABLED", "FIFTEEN_MINUTES")
    assert detector["Tags"] == OURS
    assert first["tags"] == OURS

    second = ansible.module(MODULE, args)
    assert second["changed"] is False, second
    assert second["detector_id"] == detector_id
    again = ansible.module(MODULE, args, check=True, diff=True)
    assert again["changed"] is False, again
    assert again["diff"]["before"] == again["diff"]["after"]


def test_reuses_the_regions_detector_and_updates_it(ansible, aws, fresh_emulator):
    detector_id = aws("guardduty").create_detector(
        Enable=False, FindingPublishingFrequency="SIX_HOURS", Tags=OURS)["DetectorId"]
    args = {"enable": True, "finding_publishing_frequency": "ONE_HOUR", "tags": OURS}

    checked = ansible.module(MODULE, args, check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["status"] == "DISABLED"
    assert checked["diff"]["after"]["status"] == "ENABLED"
    assert aws("guardduty").get_detector(DetectorId=detector_id)["Status"] == "DISABLED"

    updated = ansible.module(MODULE, args)
    assert updated["changed"] is True, updated
    assert updated["detector_id"] == detector_id
    assert list(_detectors(aws)) == [detector_id], "present made a second detector"
    detector = aws("guardduty").get_detector(DetectorId=detector_id)
    assert (detector["Status"], detector["FindingPublishingFrequency"]) == ("ENABLED", "ONE_HOUR")
    assert ansible.module(MODULE, args)["changed"] is False

    suspended = ansible.module(MODULE, dict(args, enable=False))
    assert suspended["changed"] is True
    assert aws("guardduty").get_detector(DetectorId=detector_id)["Status"] == "DISABLED"


def test_absent_deletes_only_a_detector_with_our_tags(ansible, aws, fresh_emulator):
    theirs = aws("guardduty").create_detector(Enable=True, Tags={"Team": "security"})["DetectorId"]
    left = ansible.module(MODULE, {"state": "absent", "tags": OURS})
    assert left["changed"] is False, left
    assert "not ours" in left["skipped_reason"]
    assert list(_detectors(aws)) == [theirs]
    aws("guardduty").delete_detector(DetectorId=theirs)

    ansible.module(MODULE, {"tags": dict(OURS, Name="booking-api-test")})
    checked = ansible.module(MODULE, {"state": "absent", "tags": OURS}, check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["after"] == {}
    assert len(_detectors(aws)) == 1, "check mode deleted the detector"

    gone = ansible.module(MODULE, {"state": "absent", "tags": OURS})
    assert gone["changed"] is True, gone
    assert _detectors(aws) == {}
    twice = ansible.module(MODULE, {"state": "absent", "tags": OURS})
    assert twice["changed"] is False, twice
    assert twice.get("failed") is not True


def test_absent_without_tags_is_refused(ansible, fresh_emulator):
    refused = ansible.module(MODULE, {"state": "absent", "tags": {}})
    assert refused.get("failed") is True
    assert "tags" in refused["msg"]
