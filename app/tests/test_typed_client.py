"""A typed client generated from the served OpenAPI schema, used for one booking end to end.

openapi-python-client (attrs models over httpx, as a client team would generate it) builds the
client from /api/schema/ into tmp_path, and must do so without a warning. Its requests reach
the app in this process through httpx's WSGI transport, inside the test's transaction. The
client raises on any status the schema does not document. About 4 s, 3 of them generating.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import httpx
import pytest
from booking_api.wsgi import application

from tests.conftest import LOGIN_URL, in_process_wsgi
from tests.factories import PASSWORD

BASE_URL = "http://localhost"
PACKAGE = "booking_client"


@pytest.fixture
def generated(tmp_path, monkeypatch):
    """The generated package, importable as ``booking_client``."""
    with in_process_wsgi(), httpx.Client(transport=_transport(), base_url=BASE_URL) as http:
        served = http.get("/api/schema/", params={"format": "json"})
    assert served.status_code == 200, served.text
    (tmp_path / "schema.json").write_bytes(served.content)
    # No post hooks: they would only reformat the generated code with ruff.
    (tmp_path / "config.yaml").write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    for module in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[module]


def _transport() -> httpx.WSGITransport:
    return httpx.WSGITransport(app=application)


def test_a_generated_client_books_an_appointment(world, generated):
    client_module = generated("client")
    models = generated("models")
    salons_list = generated("api.salons.salons_list")
    services_list = generated("api.salons.salons_services_list")
    availability = generated("api.salons.salons_availability_list")
    book = generated("api.appointments.appointments_create")
    retrieve = generated("api.appointments.appointments_retrieve")
    appointments_list = generated("api.appointments.appointments_list")

    with in_process_wsgi():
        # Logging in is allauth's (its own schema, /_allauth/openapi.json): plain httpx.
        with httpx.Client(transport=_transport(), base_url=BASE_URL) as http:
            login = http.post(LOGIN_URL, json={"email": world.customer.email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        client = client_module.AuthenticatedClient(
            base_url=BASE_URL,
            token=login.json()["meta"]["access_token"],
            raise_on_unexpected_status=True,
            httpx_args={"transport": _transport()},
        )

        salon = next(s for s in salons_list.sync(client=client) if s.id == world.salon.pk)
        service = next(s for s in services_list.sync(salon.id, client=client) if s.is_active)
        slot = availability.sync(
            salon.id, client=client, service=service.id, date=world.bookable_day
        )[0]

        booked = book.sync_detailed(
            client=client,
            body=models.BookInputRequest(
                salon=salon.id, service=service.id, staff=slot.staff_ids[0], starts_at=slot.start
            ),
            idempotency_key="typed-client-1",
        )
        assert booked.status_code == 201, booked.content
        appointment = retrieve.sync(booked.parsed.id, client=client)
        page = appointments_list.sync(client=client)
        taken = book.sync(
            client=client,
            body=models.BookInputRequest(
                salon=salon.id, service=service.id, staff=slot.staff_ids[0], starts_at=slot.start
            ),
        )

    assert isinstance(appointment, models.Appointment)
    assert appointment.starts_at == slot.start  # an aware datetime, parsed by the client
    assert appointment.status is models.StatusEnum.BOOKED
    assert (appointment.customer, appointment.price) == (world.customer.pk, str(service.price))
    assert isinstance(page, models.PaginatedAppointmentList)
    assert page.count == 1
    assert page.results[0].id == appointment.id
    # The error body is typed too: the same slot again is a 409 with the handler's code.
    assert isinstance(taken, models.Error)
    assert taken.code == "conflict"
