"""A local Twilio API answering as Twilio does for test credentials (BOOKING_EMULATOR_TWILIO=stub).

The app's worker sends SMS with twilio-python (app/notification/backends.py, TwilioBackend:
``Client(sid, token).messages.create(to=, from_=, body=)``). The local machine has no way out to
api.twilio.com, so with ``BOOKING_EMULATOR_TWILIO=stub`` the emulator runs this stub instead:

* ``start()`` (idempotent; returns the address) listens with HTTPS on port 443 of an endpoint
  address of its own (tools/local_net.py, 198.18.x.y on the loopback interface, reachable from
  the task containers), with a certificate of the local CA (tools/local_ca.py) for
  ``api.twilio.com`` and that address, and maps ``api.twilio.com`` to the address in
  ``local_net.HOSTS``. Task containers get every HOSTS entry as a host entry and trust the local
  CA, so the app's unmodified client reaches the stub by the real host name with certificate
  verification on. ``stop()`` stops it, removes the HOSTS entry and releases the address.
  ``enabled()``: the emulator's switch. ``address()``: where it listens (None: stopped).
* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (what twilio-python 9.13 POSTs:
  form-encoded ``To``, ``From``, ``Body``; HTTP basic auth AccountSid:AuthToken;
  ``Accept: application/json``) answers as Twilio's test credentials do - "Twilio will validate
  all input as though the request were made with your real credentials", no message is sent:

  - 201 and a Message resource (``sid`` "SM" + 32 hex digits, ``account_sid``, ``to``, ``from``,
    ``body``, ``status`` "queued", ``direction`` "outbound-api", ``num_segments`` from the body's
    encoding - GSM-7: 160 characters, 153 a part; else UCS-2: 70, 67 a part - ``num_media`` "0",
    ``date_created``/``date_updated`` in RFC 2822, ``date_sent``/``price``/``error_code`` null,
    ``price_unit`` USD, ``api_version``, ``uri``, ``subresource_uris``) when ``From`` is the magic
    +15005550006 and ``To`` a valid number that is not a magic one;
  - the magic numbers' errors, HTTP 400 with Twilio's error body ``{"code", "message",
    "more_info": "https://www.twilio.com/docs/errors/<code>", "status": 400}``. From:
    +15005550001 invalid 21212; +15005550007 not owned by the account or not SMS-capable 21606;
    +15005550008 SMS queue full 21611; any other From 21606 (test credentials own no number).
    To (checked after a passing From): +15005550001 invalid 21211; +15005550002 Twilio cannot
    route 21612; +15005550003 no international permission 21408; +15005550004 blocked for the
    account 21610; +15005550009 incapable of receiving SMS 21614; any other To is "validated
    normally" - here: E.164 (``+``, then 7 to 15 digits) or 21211;
  - Twilio's own validation for the parameters: no To 21604, no From 21603, no Body 21602 (and
    no ``MediaUrl``/``ContentSid``), a Body over 1600 characters 21617;
  - authentication: no ``Authorization``, not ``Basic``, undecodable, an empty token, a user that
    is not an Account SID (``AC`` + 32 hex digits) or not the path's AccountSid: 401, code 20003
    "Authenticate" (and ``WWW-Authenticate: Basic realm="Twilio API"``);
  - any other resource or method under ``/2010-04-01/Accounts/{AccountSid}/`` with valid-looking
    credentials: 403, code 20008 (the doc: "Requests to any other resource with test credentials
    will receive a 403 Forbidden response"); anything else 404, code 20404.

* Every accepted message is recorded (its Message resource; the auth token is never recorded nor
  logged): ``messages()`` returns them, oldest first, and ``GET /_stub/messages`` (no auth) gives
  the same JSON list to humans on the host, e.g.
  ``curl --cacert .run/local-ca/ca.pem https://<address>/_stub/messages``. The record lives as
  long as the stub: ``stop()`` forgets it.

Source: Twilio, "Test Credentials" https://www.twilio.com/docs/iam/test-credentials (supported
resources, the 403 for the others, no status callbacks, the magic From/To numbers and their error
codes for sending SMS); the error pages https://www.twilio.com/docs/api/errors/<code> (20003:
wrong or missing credentials, subaccount credentials on the master account; 20008: a resource
test credentials cannot use). The error messages are close to Twilio's wording, not copies of
it; clients should match on the code.

Not modelled: the auth token's value (the stub cannot know the test account's token: any non-empty
token of an AC... user is accepted), API-key (SK...) and OAuth authentication, live credentials
(every request is answered as test credentials are: nothing is ever delivered), the message's later
life (it stays "queued"; test credentials trigger no status callbacks anyway), ``StatusCallback``,
``MessagingServiceSid`` (not supported with test credentials; here From is required regardless),
MMS media, WhatsApp and other channel addresses, national-format To numbers (Twilio parses them
against the From's country; here they are 21211), Calls and IncomingPhoneNumbers (test credentials
may use them; here they are 403 too), GET/list of messages through the API (403, as with test
credentials), regions and edges (``api.<edge>.<region>.twilio.com``), rate limits (20429), XML
responses (``Messages`` without ``.json``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import datetime
import email.utils
import json
import logging
import math
import os
import re
import secrets
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import local_net  # beside this file (tools/ is on the emulator's path)

TWILIO_ENV = "BOOKING_EMULATOR_TWILIO"
HOST = "api.twilio.com"
PORT = 443
API_VERSION = "2010-04-01"
MAGIC_FROM_OK = "+15005550006"
BODY_LIMIT = 1600  # characters (Twilio: error 21617 above it)
_IDLE_SECONDS = 30.0  # a keep-alive connection with nothing to say is closed after this

_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_MESSAGES_PATH = re.compile(rf"/{API_VERSION}/Accounts/([^/]+)/Messages\.json")
_ACCOUNT_PATH = re.compile(rf"/{API_VERSION}/Accounts/([^/]+)(/.*)?")

# The magic numbers of https://www.twilio.com/docs/iam/test-credentials (sending SMS).
_FROM_ERRORS = {
    "+15005550001": (21212, "The 'From' number {from_} is not a valid phone number, shortcode, "
                            "or alphanumeric sender ID."),
    "+15005550007": (21606, "The From phone number {from_} is not a valid, SMS-capable inbound "
                            "phone number or short code for your account."),
    "+15005550008": (21611, "This 'From' number has exceeded the maximum number of queued "
                            "messages"),
}
_FROM_OTHER = _FROM_ERRORS["+15005550007"]
_TO_ERRORS = {
    "+15005550001": (21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number: {to}, is not currently reachable using the "
                            "'From' phone number: {from_} via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region "
                            "indicated by the 'To' number: {to}."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number {to} is not a valid mobile number"),
}

# GSM 03.38: the default alphabet (one septet each) and its extension table (two: escape + char).
_GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENSION = set("^{}\\[~]|€\f")

logger = logging.getLogger(__name__)

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}  # "server", "address" while the stub runs
_MESSAGES: list[dict[str, Any]] = []


def enabled() -> bool:
    """The emulator's switch: BOOKING_EMULATOR_TWILIO=stub."""
    return os.environ.get(TWILIO_ENV, "") == "stub"


