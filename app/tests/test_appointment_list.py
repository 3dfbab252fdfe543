"""Who sees which appointments, and that the filter stays on the appointment's own columns
(a join to the salon's owner in the filter made PostgreSQL read every appointment: bench/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from appointment.models import Appointment
from appointment.selectors import appointment_visible_to
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import SalonFactory, ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _book(salon, staff, service, customer, hours: int) -> Appointment:
    start = timezone.now() + timedelta(hours=hours)
    return Appointment.objects.create(
        salon=salon,
        staff=staff,
        service=service,
        customer=customer,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=40),
        price=1,
        currency="EUR",
    )


def test_staff_member_sees_own_bookings_elsewhere_and_the_salons_until_inactive(world):
    other = SalonFactory()
    other_staff = StaffFactory(salon=other)
    other_service = ServiceFactory(salon=other, staff=[other_staff])
    # The salon's stylist books a haircut at another salon; a customer books at the salon.
    own = _book(other, other_staff, other_service, world.staff_user, 30)
    salons = _book(world.salon, world.staff, world.service, world.customer, 50)
    unrelated = _book(other, other_staff, other_service, world.customer, 70)

    visible = set(appointment_visible_to(world.staff_user).values_list("pk", flat=True))
    assert visible == {own.pk, salons.pk}
    assert unrelated.pk not in set(appointment_visible_to(world.owner).values_list("pk", flat=True))

    world.staff.is_active = False
    world.staff.save()
    visible = set(appointment_visible_to(world.staff_user).values_list("pk", flat=True))
    assert visible == {own.pk}


def test_filter_uses_the_appointment_columns_only(world):
    for user in (world.customer, world.staff_user, world.owner):
        sql = str(appointment_visible_to(user).query)
        where = sql.split(" WHERE ", 1)[1]
        assert "salon_salon" not in where
        assert "EXISTS" not in where


def test_list_query_count_does_not_grow_with_appointments(world, client_for):
    client = client_for(world.customer)
    _book(world.salon, world.staff, world.service, world.customer, 30)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/appointments/").status_code == 200
    for hours in range(31, 60):
        _book(world.salon, world.staff, world.service, world.customer, hours)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/appointments/")
    assert response.json()["count"] == 30
    assert len(many.captured_queries) == len(one.captured_queries)
