import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from aeroledger.members.models import Member
from aeroledger.tenancy.testing import make_member, make_org

pytestmark = pytest.mark.django_db


def test_display_name_and_bill_to():
    org = make_org()
    company = make_member(org, "1", kind="company", company_name="Aero AG", first_name="", last_name="")
    pilot = make_member(org, "2", first_name="Reto", last_name="Keller", invoice_to=company)
    assert company.display_name == "Aero AG"
    assert pilot.display_name == "Reto Keller"
    assert pilot.bill_to == company
    assert company.bill_to == company


def test_number_unique_per_organisation_only():
    a, b = make_org("a"), make_org("b")
    make_member(a, "7")
    make_member(b, "7")
    with pytest.raises(IntegrityError):
        make_member(a, "7")


def test_clean_rejects_bad_country_and_foreign_payer():
    a, b = make_org("a"), make_org("b")
    other = make_member(b, "1")
    member = Member(organisation=a, number="2", last_name="X", country="Schweiz", invoice_to=other)
    with pytest.raises(ValidationError) as exc:
        member.full_clean()
    assert {"country", "invoice_to"} <= set(exc.value.message_dict)


def test_search_and_archive():
    org = make_org()
    anna = make_member(org, "10", first_name="Anna", last_name="Zürcher", city="Lugano")
    make_member(org, "11", first_name="Beat", last_name="Meier")
    assert list(Member.objects.filter(organisation=org).search("zürch")) == [anna]
    assert list(Member.objects.filter(organisation=org).search("lugano")) == [anna]
    anna.archive()
    assert list(Member.objects.filter(organisation=org).active().values_list("number", flat=True)) == ["11"]