def address() -> str | None:
    """The stub's endpoint address while it runs."""
    with _LOCK:
        return _STATE.get("address")


def messages() -> list[dict[str, Any]]:
    """The Message resources of every accepted message, oldest first (copies)."""
    with _LOCK:
        return copy.deepcopy(_MESSAGES)


def num_segments(body: str) -> int:
    """How many SMS parts Twilio bills for `body` (no smart encoding)."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENSION for c in body):
        septets = sum(2 if c in _GSM_EXTENSION else 1 for c in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def _now_rfc2822() -> str:
    return email.utils.format_datetime(
        datetime.datetime.now(datetime.UTC).replace(microsecond=0))


def _error(code: int, message: str, status: int = 400, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status, **extra}


def _authenticate(header: str | None, path_sid: str) -> bool:
    """Basic auth AccountSid:AuthToken, the user the path's AccountSid (an AC... SID)."""
    if not header or not header.startswith("Basic "):
        return False
    try:
        user, sep, token = base64.b64decode(header[6:].strip(), validate=True).decode(
            "utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return bool(sep and token and _ACCOUNT_SID.fullmatch(user) and user == path_sid)


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def create_message(account_sid: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
    """POST .../Messages.json as Twilio answers it for test credentials: (status, JSON body)."""
    to, from_, body = _first(form, "To"), _first(form, "From"), _first(form, "Body")
    to, from_ = (to or "").strip(), (from_ or "").strip()
    if not to:
        return 400, _error(21604, "A 'To' phone number is required.")
    if not from_:
        return 400, _error(21603, "A 'From' phone number is required.")
    if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
        return 400, _error(21602, "Message body is required.")
    body = body or ""
    if len(body) > BODY_LIMIT:
        return 400, _error(21617, "The concatenated message body exceeds the 1600 character "
                                  "limit.")
    if from_ != MAGIC_FROM_OK:
        code, text = _FROM_ERRORS.get(from_, _FROM_OTHER)
        return 400, _error(code, text.format(from_=from_, to=to))
    if to in _TO_ERRORS:
        code, text = _TO_ERRORS[to]
        return 400, _error(code, text.format(from_=from_, to=to))
    if not _E164.fullmatch(to):
        code, text = _TO_ERRORS["+15005550001"]
        return 400, _error(code, text.format(from_=from_, to=to))
    sid = "SM" + secrets.token_hex(16)
    now = _now_rfc2822()
    uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
    message = {
        "account_sid": account_sid, "api_version": API_VERSION, "body": body,
        "date_created": now, "date_sent": None, "date_updated": now,
        "direction": "outbound-api", "error_code": None, "error_message": None,
        "from": from_, "messaging_service_sid": None, "num_media": "0",
        "num_segments": str(num_segments(body)), "price": None, "price_unit": "USD",
        "sid": sid, "status": "queued",
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": to, "uri": uri,
    }
    with _LOCK:
        _MESSAGES.append(copy.deepcopy(message))
    logger.info("twilio stub: accepted %s from %s to %s (%s segment(s))", sid, from_, to,
                message["num_segments"])
    return 201, message


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "twilio-stub"
    sys_version = ""
    timeout = _IDLE_SECONDS
    server: _Server

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request line only, but nothing here needs it; never the headers

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Twilio-Request-Id", "RQ" + secrets.token_hex(16))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        body = self._read_body()  # always read: the connection stays usable (keep-alive)
        path = urlsplit(self.path).path
        if path == "/_stub/messages" and self.command == "GET":
            self._reply(200, messages())
            return
        account = _ACCOUNT_PATH.fullmatch(path)
        if account is None:
            self._reply(404, _error(20404, f"The requested resource {path} was not found",
                                    status=404))
            return
        if not _authenticate(self.headers.get("Authorization"), account.group(1)):
            self._reply(401, _error(20003, "Authenticate", status=401,
                                    detail="Your AccountSid or AuthToken was incorrect."),
                        {"WWW-Authenticate": 'Basic realm="Twilio API"'})
            return
        if self.command != "POST" or _MESSAGES_PATH.fullmatch(path) is None:
            self._reply(403, _error(20008, "Resource not accessible with Test Account "
                                           "Credentials", status=403))
            return
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        status, payload = create_message(account.group(1), form)
        self._reply(status, payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    """HTTPS on (address, 443); the TLS handshake in the connection's own thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, bind: str, context: ssl.SSLContext) -> None:
        self.context = context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((bind, PORT), _Handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                       name=f"twilio-stub-{bind}", daemon=True)
        self.thread.start()

    def server_bind(self) -> None:
        # HTTPServer's own looks the address up in DNS (getfqdn): slow, and not needed here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), PORT

    def get_request(self) -> tuple[Any, Any]:
        sock, client = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), client

    def track(self, sock: socket.socket, open_: bool) -> None:
        with self._open_lock:
            (self._open.add if open_ else self._open.discard)(sock)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away, a failed TLS handshake: nothing to report

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        with self._open_lock:
            held = list(self._open)
        for sock in held:  # keep-alive connections end with the server
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _tls_context(bind: str) -> ssl.SSLContext:
    import local_ca

    for attempt in range(3):
        cert, key = local_ca.issue([HOST, bind])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(str(cert), str(key))
            return context
        except ssl.SSLError:  # another emulator re-issued the pair between the two reads
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def start() -> str:
    """Start the stub (idempotent): its endpoint address, api.twilio.com's in local_net.HOSTS."""
    with _LOCK:
        if "server" in _STATE:
            local_net.HOSTS[HOST] = _STATE["address"]
            return _STATE["address"]
        bind = local_net.endpoint_address()
        try:
            server = _Server(bind, _tls_context(bind))
        except Exception as error:
            local_net.release(bind)
            raise RuntimeError(f"{TWILIO_ENV}=stub: cannot listen on {bind}:{PORT}: "
                               f"{error}") from error
        _STATE.update(server=server, address=bind)
        _MESSAGES.clear()
        local_net.HOSTS[HOST] = bind
        return bind


def stop() -> None:
    """Stop the stub (idempotent): the HOSTS entry and the address go, the record is forgotten."""
    with _LOCK:
        server, bind = _STATE.pop("server", None), _STATE.pop("address", None)
        _MESSAGES.clear()
        if bind is not None and local_net.HOSTS.get(HOST) == bind:
            del local_net.HOSTS[HOST]
    if server is not None:
        with contextlib.suppress(OSError):
            server.stop()
    if bind is not None:
        local_net.release(bind)
