"""The member page: the address reads as the member's letters do ("Herr Dr. Hans Keller")."""

import re

import pytest
from django.urls import reverse

from aeroledger.tenancy.testing import PASSWORD, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(client):
    org = make_org("club")
    make_staff(org, "boss")
    assert client.login(username="boss", password=PASSWORD)
    return org


def address(client, member) -> str:
    html = client.get(reverse("members:detail", args=["club", member.pk])).text
    block = re.search(r"<address>(.*?)</address>", html, re.S).group(1)
    return " | ".join(" ".join(line.split()) for line in block.split("<br>") if line.strip())


def test_address_starts_with_salutation_title_and_name(client, org):
    keller = make_member(
        org, "1", salutation="mr", title="Dr.", first_name="Hans", last_name="Keller",
        street="Seestrasse", house_number="12", postcode="8800", city="Thalwil",
    )  # fmt: skip
    assert address(client, keller) == "Herr Dr. Hans Keller | Seestrasse 12 | 8800 Thalwil"


def test_address_speaks_the_members_language_not_the_readers(client, org):
    favre = make_member(org, "2", salutation="ms", first_name="Claire", last_name="Favre", language="fr")
    rossi = make_member(org, "3", salutation="mr", first_name="Marco", last_name="Rossi", language="it")
    assert address(client, favre).startswith("Madame Claire Favre |")
    assert address(client, rossi).startswith("Signor Marco Rossi |")


def test_without_salutation_and_for_companies_the_name_alone(client, org):
    plain = make_member(org, "4", first_name="Reto", last_name="Frei")
    company = make_member(org, "5", kind="company", company_name="Aero AG", first_name="", last_name="")
    assert address(client, plain).startswith("Reto Frei |")
    assert address(client, company).startswith("Aero AG |")
