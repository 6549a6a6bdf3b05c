"""Refusals explain themselves, and the menu offers only what the user may open."""

import pytest
from django.urls import reverse

from aeroledger.tenancy.testing import PASSWORD, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return make_org("club", bexio=True)


def test_menu_hides_authorisation_from_staff_without_manage_settings(client, org):
    make_staff(org, "clerk", perms=("invoicing",))
    client.login(username="clerk", password=PASSWORD)
    page = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert reverse("bexio_connection:authorisation", args=[org.slug]) not in page
    assert reverse("bexio_masterdata:mapping", args=[org.slug]) in page


def test_menu_shows_authorisation_to_settings_managers(client, org):
    make_staff(org, "boss")
    client.login(username="boss", password=PASSWORD)
    page = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert reverse("bexio_connection:authorisation", args=[org.slug]) in page


def test_403_names_the_missing_permission_in_the_users_language(client, org):
    make_staff(org, "leser", perms=(), language="de")
    client.login(username="leser", password=PASSWORD)
    response = client.get(reverse("bexio_connection:authorisation", args=[org.slug]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Keine Berechtigung" in page
    assert "Einstellungen verwalten" in page  # "Manage settings" in German
    assert org.name in page  # the page keeps the organisation's menu


def test_404_for_another_organisation_gives_no_hint(client, org):
    other = make_org("other")
    make_staff(org, "boss")
    client.login(username="boss", password=PASSWORD)
    response = client.get(reverse("members:list", args=[other.slug]))
    assert response.status_code == 404
    assert other.name not in response.content.decode()
