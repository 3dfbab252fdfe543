"""booking.aws.ssm_parameters on the emulator: one module run for a list of parameters.

Pins what the secrets role relies on: create with tags, no change on a second run (values
compared decrypted), only the parameter that differs is written, drift made outside is found and
repaired, check mode writes nothing, and no value ever appears in the module's output.
"""

from __future__ import annotations

import json

MODULE = "booking.aws.ssm_parameters"
SECRET = "test-only-secret-value-7f3a"
OTHER_SECRET = "test-only-other-secret-91c2"


def _params(**overrides):
    items = [
        {"name": "/t/app/secret_key", "value": SECRET, "type": "SecureString",
         "description": "Django SECRET_KEY", "tags": {"Project": "t", "Name": "/t/app/secret_key"}},
        {"name": "/t/app/token", "value": OTHER_SECRET, "type": "SecureString",
         "description": "API token", "tags": {"Project": "t", "Name": "/t/app/token"}},
        {"name": "/t/app/allowed_hosts", "value": "a.example.com,b.example.com",
         "description": "ALLOWED_HOSTS", "tags": {"Project": "t", "Name": "/t/app/allowed_hosts"}},
    ]
    for item in items:
        item.update(overrides.get(item["name"], {}))
    return {"parameters": items}


def _stored(aws):
    pages = aws("ssm").get_paginator("get_parameters_by_path").paginate(
        Path="/t/app", WithDecryption=True)
    found = [p for page in pages for p in page["Parameters"]]
    return {p["Name"]: (p["Type"], p["Value"]) for p in found}


def _tags(aws, name):
    answer = aws("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
    return {t["Key"]: t["Value"] for t in answer["TagList"]}


def _no_value_in(result):
    text = json.dumps(result)
    assert SECRET not in text, "a value appears in the output"
    assert OTHER_SECRET not in text, "a value appears in the output"


def test_creates_each_parameter_then_reports_no_change(ansible, aws, fresh_emulator):
    checked = ansible.module(MODULE, _params(), check=True)
    assert checked["changed"] is True
    assert [r["changes"] for r in checked["parameters"]] == [["created"]] * 3
    assert _stored(aws) == {}, "check mode wrote a parameter"
    _no_value_in(checked)

    first = ansible.module(MODULE, _params())
    assert first["changed"] is True
    _no_value_in(first)
    assert _stored(aws) == {
        "/t/app/secret_key": ("SecureString", SECRET),
        "/t/app/token": ("SecureString", OTHER_SECRET),
        "/t/app/allowed_hosts": ("String", "a.example.com,b.example.com"),
    }
    assert _tags(aws, "/t/app/token") == {"Project": "t", "Name": "/t/app/token"}
    described = aws("ssm").describe_parameters()["Parameters"]
    assert {p["Name"]: p.get("Description") for p in described}["/t/app/token"] == "API token"

    second = ansible.module(MODULE, _params())
    assert second["changed"] is False, second
    assert [r["changes"] for r in second["parameters"]] == [[], [], []]
    assert ansible.module(MODULE, _params(), check=True)["changed"] is False


def test_only_the_parameter_that_differs_is_written(ansible, aws, fresh_emulator):
    ansible.module(MODULE, _params())
    before = {p["Name"]: p["Version"] for p in aws("ssm").describe_parameters()["Parameters"]}
    wanted = _params(**{"/t/app/token": {"value": "test-only-rotated-token"},
                        "/t/app/allowed_hosts": {"description": "hosts"}})
    checked = ansible.module(MODULE, wanted, check=True)
    assert [r["changes"] for r in checked["parameters"]] == [[], ["value"], ["description"]]
    assert _stored(aws)["/t/app/token"] == ("SecureString", OTHER_SECRET), "check mode wrote"

    result = ansible.module(MODULE, wanted)
    assert [(r["name"], r["changed"]) for r in result["parameters"]] == [
        ("/t/app/secret_key", False), ("/t/app/token", True), ("/t/app/allowed_hosts", True)]
    assert "test-only-rotated-token" not in json.dumps(result)
    after = {p["Name"]: p["Version"] for p in aws("ssm").describe_parameters()["Parameters"]}
    assert after["/t/app/secret_key"] == before["/t/app/secret_key"], "an equal value was rewritten"
    assert after["/t/app/token"] == before["/t/app/token"] + 1
    assert _stored(aws)["/t/app/token"] == ("SecureString", "test-only-rotated-token")
    assert ansible.module(MODULE, wanted)["changed"] is False


def test_drift_made_outside_is_found_and_repaired(ansible, aws, fresh_emulator):
    ansible.module(MODULE, _params())
    ssm = aws("ssm")
    ssm.put_parameter(Name="/t/app/secret_key", Value="changed-by-hand", Type="String",
                      Overwrite=True)
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/t/app/token",
                             Tags=[{"Key": "Extra", "Value": "x"}])
    checked = ansible.module(MODULE, _params(), check=True)
    assert [r["changes"] for r in checked["parameters"]] == [["value", "type"], ["tags"], []]
    repaired = ansible.module(MODULE, _params())
    assert repaired["changed"] is True
    assert _stored(aws)["/t/app/secret_key"] == ("SecureString", SECRET)
    assert _tags(aws, "/t/app/token") == {"Project": "t", "Name": "/t/app/token"}
    assert ansible.module(MODULE, _params())["changed"] is False


def test_more_than_ten_parameters_are_read_in_batches(ansible, aws, fresh_emulator):
    many = {"parameters": [{"name": f"/t/app/p{n:02d}", "value": f"v{n}"} for n in range(23)]}
    assert ansible.module(MODULE, many)["changed"] is True
    again = ansible.module(MODULE, many)
    assert again["changed"] is False, [r for r in again["parameters"] if r["changed"]]
    assert len(_stored(aws)) == 23


def test_refuses_a_repeated_name_before_writing(ansible, aws, fresh_emulator):
    items = _params()["parameters"]
    result = ansible.module(MODULE, {"parameters": [*items, items[0]]})
    assert result.get("failed") is True
    assert "each name once; repeated: /t/app/secret_key" in result["msg"]
    assert _stored(aws) == {}
    _no_value_in(result)
