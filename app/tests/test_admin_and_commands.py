from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from salon.models import Salon, Service, StaffMember
from user.models import User


@pytest.fixture
def admin_client_for():
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


def test_owner_admin_sees_only_own_salon(world, admin_client_for):
    world.owner.is_staff = True
    world.owner.save()
    client = admin_client_for(world.owner)
    page = client.get("/admin/salon/salon/")
    assert page.status_code == 200
    assert world.salon.name in page.content.decode()
    other = Salon.objects.exclude(pk=world.salon.pk).first()
    assert other.name not in page.content.decode()
    assert client.get(f"/admin/salon/salon/{other.pk}/change/").status_code in (302, 403, 404)
    assert client.get(f"/admin/salon/service/{world.service.pk}/change/").status_code == 200
    # Users and the SMS log are for platform admins only.
    assert client.get("/admin/user/user/").status_code == 403
    assert client.get("/admin/notification/smsmessage/").status_code == 403


def test_staff_admin_can_view_not_change_salon(world, admin_client_for):
    client = admin_client_for(world.staff_user)
    assert client.get("/admin/salon/salon/").status_code == 200
    response = client.post(f"/admin/salon/salon/{world.salon.pk}/change/", {"name": "Hacked"})
    assert response.status_code in (200, 403)
    world.salon.refresh_from_db()
    assert world.salon.name != "Hacked"
    assert client.get("/admin/appointment/appointment/").status_code == 200


def test_platform_admin_sees_everything(world, admin_client_for):
    client = admin_client_for(world.admin)
    page = client.get("/admin/salon/salon/").content.decode()
    for salon in Salon.objects.all():
        assert salon.name in page


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    counts = (
        User.objects.count(),
        Salon.objects.count(),
        StaffMember.objects.count(),
        Service.objects.count(),
    )
    call_command("seed_demo")
    assert counts == (
        User.objects.count(),
        Salon.objects.count(),
        StaffMember.objects.count(),
        Service.objects.count(),
    )
    assert counts == (5, 1, 2, 2)
    customer = User.objects.get(email="customer@example.com")
    assert customer.phone_verified
