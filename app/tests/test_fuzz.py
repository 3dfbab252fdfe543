"""Fuzz every operation in the OpenAPI schema with schemathesis; any 5xx fails.

Path ids are pointed at real rows (otherwise nearly everything would be a 404) and requests
carry a salon owner's JWT, so bodies and query strings reach the validation and service code.
"""

from __future__ import annotations

import pytest
import schemathesis
from booking_api.wsgi import application
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import login

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# Per operation, on top of schemathesis' coverage phase (boundary and invalid values).
MAX_EXAMPLES = 10


@pytest.fixture
def owner_token(world, api_client):
    return login(api_client, world.owner)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_answers_5xx(case, world, owner_token):
    real_ids = {
        "salon_id": world.salon.pk,
        "staff_id": world.staff.pk,
        "service_id": world.service.pk,
    }
    if case.path_parameters:
        for name, value in real_ids.items():
            if name in case.path_parameters:
                case.path_parameters[name] = value
    # Calling the WSGI app directly fires request_finished, whose close_old_connections would
    # close the connection holding the test's transaction (Django's test client disconnects
    # it the same way, and reconnects it after each of its own requests).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {owner_token}"}, checks=[not_a_server_error]
        )
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
