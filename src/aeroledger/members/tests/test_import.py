import pytest
from django.core.management import CommandError, call_command

from aeroledger.members.imports import import_members
from aeroledger.members.models import Member
from aeroledger.tenancy.csvfiles import decode
from aeroledger.tenancy.testing import make_member, make_org

pytestmark = pytest.mark.django_db

GOOD = (
    "number;kind;first_name;last_name;company_name;street;house_number;postcode;city;country;email;language;invoice_to\n"
    "1;company;;;Aero Consult AG;Industriestrasse;12;5400;Baden;CH;info@aero.ch;de;\n"
    "2;person;Jürg;Müller;;Bahnhofstrasse;3;8001;Zürich;ch;jm@example.ch;DE;1\n"
    "3;person;Chloé;Favre;;Rue du Lac;9;1003;Lausanne;CH;;fr;\n"
)


def test_good_file_imports_all_rows_with_payer():
    org = make_org()
    plan = import_members(org, GOOD)
    assert plan.ok, plan.errors
    assert plan.commit() == 3
    jm = Member.objects.get(organisation=org, number="2")
    assert jm.first_name == "Jürg" and jm.country == "CH" and jm.language == "de"
    assert jm.invoice_to.company_name == "Aero Consult AG"


def test_windows_1252_and_commas():
    org = make_org()
    data = "number,first_name,last_name,city\n5,Jürg,Gärtner,Zürich\n".encode("cp1252")
    plan = import_members(org, decode(data))
    assert plan.ok, plan.errors
    plan.commit()
    assert Member.objects.get(number="5").last_name == "Gärtner"


def test_bad_rows_import_nothing_and_each_is_named():
    org = make_org()
    make_member(org, "100", last_name="Existing")
    bad = (
        "number;first_name;last_name;email;language;country;invoice_to;kind\n"
        "1;Anna;Ok;anna@example.ch;de;CH;;person\n"  # fine
        "2;Beat;;beat@example.ch;de;CH;;person\n"  # row 3: no last name
        "3;Cla;Bad;not-an-email;xx;Switzerland;;person\n"  # row 4: email, language, country
        "1;Dup;Dup;;de;CH;;person\n"  # row 5: duplicate number in file
        "4;Eva;Payer;;de;CH;999;person\n"  # row 6: unknown payer
        "5;;;;de;CH;;robot\n"  # row 7: kind
    )
    plan = import_members(org, bad)
    assert not plan.ok
    found = {(e.row, e.column) for e in plan.errors}
    assert (3, "last_name") in found
    assert {(4, "email"), (4, "language"), (4, "country")} <= found
    assert (5, "number") in found
    assert (6, "invoice_to") in found
    assert (7, "kind") in found
    assert 2 not in {e.row for e in plan.errors}
    with pytest.raises(ValueError):
        plan.commit()
    assert list(Member.objects.values_list("number", flat=True)) == ["100"]


def test_existing_number_is_updated_and_other_fields_kept():
    org = make_org()
    make_member(org, "100", first_name="Old", last_name="Name", city="Bern", email="old@example.ch")
    plan = import_members(org, "number;first_name\n100;New\n")
    assert plan.ok and not plan.rows[0].is_new
    plan.commit()
    member = Member.objects.get(number="100")
    assert (member.first_name, member.last_name, member.email) == ("New", "Name", "old@example.ch")


def test_file_level_errors():
    org = make_org()
    assert import_members(org, "").errors[0].row == 1
    assert "number" in import_members(org, "first_name;last_name\nA;B\n").errors[0].message
    assert "colour" in import_members(org, "number;colour\n1;red\n").errors[0].message


def test_command(tmp_path, capsys):
    org = make_org("club")
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    call_command("import_members", "--org", "club", str(good))
    assert "Imported 3 members" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("number;last_name;email\n9;X;nope\n10;;\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_members", "--org", "club", str(bad))
    err = capsys.readouterr().err
    assert "row 2, column email" in err and "row 3, column last_name" in err
    assert Member.objects.filter(organisation=org).count() == 3
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_members", "--org", "club", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="No organisation"):
        call_command("import_members", "--org", "nope", str(good))


def test_payer_chains_are_refused():
    org = make_org()
    plan = import_members(org, "number;last_name;invoice_to\n1;A;\n2;B;1\n3;C;2\n")
    # The chain 3 -> 2 -> 1 is refused at both ends, with the form's reasons.
    assert [(e.row, e.column) for e in plan.errors] == [(3, "invoice_to"), (4, "invoice_to")]
    assert "pays for others" in plan.errors[0].message
    assert "someone else paying" in plan.errors[1].message


def test_a_member_who_pays_for_others_gets_no_payer_as_in_the_form():
    """Issue 13: the import let a payer get a payer of their own (the form refuses it)."""
    from aeroledger.members.forms import MemberForm

    org = make_org()
    payer = make_member(org, "1", last_name="Payer")
    make_member(org, "2", last_name="Child", invoice_to=payer)
    make_member(org, "3", last_name="Sponsor")
    plan = import_members(org, "number;last_name;invoice_to\n1;Payer;3\n")
    assert [(e.row, e.column) for e in plan.errors] == [(2, "invoice_to")]
    form = MemberForm(
        {"number": "1", "kind": "person", "last_name": "Payer", "country": "CH", "language": "de",
         "invoice_to": Member.objects.get(number="3").pk},
        instance=payer, organisation=org,
    )  # fmt: skip
    assert not form.is_valid()
    assert plan.errors[0].message == form.errors["invoice_to"][0]


