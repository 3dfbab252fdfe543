"""The feature behind the ``staff_booking_sms`` flag: an SMS to the staff member whose appointment
someone else books, moves or cancels. Both paths: flag off (nothing for staff, the customer's SMS
unchanged) and on (for the salon, named or by percentage)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from appointment import services as appointment_services
from appointment.services import STAFF_BOOKING_SMS
from django.utils import timezone
from flag.models import Flag
from notification.models import SmsKind, SmsMessage, SmsStatus

from tests.conftest import World, wait_until
from tests.factories import StaffFactory, work_every_day

STAFF_PHONE = "+4917000000001"


def set_flag(**fields) -> Flag:
    """The flag as the migration creates it (off), then ``fields``; get-or-create because
    transactional tests empty the tables, the migration's row included."""
    flag, _ = Flag.objects.update_or_create(
        name=STAFF_BOOKING_SMS,
        defaults={"everyone": None, "percent": None, "superusers": False, **fields},
    )
    return flag


def verify_phone(user, phone: str = STAFF_PHONE) -> None:
    user.phone = phone
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["phone", "phone_verified_at"])


@pytest.fixture
def staff_phone(world: World) -> str:
    verify_phone(world.staff_user)
    return STAFF_PHONE


def book(world: World, client_for, hour: int = 10, staff=None) -> int:
    response = client_for(world.customer).post(
        "/api/appointments/",
        {
            "salon": world.salon.pk,
            "service": world.service.pk,
            "staff": (staff or world.staff).pk,
            "starts_at": world.local(world.bookable_day, hour).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def alerts(appointment_id: int | None = None) -> list[tuple[str, str]]:
    qs = SmsMessage.objects.filter(kind=SmsKind.STAFF_ALERT).order_by("id")
    if appointment_id is not None:
        qs = qs.filter(appointment_id=appointment_id)
    return list(qs.values_list("to", "body"))


def test_flag_off_no_staff_sms(world, client_for, staff_phone):
    set_flag()
    pk = book(world, client_for)
    assert alerts() == []
    # The customer's messages are what they were before the feature.
    kinds = set(SmsMessage.objects.filter(appointment_id=pk).values_list("kind", flat=True))
    assert kinds == {SmsKind.CONFIRMATION, SmsKind.REMINDER}


def test_flag_missing_no_staff_sms(world, client_for, staff_phone):
    Flag.objects.filter(name=STAFF_BOOKING_SMS).delete()
    book(world, client_for)
    assert alerts() == []


def test_flag_on_for_the_salon_sends_the_staff_member_an_sms(world, client_for, staff_phone):
    set_flag().salons.add(world.salon)
    pk = book(world, client_for)
    [(to, body)] = alerts(pk)
    assert to == staff_phone
    assert body.startswith("New booking: Haircut on ")
    assert body.endswith(f"Ref #{pk}.")
    message = SmsMessage.objects.get(kind=SmsKind.STAFF_ALERT)
    assert (message.user_id, message.status) == (world.staff_user.pk, SmsStatus.PENDING)


def test_flag_on_for_another_salon_only(world, client_for, staff_phone):
    set_flag().salons.add(world.other_owner.owned_salons.get())
    book(world, client_for)
    assert alerts() == []


def test_flag_by_percentage_goes_by_salon(world, client_for, staff_phone):
    flag = set_flag(percent=Decimal("50.0"))
    salon_in = flag.bucket(f"salon:{world.salon.pk}") < Decimal("50.0")
    book(world, client_for)
    assert bool(alerts()) is salon_in


def test_staff_without_a_verified_phone_gets_nothing(world, client_for):
    set_flag(everyone=True)
    book(world, client_for)
    assert alerts() == []


def test_cancel_by_the_customer_alerts_the_staff_member(world, client_for, staff_phone):
    set_flag(everyone=True)
    pk = book(world, client_for)
    assert client_for(world.customer).post(f"/api/appointments/{pk}/cancel/").status_code == 200
    bodies = [body for _, body in alerts(pk)]
    assert len(bodies) == 2
    assert bodies[1].startswith("Cancelled: Haircut on ")


def test_changes_the_staff_member_makes_are_not_sent_to_them(world, client_for, staff_phone):
    set_flag(everyone=True)
    pk = book(world, client_for)
    staff = client_for(world.staff_user)
    moved = staff.post(
        f"/api/appointments/{pk}/reschedule/",
        {"starts_at": world.local(world.bookable_day, 12).isoformat()},
        format="json",
    )
    assert moved.status_code == 200
    assert staff.post(f"/api/appointments/{pk}/cancel/").status_code == 200
    assert [body.split(":")[0] for _, body in alerts(pk)] == ["New booking"]


def test_reschedule_to_another_staff_member_tells_both(world, client_for, staff_phone):
    other = StaffFactory(salon=world.salon)
    work_every_day(other)
    world.service.staff.add(other)
    verify_phone(other.user, "+4917000000002")
    set_flag(everyone=True)
    pk = book(world, client_for)

    moved = client_for(world.owner).post(
        f"/api/appointments/{pk}/reschedule/",
        {"starts_at": world.local(world.bookable_day, 14).isoformat(), "staff": other.pk},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    sent = alerts(pk)
    assert [(to, body.split(":")[0]) for to, body in sent] == [
        (STAFF_PHONE, "New booking"),
        (STAFF_PHONE, "Reassigned"),
        ("+4917000000002", "New booking"),
    ]
    assert "is no longer yours" in sent[1][1]


def test_reschedule_same_staff_member_says_moved(world, client_for, staff_phone):
    set_flag(everyone=True)
    pk = book(world, client_for)
    moved = client_for(world.customer).post(
        f"/api/appointments/{pk}/reschedule/",
        {"starts_at": world.local(world.bookable_day, 15).isoformat()},
        format="json",
    )
    assert moved.status_code == 200
    assert alerts(pk)[-1][1].startswith("Moved: Haircut from ")


def test_booking_works_when_redis_is_down(world, settings, staff_phone):
    """Flags read as off without the cache: the booking goes through, without the alert."""
    set_flag(everyone=True)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    appointment, created = appointment_services.appointment_book(
        customer=world.customer,
        salon=world.salon,
        service_id=world.service.pk,
        staff_id=world.staff.pk,
        starts_at=world.local(world.bookable_day, 10),
    )
    assert created
    assert alerts() == []
    assert SmsMessage.objects.filter(appointment=appointment, kind=SmsKind.CONFIRMATION).exists()


def test_worker_sends_the_staff_alert(transactional_db, world, client_for, stub_worker):
    """End to end: the flag is evaluated in the booking's transaction, the worker (no request)
    sends the message through the console backend after the commit."""
    verify_phone(world.staff_user)
    set_flag().salons.add(world.salon)
    book(world, client_for, hour=11)
    wait_until(
        lambda: SmsMessage.objects.filter(kind=SmsKind.STAFF_ALERT, status=SmsStatus.SENT).exists()
    )
    message = SmsMessage.objects.get(kind=SmsKind.STAFF_ALERT)
    assert message.to == STAFF_PHONE
    assert message.provider_sid.startswith("console-")
