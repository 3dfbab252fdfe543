"""Fuzz every operation in the OpenAPI schema with schemathesis, as a salon owner and as a
customer: the API never answers 5xx, and every answer's status code, content type and body are
ones the schema documents for that operation (what a client generated from it relies on).

Path ids point at real rows (otherwise nearly everything would be a 404): the world's salon,
staff member and service, its opening and working hours, and a closure, a time off and a
booking of the customer's, so that deletes, cancels and the services' permission checks run.

Inputs are fixed (seed, derandomize): a failure reproduces, and the cost stays put. The owner
gets schemathesis' coverage phase (every boundary and invalid value the schema implies: ~1,440
requests) and MAX_EXAMPLES fuzzed cases per operation (~390); the customer only the fuzzed
cases: views validate input before the services check who may act, so the customer's invalid
inputs would repeat the owner's. ~2,200 requests in all, ~40 s of CPU: about 45 s on the
project's 2-core machine when idle, 60 s while other jobs load it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from appointment.services import appointment_book
from booking_api.wsgi import application
from hypothesis import HealthCheck, settings
from salon.models import Closure, TimeOff
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from tests.conftest import in_process_wsgi, login

SEED = 20261207
# Per operation and role, on top of the owner's coverage phase.
MAX_EXAMPLES = 10


def _load_schema(*, coverage: bool):
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # No requests with methods the schema does not list: DRF's 405 is all they find.
            "phases": {"coverage": {"enabled": coverage, "unexpected-methods": []}},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)


owner_schema = _load_schema(coverage=True)
customer_schema = _load_schema(coverage=False)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def owner_token(world, api_client) -> str:
    return login(api_client, world.owner)


@pytest.fixture
def customer_token(world, client_for) -> str:
    return login(client_for(None), world.customer)


@pytest.fixture
def row_ids(world) -> dict[str, int]:
    """Path parameter (or, for ``{id}``, the collection before it) to a real row's id."""
    day = world.bookable_day
    appointment, _ = appointment_book(
        customer=world.customer,
        salon=world.salon,
        service_id=world.service.pk,
        staff_id=world.staff.pk,
        starts_at=world.local(day, 10),
    )
    # Far enough ahead not to touch the booking's day.
    closure = Closure.objects.create(
        salon=world.salon, start_date=day + timedelta(days=30), end_date=day + timedelta(days=30)
    )
    time_off = TimeOff.objects.create(
        staff=world.staff,
        starts_at=world.local(day + timedelta(days=31), 9),
        ends_at=world.local(day + timedelta(days=31), 12),
    )
    return {
        "salon_id": world.salon.pk,
        "staff_id": world.staff.pk,
        "service_id": world.service.pk,
        "appointment_id": appointment.pk,
        "opening-hours": world.salon.opening_hours.first().pk,
        "working-hours": world.staff.working_hours.first().pk,
        "closures": closure.pk,
        "time-off": time_off.pk,
    }


def _point_at_rows(case, row_ids: dict[str, int]) -> None:
    for name in case.path_parameters or {}:
        key = name
        if name == "id":  # the collection it is in: /api/salons/{salon_id}/closures/{id}/
            key = case.operation.path.split("/{id}")[0].rsplit("/", 1)[-1]
        if key in row_ids:
            case.path_parameters[name] = row_ids[key]


FIXED_INPUTS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.mark.slow
@owner_schema.parametrize()
@FIXED_INPUTS
def test_salon_owner_gets_what_the_schema_documents(case, owner_token, row_ids):
    _call_and_validate(case, owner_token, row_ids)


@pytest.mark.slow
@customer_schema.parametrize()
@FIXED_INPUTS
def test_customer_gets_what_the_schema_documents(case, customer_token, row_ids):
    _call_and_validate(case, customer_token, row_ids)


def _call_and_validate(case, token: str, row_ids: dict[str, int]) -> None:
    _point_at_rows(case, row_ids)
    with in_process_wsgi():
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
