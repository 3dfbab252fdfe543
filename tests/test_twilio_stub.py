"""The local Twilio API (tools/twilio_stub.py, BOOKING_EMULATOR_TWILIO=stub), as test credentials.

The stub runs in this process (no emulator): an HTTPS server on an endpoint address of its own
with a local-CA certificate for api.twilio.com. The app's own twilio-python (the version pinned in
app/requirements.txt, from .venv-app) sends through it in a subprocess that resolves
api.twilio.com to the stub's address (socket.getaddrinfo patched there) and trusts the local CA
through REQUESTS_CA_BUNDLE, so TLS is verified against the real host name, as in a task
container. Checked: a message from the magic +15005550006 to an ordinary number is accepted
(SM... sid, queued) and recorded (``messages()`` and GET /_stub/messages); every magic From and
To error number raises TwilioRestException with its code; a non-AC account SID and missing
credentials are 401 20003; a client that does not trust the local CA fails verification. Raw
HTTPS requests check the error body's shape, missing/malformed basic auth, a SID not matching
the path, the 403 for other resources and the parameter errors; ``stop()`` releases the address
and the host entry. Cost: about 2.3 s of wall time here (2026-12-06, three runs 2.3-2.5 s with
pytest's own start; pytest reports 1.7-1.9 s): the client subprocess (the app's Python, the
twilio import, 13 requests) is 0.9 s of it; the stub starts in milliseconds (a new local-CA
certificate when its address changed)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import local_ca
import local_net
import pytest
import twilio_stub

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="the stub's endpoint address goes on the loopback interface (root)"),
    # One worker, file order (make test: --dist loadgroup): the last test stops the stub.
    pytest.mark.xdist_group("twilio_stub"),
]

REPO = Path(__file__).resolve().parents[1]
APP_PYTHON = REPO / ".venv-app" / "bin" / "python"
SID = "AC" + "0123456789abcdef" * 2  # the shape of a (test) Account SID
TOKEN = "test-auth-token-of-the-stub-test"  # any non-empty token: the stub cannot know the real
ORDINARY = "+4930123456"
BODY = "Your booking is confirmed"

# What the client script sends: [account sid, auth token, From, To, Body] per case.
CASES = {
    "ok": [SID, TOKEN, "+15005550006", ORDINARY, BODY],
    "from_invalid": [SID, TOKEN, "+15005550001", ORDINARY, BODY],
    "from_not_owned": [SID, TOKEN, "+15005550007", ORDINARY, BODY],
    "from_queue_full": [SID, TOKEN, "+15005550008", ORDINARY, BODY],
    "from_other": [SID, TOKEN, "+14155550100", ORDINARY, BODY],
    "to_invalid": [SID, TOKEN, "+15005550006", "+15005550001", BODY],
    "to_unroutable": [SID, TOKEN, "+15005550006", "+15005550002", BODY],
    "to_no_permission": [SID, TOKEN, "+15005550006", "+15005550003", BODY],
    "to_blocked": [SID, TOKEN, "+15005550006", "+15005550004", BODY],
    "to_no_sms": [SID, TOKEN, "+15005550006", "+15005550009", BODY],
    "sid_not_an_account": ["local-only-not-a-twilio-sid", TOKEN, "+15005550006", ORDINARY, BODY],
    "no_token": [SID, "", "+15005550006", ORDINARY, BODY],
}
EXPECTED_CODES = {
    "from_invalid": 21212, "from_not_owned": 21606, "from_queue_full": 21611,
    "from_other": 21606, "to_invalid": 21211, "to_unroutable": 21612, "to_no_permission": 21408,
    "to_blocked": 21610, "to_no_sms": 21614,
}

# Runs with the app's interpreter: resolves api.twilio.com to the stub, sends every case with the
# app's client, prints one JSON object. "untrusted": the system CA store only (no local CA).
CLIENT_SCRIPT = r"""
import json, socket, sys
address, cases = sys.argv[1], json.loads(sys.argv[2])
_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    return _getaddrinfo(address if host == "api.twilio.com" else host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo

import twilio
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

out = {"version": twilio.__version__}
for name, (sid, token, from_, to, body) in cases.items():
    client = Client(sid, token, http_client=TwilioHttpClient(timeout=15))
    try:
        m = client.messages.create(to=to, from_=from_, body=body)
        out[name] = {"sid": m.sid, "status": m.status, "to": m.to, "from": m.from_,
                     "body": m.body, "account_sid": m.account_sid,
                     "num_segments": m.num_segments, "date_created": str(m.date_created)}
    except TwilioRestException as e:
        out[name] = {"error": e.status, "code": e.code, "msg": e.msg, "uri": e.uri}

http_client = TwilioHttpClient(timeout=15)
http_client.session.trust_env = False  # not REQUESTS_CA_BUNDLE: the system store only
http_client.session.verify = "/etc/ssl/certs/ca-certificates.crt"
try:
    Client(*cases["ok"][:2], http_client=http_client).messages.create(
        to=cases["ok"][3], from_=cases["ok"][2], body="untrusted")
    out["untrusted"] = "sent"
except Exception as e:
    out["untrusted"] = type(e).__name__ + ": " + str(e)[:300]
print(json.dumps(out))
"""


@pytest.fixture(scope="module", autouse=True)
def _stop_at_the_end():
    yield
    twilio_stub.stop()


@pytest.fixture
def stub() -> str:
    return twilio_stub.start()  # idempotent: the running stub's address


def _app_has_twilio() -> bool:
    if not APP_PYTHON.exists():
        return False
    probe = subprocess.run([str(APP_PYTHON), "-c", "import twilio"], capture_output=True,
                           timeout=60, check=False)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def client_results():
    if not _app_has_twilio():
        pytest.skip(f"needs the app's venv with twilio ({APP_PYTHON})")
    stub = twilio_stub.start()
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in {"https_proxy", "http_proxy", "all_proxy", "no_proxy"}
           and not k.startswith("TWILIO_")}
    env["REQUESTS_CA_BUNDLE"] = str(local_ca.CA_CERT)
    done = subprocess.run([str(APP_PYTHON), "-c", CLIENT_SCRIPT, stub, json.dumps(CASES)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _request(address: str, method: str, path: str, form: dict[str, str] | None = None,
             auth: str | None = None) -> tuple[int, dict[str, str], object]:
    context = ssl.create_default_context(cafile=str(local_ca.CA_CERT))
    conn = http.client.HTTPSConnection(address, 443, context=context, timeout=10)
    headers = {"Accept": "application/json"}
    if auth is not None:
        headers["Authorization"] = auth
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        conn.close()


def _basic(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"


# --- the app's client ---------------------------------------------------------------------------

def test_client_is_the_pinned_version(client_results):
    pinned = next(line.split("==")[1].split()[0] for line in
                  (REPO / "app" / "requirements.txt").read_text().splitlines()
                  if line.startswith("twilio=="))
    assert client_results["version"] == pinned


def test_ordinary_number_from_magic_sender_is_queued_and_recorded(stub, client_results):
    sent = client_results["ok"]
    assert "error" not in sent, sent
    assert sent["sid"].startswith("SM")
    assert len(sent["sid"]) == 34
    int(sent["sid"][2:], 16)
    assert (sent["status"], sent["to"], sent["from"], sent["body"], sent["account_sid"],
            sent["num_segments"]) == ("queued", ORDINARY, "+15005550006", BODY, SID, "1")
    assert sent["date_created"] not in ("None", "")  # the client parsed the RFC 2822 date
    recorded = {m["sid"]: m for m in twilio_stub.messages()}
    assert recorded[sent["sid"]]["body"] == BODY
    assert recorded[sent["sid"]]["uri"] == f"/2010-04-01/Accounts/{SID}/Messages/{sent['sid']}.json"
    assert TOKEN not in json.dumps(twilio_stub.messages())
    status, _, listed = _request(stub, "GET", "/_stub/messages")
    assert status == 200
    assert sent["sid"] in [m["sid"] for m in listed]
    # only the accepted message: none of the refused ones
    assert [m["to"] for m in listed] == [ORDINARY]


@pytest.mark.parametrize("case", sorted(EXPECTED_CODES))
def test_magic_numbers_raise_their_codes(client_results, case):
    result = client_results[case]
    assert (result.get("error"), result.get("code")) == (400, EXPECTED_CODES[case]), result
    assert result["msg"].startswith("Unable to create record: ")


@pytest.mark.parametrize("case", ["sid_not_an_account", "no_token"])
def test_bad_credentials_are_401_authenticate(client_results, case):
    result = client_results[case]
    assert (result.get("error"), result.get("code")) == (401, 20003), result
    assert result["msg"] == "Unable to create record: Authenticate"


def test_tls_is_verified_against_the_local_ca(client_results):
    assert "SSLError" in client_results["untrusted"] or "CERTIFICATE_VERIFY_FAILED" in \
        client_results["untrusted"], client_results["untrusted"]


# --- raw HTTPS ----------------------------------------------------------------------------------

def test_error_body_has_twilios_shape(stub):
    status, headers, body = _request(
        stub, "POST", MESSAGES, {"To": "+15005550004", "From": "+15005550006", "Body": "x"},
        _basic(SID, TOKEN))
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    assert set(body) == {"code", "message", "more_info", "status"}
    assert (body["code"], body["status"]) == (21610, 400)
    assert body["more_info"] == "https://www.twilio.com/docs/errors/21610"


@pytest.mark.parametrize("auth", [
    None, "Bearer abc", "Basic !!!not-base64", "Basic " + base64.b64encode(b"no-colon").decode(),
    _basic(SID, ""), _basic("AC" + "f" * 32, TOKEN),  # another account than the path's
])
def test_missing_or_malformed_auth_is_401(stub, auth):
    status, headers, body = _request(
        stub, "POST", MESSAGES, {"To": ORDINARY, "From": "+15005550006", "Body": "x"}, auth)
    assert (status, body["code"], body["message"], body["status"]) == (
        401, 20003, "Authenticate", 401)
    assert body["more_info"] == "https://www.twilio.com/docs/errors/20003"
    assert headers["WWW-Authenticate"].startswith("Basic")


def test_other_resources_are_forbidden_with_test_credentials(stub):
    status, _, body = _request(stub, "GET", MESSAGES, auth=_basic(SID, TOKEN))
    assert (status, body["code"]) == (403, 20008)
    status, _, body = _request(stub, "POST", f"/2010-04-01/Accounts/{SID}/Calls.json",
                               {"To": ORDINARY}, _basic(SID, TOKEN))
    assert (status, body["code"]) == (403, 20008)
    status, _, body = _request(stub, "GET", "/v1/Services", auth=_basic(SID, TOKEN))
    assert (status, body["code"]) == (404, 20404)


@pytest.mark.parametrize(("form", "code"), [
    ({"From": "+15005550006", "Body": "x"}, 21604),
    ({"To": ORDINARY, "Body": "x"}, 21603),
    ({"To": ORDINARY, "From": "+15005550006"}, 21602),
    ({"To": ORDINARY, "From": "+15005550006", "Body": "x" * 1601}, 21617),
    ({"To": "030 123456", "From": "+15005550006", "Body": "x"}, 21211),
])
def test_parameters_are_validated(stub, form, code):
    status, _, body = _request(stub, "POST", MESSAGES, form, _basic(SID, TOKEN))
    assert (status, body["code"]) == (400, code), body


def test_segments_follow_the_encoding():
    assert twilio_stub.num_segments("x" * 160) == 1
    assert twilio_stub.num_segments("x" * 161) == 2
    assert twilio_stub.num_segments("€" * 80) == 1  # extension characters take two septets
    assert twilio_stub.num_segments("€" * 81) == 2
    assert twilio_stub.num_segments("ü" * 160) == 1  # in the GSM alphabet
    assert twilio_stub.num_segments("ł" * 70) == 1  # not: UCS-2
    assert twilio_stub.num_segments("ł" * 71) == 2


def test_enabled_reads_the_switch(monkeypatch):
    monkeypatch.setenv("BOOKING_EMULATOR_TWILIO", "stub")
    assert twilio_stub.enabled()
    monkeypatch.setenv("BOOKING_EMULATOR_TWILIO", "")
    assert not twilio_stub.enabled()


def test_start_is_idempotent_and_stop_cleans_up(stub):
    assert twilio_stub.start() == stub == twilio_stub.address()
    assert local_net.HOSTS["api.twilio.com"] == stub
    twilio_stub.stop()  # the file's last test: the module's own stop() is then a no-op
    assert twilio_stub.address() is None
    assert "api.twilio.com" not in local_net.HOSTS
    assert twilio_stub.messages() == []
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "lo"], capture_output=True,
                           text=True, check=True).stdout
    assert f" {stub}/" not in shown
    twilio_stub.stop()  # idempotent



if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
