"""JWT through django-allauth's headless "app" client: signup, refresh, logout revokes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from user.models import Role, User

BASE = "/_allauth/app/v1"


@pytest.mark.django_db
def test_signup_login_refresh_logout():
    client = APIClient()
    r = client.post(
        f"{BASE}/auth/signup",
        {"email": "New.Person@Example.com", "password": "a-long-pass-phrase-42"},
        format="json",
    )
    assert r.status_code == 200, r.content
    meta = r.json()["meta"]
    access, refresh = meta["access_token"], meta["refresh_token"]
    user = User.objects.get(email="new.person@example.com")
    assert user.role == Role.CUSTOMER
    assert not user.is_staff

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/me/").json()["email"] == "new.person@example.com"

    r = APIClient().post(f"{BASE}/tokens/refresh", {"refresh_token": refresh}, format="json")
    assert r.status_code == 200, r.content
    new_access = r.json()["data"]["access_token"]
    # Rotation: the old refresh token is spent.
    again = APIClient().post(f"{BASE}/tokens/refresh", {"refresh_token": refresh}, format="json")
    assert again.status_code == 400

    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {new_access}")
    assert fresh.get("/api/me/").status_code == 200

    # Logout ends the session; stateful validation makes its access tokens useless at once.
    r = fresh.delete(f"{BASE}/auth/session")
    assert r.status_code == 401  # allauth answers a finished session with 401
    assert fresh.get("/api/me/").status_code == 401


@pytest.mark.django_db
def test_bad_and_missing_tokens():
    client = APIClient()
    assert client.get("/api/me/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert client.get("/api/me/").status_code == 401
    r = APIClient().post(
        f"{BASE}/auth/signup", {"email": "x@example.com", "password": "1"}, format="json"
    )
    assert r.status_code == 400


def test_auth_endpoints_have_their_own_openapi_document(api_client):
    r = api_client.get("/_allauth/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert any(p.endswith("/auth/login") for p in paths)
