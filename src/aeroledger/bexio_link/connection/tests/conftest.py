"""Fixtures for the bexio connection: a sandbox of our own, an organisation with an admin, flows."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from aeroledger.bexio_link.connection.demo import script_bexio_login
from aeroledger.bexio_link.connection.models import BexioConnection
from aeroledger.tenancy.models import Membership, Organisation


@pytest.fixture
def bx(bexio_settings, settings):
    """The session's sandbox (root conftest), reset, with the bexio settings pointing at it."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return bexio_settings


def make_org(slug="club", *, bexio_option=True, name=None):
    return Organisation.objects.create(name=name or f"Club {slug}", slug=slug, bexio_option=bexio_option)


def make_staff(org, username, *, manage_settings=True, email=None):
    user = get_user_model().objects.create_user(
        username, email=email if email is not None else f"{username}@example.test", password="pw-123456"
    )
    Membership.objects.create(user=user, organisation=org, manage_settings=manage_settings)
    return user


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


@pytest.fixture
def org(db):
    return make_org("club")


@pytest.fixture
def admin(org):
    return make_staff(org, "admin")


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def page_url(org):
    return reverse("bexio_connection:authorisation", args=[org.slug])


def start_flow(client, org, optional=()):
    resp = client.post(reverse("bexio_connection:start", args=[org.slug]), {"scope": list(optional)})
    assert resp.status_code == 302, resp.status_code
    return resp["Location"]


def callback_query(auth_url, **kwargs) -> str:
    target = script_bexio_login(auth_url, **kwargs)
    return urlsplit(target).query


def connect(client, org, **kwargs):
    """Run the whole flow for `client` (logged in) and return the callback's response."""
    query = callback_query(start_flow(client, org, kwargs.pop("optional", ())), **kwargs)
    return client.get(reverse("bexio_callback") + "?" + query)


def query_params(auth_url):
    return {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}


def expire_access_token(org):
    BexioConnection.objects.filter(organisation=org).update(expires_at=timezone.now() - timedelta(minutes=5))


@pytest.fixture
def connected(bx, admin_client, org):
    resp = connect(admin_client, org)
    assert resp.status_code == 302
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.is_connected
    return conn
