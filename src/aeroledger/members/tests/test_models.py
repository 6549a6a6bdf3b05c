import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from aeroledger.members.models import Member, parse_salutation, salutation_word, split_street
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


# --- salutation, title, house number ------------------------------------------------------------


def test_letter_name_has_salutation_and_title_in_the_members_language():
    org = make_org()
    keller = make_member(org, "1", salutation="mr", title="Dr.", first_name="Hans", last_name="Keller")
    favre = make_member(org, "2", salutation="ms", first_name="Claire", last_name="Favre", language="fr")
    rossi = make_member(org, "3", salutation="family", first_name="Marco", last_name="Rossi", language="it")
    plain = make_member(org, "4", first_name="Reto", last_name="Frei")
    assert keller.letter_name() == "Herr Dr. Hans Keller"
    assert keller.letter_name("en") == "Mr Dr. Hans Keller"
    assert favre.letter_name() == "Madame Claire Favre"
    assert rossi.letter_name() == "Famiglia Marco Rossi"
    assert plain.letter_name() == "Reto Frei"


def test_company_letter_name_is_its_name_and_it_takes_no_salutation_nor_title():
    org = make_org()
    company = Member(
        organisation=org, number="9", kind="company", company_name="Aero AG", salutation="mr", title="Dr."
    )
    assert company.letter_name() == "Aero AG"
    with pytest.raises(ValidationError) as exc:
        company.full_clean()
    assert {"salutation", "title"} <= set(exc.value.message_dict)


def test_house_number_in_the_street_is_refused_with_the_split_suggested():
    org = make_org()
    member = Member(organisation=org, number="5", last_name="Keller", street="Seestrasse 12a")
    with pytest.raises(ValidationError) as exc:
        member.full_clean()
    assert exc.value.message_dict["street"] == [
        "Put the house number in its own field: street “Seestrasse”, house number “12a”."
    ]
    member.street, member.house_number = "Seestrasse", "12a"
    member.full_clean()
    # a number in both fields is the person's choice; a PO box is no street with a number
    Member(organisation=org, number="6", last_name="A", street="Route 66", house_number="3").full_clean()
    Member(organisation=org, number="7", last_name="B", street="Postfach 123").full_clean()


@pytest.mark.parametrize(
    ("street", "parts"),
    [
        ("Seestrasse 12", ("Seestrasse", "12")),
        ("Seestrasse 12 a", ("Seestrasse", "12a")),
        ("Avenue de la Gare 12bis", ("Avenue de la Gare", "12bis")),
        ("Via Nassa 5-7", ("Via Nassa", "5-7")),
        ("12 rue du Lac", ("rue du Lac", "12")),
        ("12, Rue du Lac", ("Rue du Lac", "12")),
        ("Bahnhofstrasse", None),
        ("Rue du 1er-Mars", None),
        ("Case postale 45", None),
        ("", None),
    ],
)
def test_split_street(street, parts):
    assert split_street(street) == parts


def test_salutation_words_in_every_language():
    assert [parse_salutation(w) for w in ("Herr", "frau", "MONSIEUR", "Madame", "Signor", "signora")] == [
        "mr", "ms", "mr", "ms", "mr", "ms"
    ]  # fmt: skip
    assert [parse_salutation(w) for w in ("Mr", "Mrs.", "Ms", "Familie", "famille", "mr", "family")] == [
        "mr", "ms", "ms", "family", "family", "mr", "family"
    ]  # fmt: skip
    assert parse_salutation("  ") == ""
    assert parse_salutation("Sir") is None
    assert parse_salutation("Herr & Frau") is None
    assert salutation_word("ms", "it") == "Signora" and salutation_word("", "de") == ""
