from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from time import monotonic, sleep

import dramatiq
import pytest
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from rest_framework.test import APIClient
from salon.models import Salon, Service, StaffMember
from user.models import Role, User

from tests.factories import (
    PASSWORD,
    SalonFactory,
    ServiceFactory,
    StaffFactory,
    UserFactory,
    VerifiedCustomerFactory,
    open_every_day,
    work_every_day,
)

LOGIN_URL = "/_allauth/app/v1/auth/login"


def login(client: APIClient, user: User) -> str:
    """Log in through allauth's headless app API and use the JWT it issues."""
    response = client.post(LOGIN_URL, {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    token = response.json()["meta"]["access_token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return token


@pytest.fixture(autouse=True)
def _empty_cache():
    """The suite's cache is the process's local memory (test_settings): cached availability
    answers and versions must not outlive the test that made them."""
    cache.clear()


def wait_until(predicate, timeout: float = 20) -> None:
    deadline = monotonic() + timeout
    while not predicate():
        assert monotonic() < deadline, "the worker did not get there in time"
        sleep(0.05)


@pytest.fixture
def stub_worker():
    """A real Dramatiq worker (threads) on the test settings' stub broker."""
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield broker, worker
    worker.stop()
    broker.flush_all()


@contextmanager
def in_process_wsgi():
    """Around calls to the WSGI app made directly (schemathesis, httpx's WSGI transport): each
    request fires request_started/finished, whose close_old_connections would close the
    connection holding the test's transaction. Django's test client disconnects it the same way
    around each of its own requests (and reconnects it after: hence per call, not per test)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for():
    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            login(client, user)
        return client

    return make


@dataclass
class World:
    salon: Salon
    staff: StaffMember
    service: Service
    owner: User
    staff_user: User
    customer: User
    other_customer: User
    other_owner: User
    admin: User

    def local(self, day, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.salon.tz)

    @property
    def bookable_day(self):
        return (datetime.now(self.salon.tz) + timedelta(days=3)).date()


@pytest.fixture
def world(db) -> World:
    salon = SalonFactory()
    open_every_day(salon)
    staff = StaffFactory(salon=salon)
    work_every_day(staff)
    service = ServiceFactory(salon=salon, staff=[staff])
    other_salon = SalonFactory()
    return World(
        salon=salon,
        staff=staff,
        service=service,
        owner=salon.owner,
        staff_user=staff.user,
        customer=VerifiedCustomerFactory(),
        other_customer=VerifiedCustomerFactory(),
        other_owner=other_salon.owner,
        admin=UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True),
    )
