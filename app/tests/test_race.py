"""Many clients race for one slot at the same moment: exactly one wins, the rest get 409."""

from __future__ import annotations

import threading

import pytest
from appointment.models import Appointment
from django.db import connection

from tests.conftest import login
from tests.factories import VerifiedCustomerFactory

RACERS = 12


@pytest.mark.slow
def test_concurrent_bookings_for_one_slot_have_exactly_one_winner(transactional_db, world):
    from rest_framework.test import APIClient

    start = world.local(world.bookable_day, 14)
    clients = []
    for _ in range(RACERS):
        client = APIClient()
        login(client, VerifiedCustomerFactory())
        clients.append(client)

    barrier = threading.Barrier(RACERS)
    results: list[int] = []
    backends: set[int] = set()
    lock = threading.Lock()

    def race(client: APIClient) -> None:
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            barrier.wait(timeout=30)
            response = client.post(
                "/api/appointments/",
                {
                    "salon": world.salon.pk,
                    "service": world.service.pk,
                    "staff": world.staff.pk,
                    "starts_at": start.isoformat(),
                },
                format="json",
            )
            with lock:
                results.append(response.status_code)
                backends.add(pid)
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert len(backends) == RACERS, "each racer must use its own database connection"
    assert sorted(results) == [201] + [409] * (RACERS - 1), results
    assert Appointment.objects.filter(staff=world.staff, starts_at=start).count() == 1
