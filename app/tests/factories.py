from __future__ import annotations

from datetime import time
from decimal import Decimal

import factory
from address.models import Address
from django.utils import timezone
from salon.models import OpeningHours, Salon, Service, StaffMember, WorkingHours
from user.models import Role, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Test"
    role = Role.CUSTOMER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class VerifiedCustomerFactory(UserFactory):
    phone = factory.Sequence(lambda n: f"+4915{n:09d}"[:14])
    phone_verified_at = factory.LazyFunction(timezone.now)


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    line1 = "Torstraße 1"
    city = "Berlin"
    postal_code = "10119"
    country = "DE"


class SalonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Salon

    name = factory.Sequence(lambda n: f"Salon {n}")
    owner = factory.SubFactory(UserFactory, role=Role.OWNER)
    address = factory.SubFactory(AddressFactory)
    timezone = "Europe/Berlin"
    slot_interval_minutes = 15
    lead_time_minutes = 60
    booking_horizon_days = 60
    cancellation_window_minutes = 24 * 60


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    salon = factory.SubFactory(SalonFactory)
    user = factory.SubFactory(UserFactory, role=Role.STAFF, is_staff=True)
    display_name = factory.Sequence(lambda n: f"Stylist {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        skip_postgeneration_save = True

    salon = factory.SubFactory(SalonFactory)
    name = "Haircut"
    duration_minutes = 30
    buffer_minutes = 10
    price = Decimal("35.00")

    @factory.post_generation
    def staff(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.staff.set(extracted)


def open_every_day(salon: Salon, opens: time = time(9), closes: time = time(17)) -> None:
    OpeningHours.objects.bulk_create(
        OpeningHours(salon=salon, weekday=d, opens=opens, closes=closes) for d in range(7)
    )


def work_every_day(staff: StaffMember, starts: time = time(9), ends: time = time(17)) -> None:
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=staff, weekday=d, starts=starts, ends=ends) for d in range(7)
    )
