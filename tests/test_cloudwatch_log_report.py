"""booking.aws.cloudwatch_log_report: a one-off task's JSON report, read from its log stream.

Pure parsing first, then the module against the session's in-process emulator's CloudWatch Logs.
Cost: three module calls.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]
                       / "collections/ansible_collections/booking/aws/plugins/modules"))
from cloudwatch_log_report import find_report


def test_the_last_report_line_wins_and_other_lines_are_ignored():
    lines = ["Operations to perform:", 'REPORT {"ok": false}', "REPORT not json",
             'REPORT {"ok": true, "n": 2}', "done"]
    assert find_report(lines, "REPORT ", None) == {"ok": True, "n": 2}
    assert find_report(["nothing here"], "REPORT ", None) is None


def test_a_report_can_be_a_key_of_a_json_line():
    lines = ['{"level": "info", "message": "copying"}', '{"import_report": {"tables": 3}}',
             "{broken"]
    assert find_report(lines, None, "import_report") == {"tables": 3}


def test_the_module_reads_the_stream_a_task_wrote(fresh_emulator, ansible):
    logs = fresh_emulator.client("logs")
    logs.create_log_group(logGroupName="/ecs/booking-api-local")
    logs.create_log_stream(logGroupName="/ecs/booking-api-local", logStreamName="migrate/m/1")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/ecs/booking-api-local", logStreamName="migrate/m/1",
                        logEvents=[{"timestamp": now, "message": "checking"},
                                   {"timestamp": now + 1,
                                    "message": 'RECOVERY_REPORT {"ok": true, "salons": 1}'}])
    args = {"log_group": "/ecs/booking-api-local", "log_stream": "migrate/m/1",
            "marker": "RECOVERY_REPORT ", "wait_seconds": 0}
    result = ansible.module("booking.aws.cloudwatch_log_report", args)
    assert result["changed"] is False
    assert result["report"] == {"ok": True, "salons": 1}
    assert result["tail"] == ["checking", 'RECOVERY_REPORT {"ok": true, "salons": 1}']

    missing = ansible.module("booking.aws.cloudwatch_log_report",
                             {**args, "log_stream": "migrate/m/never"})
    assert missing["report"] is None
    assert missing["tail"] == []
