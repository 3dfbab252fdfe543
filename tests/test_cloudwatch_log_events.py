"""booking.aws.cloudwatch_log_events and playbooks/logs.yml (make logs): a service's latest lines.

Against the session's in-process emulator's CloudWatch Logs: lines written to the web and worker
streams of the app's log group, read back by stream prefix and age. Cost: two module calls and
two playbook runs (about 15 s).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]
                       / "collections/ansible_collections/booking/aws/plugins/modules"))
from cloudwatch_log_events import seconds

GROUP = "/ecs/booking-api-local"


def test_since_is_a_number_and_a_unit():
    assert [seconds(s) for s in ("30s", "10m", "2h", "1d")] == [30, 600, 7200, 86400]
    for wrong in ("10", "m", "ten minutes", "-5m", ""):
        with pytest.raises(ValueError, match="number and a unit"):
            seconds(wrong)


def _write(logs, stream: str, *messages: str, age_seconds: float = 0) -> None:
    if not logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=stream)[
            "logStreams"]:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    at = int((time.time() - age_seconds) * 1000)
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[
        {"timestamp": at + index, "message": message} for index, message in enumerate(messages)])


def test_a_services_lines_of_the_last_minutes_and_make_logs(fresh_emulator, ansible):
    logs = fresh_emulator.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    _write(logs, "web/web/aaa", "GET /health/ 200 (an hour ago)", age_seconds=3600)
    _write(logs, "web/web/aaa", "GET /api/salons/ 200", "POST /api/appointments/ 201")
    _write(logs, "worker/worker/bbb", "Sending SMS")

    result = ansible.module("booking.aws.cloudwatch_log_events",
                            {"log_group": GROUP, "stream_prefix": "web/", "since": "5m"})
    assert result["changed"] is False
    assert [e["message"] for e in result["events"]] == ["GET /api/salons/ 200",
                                                        "POST /api/appointments/ 201"]
    assert all(e["stream"] == "web/web/aaa" for e in result["events"])
    assert result["lines"][0].endswith("Z web/web/aaa GET /api/salons/ 200")
    everything = ansible.module("booking.aws.cloudwatch_log_events",
                                {"log_group": GROUP, "since": "2h", "limit": 2})
    assert [e["message"] for e in everything["events"]] == ["POST /api/appointments/ 201",
                                                            "Sending SMS"]  # the latest two

    run = ansible.playbook("playbooks/logs.yml", extra_vars={"logs_service": "worker",
                                                             "logs_since": "5m"})
    assert run.rc == 0, run.explain()
    assert "worker/worker/bbb Sending SMS" in run.output
    assert "GET /api/salons/" not in run.output
    refused = ansible.playbook("playbooks/logs.yml", extra_vars={"logs_service": "db"})
    assert refused.rc != 0
    assert "logs_service" in refused.output
