"""Members sort by name as a German phone book does, the same on SQLite and PostgreSQL."""

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from aeroledger.members.models import Member, fold_name, name_sort_key
from aeroledger.tenancy.testing import PASSWORD, make_member, make_org, make_staff

PHONE_BOOK = [
    "Bärtschi", "Brunner", "Egger", "Éggimann", "Mueller", "Müller", "Muster", "Musterli", "Zürcher",
]  # fmt: skip


def key(last, first="Anna", number="1", kind="person", company=""):
    return name_sort_key(kind=kind, first_name=first, last_name=last, company_name=company, number=number)


def test_fold_name_files_umlauts_as_the_phone_book():
    assert fold_name("Bärtschi") == "baertschi"
    assert fold_name("Müller-Straße") == "mueller strasse"
    assert fold_name("  Éggimann ") == "eggimann"


def test_keys_sort_in_phone_book_order():
    shuffled = sorted(PHONE_BOOK, key=lambda n: fold_name(n)[::-1])
    assert sorted(shuffled, key=lambda n: key(n).encode()) == PHONE_BOOK
    # Same spelling, first names decide; same folded name, the plain spelling first.
    assert key("Müller", "Anna") < key("Mueller", "Zoë")
    assert key("Mueller", "Anna") < key("Müller", "Anna")
    # Companies file by their name among the persons.
    assert key("", kind="company", company="Aero Consult AG") < key("Bärtschi")


def seed(org):
    for number, last in enumerate(reversed(PHONE_BOOK), start=1):
        make_member(org, str(number), last_name=last, first_name="Anna")


@pytest.mark.django_db
def test_the_member_list_sorts_by_name_with_umlauts(client):
    org = make_org("club")
    make_staff(org, "boss")
    seed(org)
    assert [m.last_name for m in Member.objects.filter(organisation=org)] == PHONE_BOOK
    client.login(username="boss", password=PASSWORD)
    page = client.get(reverse("members:list", args=["club"]))
    assert [m.last_name for m in page.context["page"]] == PHONE_BOOK


@pytest.mark.django_db
def test_save_keeps_the_key_up_to_date_also_with_update_fields():
    org = make_org("club")
    member = make_member(org, "7", last_name="Brunner")
    member.last_name = "Bärtschi"
    member.save(update_fields=["last_name"])
    member.refresh_from_db()
    assert member.sort_name == key("Bärtschi", number="7")


@pytest.mark.django_db
def test_the_migration_fills_the_keys_of_existing_members():
    from importlib import import_module

    migration = import_module("aeroledger.members.migrations.0002_member_sort_name")
    org = make_org("club")
    seed(org)
    Member.objects.update(sort_name="")
    migration.fill_sort_names(apps, SimpleNamespace(connection=connection))
    assert [m.last_name for m in Member.objects.filter(organisation=org)] == PHONE_BOOK


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_sorts_the_same_whatever_its_collation():
    org = make_org("club")
    seed(org)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'members_member' AND column_name = 'sort_name'"
        )
        assert cursor.fetchone()[0] == "C"
    assert [m.last_name for m in Member.objects.filter(organisation=org)] == PHONE_BOOK