def test_an_archived_member_cannot_pay():
    org = make_org()
    make_member(org, "9", last_name="Gone", is_active=False)
    plan = import_members(org, "number;last_name;invoice_to\n1;A;9\n")
    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (2, "invoice_to", "The paying member is archived.")
    ]


def test_choice_errors_list_the_allowed_values():
    org = make_org()
    plan = import_members(org, "number;last_name;language;kind\n1;A;deutsch;robot\n")
    messages = {e.column: e.message for e in plan.errors}
    assert messages["language"] == "'deutsch' is not one of de, fr, it, en."
    assert messages["kind"] == "'robot' is not one of person, company."
    assert str(plan.errors[1]) == "row 2, column language: 'deutsch' is not one of de, fr, it, en."


def test_empty_kind_country_language_cells_take_the_defaults_or_keep_the_value():
    org = make_org()
    make_member(org, "7", last_name="Keller", country="DE", language="fr")
    text = (
        "number;kind;first_name;last_name;city;country;language\n"
        "6;;Heidi;Meier;Chur;;\n"  # new member: person, CH, de
        "7;;;Keller;Basel;;\n"  # existing member: country and language stay
    )
    plan = import_members(org, text)
    assert plan.ok, plan.errors
    plan.commit()
    heidi = Member.objects.get(organisation=org, number="6")
    assert (heidi.kind, heidi.country, heidi.language) == ("person", "CH", "de")
    keller = Member.objects.get(organisation=org, number="7")
    assert (keller.country, keller.language, keller.city) == ("DE", "fr", "Basel")


def test_bulk_commit_saves_like_the_form_and_tells_listeners_of_updates():
    """The import writes in bulk; members it updates still send post_save (bexio contact sync)."""
    from django.db.models.signals import post_save

    org = make_org()
    payer = make_member(org, "1", last_name="Payer", country="DE")
    seen = []

    def listener(sender, instance, created, **kwargs):
        seen.append((instance.number, created))

    post_save.connect(listener, sender=Member)
    try:
        plan = import_members(org, "number;last_name;country;invoice_to\n1;Payer;ch;\n2;New;at;1\n")
        assert plan.ok, plan.errors
        assert plan.commit() == 2
    finally:
        post_save.disconnect(listener, sender=Member)
    assert seen == [("1", False)]
    new = Member.objects.get(organisation=org, number="2")
    assert (new.country, new.invoice_to_id, new.kind, new.language) == ("AT", payer.pk, "person", "de")
    payer.refresh_from_db()
    assert payer.country == "CH" and payer.updated_at > payer.created_at


# --- salutation, title, house number ------------------------------------------------------------


def test_salutation_takes_the_values_and_the_words_of_every_language():
    org = make_org()
    text = (
        "number;salutation;title;first_name;last_name;language\n"
        "1;Herr;Dr.;Hans;Keller;de\n"
        "2;Madame;;Claire;Favre;fr\n"
        "3;signora;;Giulia;Rossi;it\n"
        "4;Mr;Prof. Dr.;James;Smith;en\n"
        "5;ms;;Ursula;Meier;de\n"
        "6;Familie;;;Brunner;de\n"
        "7;;;Reto;Frei;de\n"
    )
    plan = import_members(org, text)
    assert plan.ok, plan.errors
    plan.commit()
    found = dict(Member.objects.filter(organisation=org).values_list("number", "salutation"))
    assert found == {"1": "mr", "2": "ms", "3": "ms", "4": "mr", "5": "ms", "6": "family", "7": ""}
    assert Member.objects.get(number="4").title == "Prof. Dr."
    assert Member.objects.get(number="1").letter_name() == "Herr Dr. Hans Keller"


def test_a_bad_salutation_lists_what_the_column_takes():
    org = make_org()
    plan = import_members(org, "number;last_name;salutation\n1;Keller;Sir\n")
    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (
            2,
            "salutation",
            "'Sir' is not one of mr, ms, family (Herr/Frau/Familie, Monsieur/Madame/Famille, "
            "Signor/Signora/Famiglia, Mr/Ms/Family).",
        )
    ]


def test_a_company_row_with_a_salutation_is_refused():
    org = make_org()
    plan = import_members(org, "number;kind;company_name;salutation\n1;company;Aero AG;Herr\n")
    assert [(e.row, e.column) for e in plan.errors] == [(2, "salutation")]


def test_house_number_column_and_the_number_taken_out_of_the_street():
    org = make_org()
    make_member(org, "3", last_name="Old", street="Dorf", house_number="1")
    text = (
        "number;last_name;street;house_number\n"
        "1;Keller;Seestrasse;12a\n"  # apart, as it should be
        "2;Favre;Rue du Lac 9;\n"  # the number in the street: split
        "3;Old;Dorfstrasse 3;\n"  # an update: the street's number replaces the old one
        "4;Meier;Postfach 45;\n"  # not a house number
    )
    plan = import_members(org, text)
    assert plan.ok, plan.errors
    plan.commit()
    rows = Member.objects.filter(organisation=org).values_list("number", "street", "house_number")
    assert sorted(rows) == [
        ("1", "Seestrasse", "12a"),
        ("2", "Rue du Lac", "9"),
        ("3", "Dorfstrasse", "3"),
        ("4", "Postfach 45", ""),
    ]


def test_an_update_without_a_street_column_moves_an_old_number_out_of_the_street():
    org = make_org()
    make_member(org, "3", last_name="Old", street="Dorfstrasse 3", house_number="")
    plan = import_members(org, "number;phone\n3;+41 44 000 00 00\n")
    assert plan.ok, plan.errors
    plan.commit()
    member = Member.objects.get(number="3")
    assert (member.street, member.house_number, member.phone) == ("Dorfstrasse", "3", "+41 44 000 00 00")
