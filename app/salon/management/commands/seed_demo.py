"""Demo data for local runs. Idempotent: running it again changes nothing.

Accounts (password from DEMO_PASSWORD, default "demo-password-123"):
admin@example.com (platform admin), owner@example.com (owner of "Demo Salon Berlin"),
anna@example.com and ben@example.com (staff), customer@example.com (verified phone).
"""

from __future__ import annotations

import os
from datetime import time
from decimal import Decimal

from address.models import Address
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from user.models import Role, User

from salon.models import OpeningHours, Salon, Service, StaffMember, WorkingHours


def _user(email: str, password: str, **fields) -> User:
    user, created = User.objects.get_or_create(email=email, defaults=fields)
    if created:
        user.set_password(password)
        user.save()
    return user


class Command(BaseCommand):
    help = "Create demo users, a salon with staff, hours and services (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD", "demo-password-123")
        _user("admin@example.com", password, role=Role.ADMIN, is_staff=True, is_superuser=True)
        owner = _user(
            "owner@example.com", password, role=Role.OWNER, is_staff=True, first_name="Olga"
        )
        anna = _user(
            "anna@example.com", password, role=Role.STAFF, is_staff=True, first_name="Anna"
        )
        ben = _user("ben@example.com", password, role=Role.STAFF, is_staff=True, first_name="Ben")
        _user(
            "customer@example.com",
            password,
            first_name="Carla",
            phone="+4915112345678",
            phone_verified_at=timezone.now(),
        )

        salon = Salon.objects.filter(name="Demo Salon Berlin", owner=owner).first()
        if salon is None:
            address = Address.objects.create(
                line1="Torstraße 1", city="Berlin", postal_code="10119", country="DE"
            )
            salon = Salon.objects.create(
                name="Demo Salon Berlin",
                owner=owner,
                address=address,
                timezone="Europe/Berlin",
                phone="+493012345678",
            )
        for weekday in range(6):  # Monday to Saturday
            OpeningHours.objects.get_or_create(
                salon=salon, weekday=weekday, defaults={"opens": time(9), "closes": time(18)}
            )

        staff = []
        for user, name, start, end in ((anna, "Anna", 9, 17), (ben, "Ben", 10, 18)):
            member, _ = StaffMember.objects.get_or_create(
                salon=salon, user=user, defaults={"display_name": name}
            )
            for weekday in range(6):
                WorkingHours.objects.get_or_create(
                    staff=member,
                    weekday=weekday,
                    defaults={"starts": time(start), "ends": time(end)},
                )
            staff.append(member)

        for name, minutes, buffer, price in (
            ("Haircut", 30, 10, Decimal("35.00")),
            ("Colour", 90, 15, Decimal("80.00")),
        ):
            service, _ = Service.objects.get_or_create(
                salon=salon,
                name=name,
                defaults={"duration_minutes": minutes, "buffer_minutes": buffer, "price": price},
            )
            service.staff.add(*staff)

        self.stdout.write(
            f"Demo data ready: salon {salon.pk} ({salon.name}), "
            f"services {list(salon.services.values_list('pk', flat=True))}, "
            f"staff {[m.pk for m in staff]}."
        )
