"""Salutations and titles: bexio's imported as master data, matched by name, sent with the contact.

The first part matches against records made here (no HTTP); the second runs against the sandbox.
"""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from aeroledger.members.models import Member
from aeroledger.tenancy.models import Membership
from bexio.models import ContactCreate, TitleCreate

from ..contact_sync import contact_warnings, sync_contacts
from ..contacts import contact_fields, ensure_contact
from ..mapping import mapping_for
from ..models import BexioRecord, ContactLink, Kind, MasterDataRefresh
from ..refresh import refresh_master_data
from .conftest import Log, member

pytestmark = pytest.mark.django_db


def records(org, kind, *rows):
    for bexio_id, name, *active in rows:
        BexioRecord.objects.create(
            organisation=org, kind=kind, bexio_id=bexio_id, name=name, data={"id": bexio_id, "name": name},
            is_active=not active,
        )  # fmt: skip


def person(salutation="", title="", language="de", kind="person"):
    return Member(kind=kind, salutation=salutation, title=title, language=language, last_name="Keller")


# --- matching (no HTTP) -------------------------------------------------------------------------


@pytest.fixture
def known(org):
    """A bexio account with German salutations, one French in capitals, an inactive Madame."""
    records(org, Kind.SALUTATION, (1, "Herr"), (2, "Frau"), (4, "Herr & Frau"), (7, "MONSIEUR"))
    records(org, Kind.SALUTATION, (8, "Madame", "inactive"))
    records(org, Kind.TITLE, (1, "Dr."), (2, "Prof."), (5, "Prof. Dr."))
    return mapping_for(org)


def test_salutation_by_name_in_the_members_language_then_german(known):
    assert known.salutation_id(person("mr")) == 1
    assert known.salutation_id(person("mr", language="fr")) == 7  # their own language first, any case
    assert known.salutation_id(person("ms", language="fr")) == 2  # Madame is inactive: German Frau
    assert known.salutation_id(person("ms", language="it")) == 2
    assert known.salutation_id(person("mr", language="en")) == 1
    assert known.salutation_id(person("family")) is None  # bexio has no Familie here
    assert known.salutation_id(person("")) is None
    assert known.salutation_id(person("mr", kind="company")) is None


def test_title_by_name_spaces_and_case_ignored(known):
    assert known.title_id(person(title="Dr.")) == 1
    assert known.title_id(person(title=" prof.  DR. ")) == 5
    assert known.title_id(person(title="Dr")) is None  # no dot: another name
    assert known.title_id(person(title="Dr. med.")) is None
    assert known.title_id(person(title="")) is None
    assert known.title_id(person(title="Dr.", kind="company")) is None


def test_contact_fields_carry_what_bexio_knows_and_leave_out_the_rest(org, known):
    fields = contact_fields(person("mr", "Prof. Dr."), known)
    assert (fields["salutation_id"], fields["title_id"]) == (1, 5)
    unknown = contact_fields(person("family", "Dr. med."), known)
    assert "salutation_id" not in unknown and "title_id" not in unknown  # bexio keeps its own
    assert "salutation_id" not in contact_fields(person("mr", kind="company"), known)


def test_warnings_name_each_unknown_title_and_salutation_once_with_how_many(org, known):
    for number, title in ((1, "Prof."), (2, "Dr. med."), (3, "dr.  MED."), (4, " Dr. med. "), (5, "Dr.")):
        member(org, number, title=title, salutation="mr")
    member(org, 6, salutation="family")
    member(org, 7, salutation="family", language="fr")
    member(org, 8, title="Dr. med.", is_active=False)  # archived: not sent, not counted
    assert contact_warnings(mapping_for(org)) == [
        "2 members have the salutation “Family”, which bexio does not know: add it in bexio under "
        "Settings > Contacts > Salutations, then refresh the master data.",
        "3 members have the title “Dr. med.”, which bexio does not know: add it in bexio under "
        "Settings > Contacts > Titles, then refresh the master data.",
    ]


def test_before_salutations_are_imported_one_warning_says_refresh(org):
    records(org, Kind.COUNTRY, (1, "Schweiz"))
    MasterDataRefresh.objects.create(organisation=org, ok=True, summary={Kind.COUNTRY: {"created": 1}})
    member(org, 1, salutation="mr", title="Dr.")
    (warning,) = contact_warnings(mapping_for(org))
    assert "have not been imported yet" in warning
    # imported, and this bexio has none: each is named
    MasterDataRefresh.objects.create(
        organisation=org, ok=True, summary={Kind.SALUTATION: {"created": 0}, Kind.TITLE: {"created": 0}}
    )
    assert len(contact_warnings(mapping_for(org))) == 2
    Member.objects.update(salutation="", title="")
    assert contact_warnings(mapping_for(org)) == []


# --- against the sandbox ------------------------------------------------------------------------


def test_refresh_imports_bexios_salutations_and_titles(org, bx):
    run = refresh_master_data(org, bx)
    assert run.summary[Kind.SALUTATION]["created"] == 4 and run.summary[Kind.TITLE]["created"] == 3
    master = mapping_for(org).master
    assert {r.name: r.bexio_id for r in master.all(Kind.SALUTATION)} == {
        "Herr": 1, "Frau": 2, "Familie": 3, "Herr & Frau": 4
    }  # fmt: skip
    assert sorted(r.name for r in master.all(Kind.TITLE)) == ["Dr.", "Dr. med.", "Prof."]


def test_new_contacts_carry_salutation_and_title(org, bx, ready):
    keller = member(org, 1, salutation="mr", title="Dr.")
    favre = member(org, 2, salutation="ms", title="Dr. med.", language="fr")
    brunner = member(org, 3, salutation="family")
    plain = member(org, 4)
    one = bx.contacts.get(ensure_contact(bx, keller))
    assert (one.salutation_id, one.title_id) == (1, 1)
    report = sync_contacts(org, bx)  # the others through the bulk create
    assert report.summary()["created"] == 3 and not report.errors
    contact = {
        m.number: bx.contacts.get(ContactLink.objects.get(member=m).bexio_id) for m in (favre, brunner, plain)
    }
    assert (contact["2"].salutation_id, contact["2"].title_id) == (2, 3)
    assert (contact["3"].salutation_id, contact["3"].title_id) == (3, None)
    assert (contact["4"].salutation_id, contact["4"].title_id) == (None, None)


def test_linked_contacts_get_the_salutation_at_the_next_sync_one_edit_each(org, bx, ready, sb):
    """After the update: contacts linked before (their hash without salutation) get it once."""
    with_salutation = [member(org, n, salutation="ms" if n % 2 else "mr") for n in range(1, 4)]
    without = [member(org, n) for n in range(4, 6)]
    # The contacts as the version before sent them: bexio's salutations unknown here.
    BexioRecord.objects.filter(organisation=org, kind__in=[Kind.SALUTATION, Kind.TITLE]).delete()
    assert sync_contacts(org, bx).summary()["created"] == 5
    ids = {m.number: ContactLink.objects.get(member=m).bexio_id for m in with_salutation + without}
    assert {bx.contacts.get(i).salutation_id for i in ids.values()} == {None}

    refresh_master_data(org, bx)  # now they are known
    log = Log(sb)
    report = sync_contacts(org, bx)
    assert report.summary()["updated"] == 3 and report.summary()["unchanged"] == 2
    edited = sorted(w["path"] for w in log.writes())
    assert edited == sorted(f"/2.0/contact/{ids[m.number]}" for m in with_salutation)
    assert [bx.contacts.get(ids[m.number]).salutation_id for m in with_salutation] == [2, 1, 2]
    assert bx.contacts.get(ids["4"]).salutation_id is None

    log.mark()
    assert sync_contacts(org, bx).summary()["unchanged"] == 5
    assert log.entries() == []  # in step: not even a read


def test_adding_a_salutation_to_a_linked_member_is_one_outbox_write(
    org, bx, ready, sb, django_capture_on_commit_callbacks, use_client
):
    from aeroledger.bexio_link.transfer.models import ItemKind, OutboxItem
    from aeroledger.bexio_link.transfer.outbox.worker import run_outbox

    from .test_signals import connect

    keller = member(org, 21)
    contact_id = ensure_contact(bx, keller)
    connect(org)
    use_client(bx)
    log = Log(sb)
    with django_capture_on_commit_callbacks(execute=False):
        keller.salutation, keller.title = "mr", "Prof."
        keller.save()
    assert OutboxItem.objects.filter(kind=ItemKind.CONTACT, status="pending").count() == 1
    run_outbox(org_ids=[org.pk], concurrency=1)
    assert [(w["method"], w["path"]) for w in log.writes()] == [("POST", f"/2.0/contact/{contact_id}")]
    contact = bx.contacts.get(contact_id)
    assert (contact.salutation_id, contact.title_id) == (1, 2)


def test_unknown_title_syncs_without_it_until_bexio_has_it(org, bx, ready, sb):
    created = bx.contacts.create(
        ContactCreate(contact_type_id=2, name_1="Muster7", nr="7", title_id=1, user_id=1, owner_id=1)
    )
    pilot = member(org, 7, salutation="mr", title="Prof. Dr.", city="Grenchen")
    assert ensure_contact(bx, pilot) == created.id  # matched by number
    contact = bx.contacts.get(created.id)
    assert (contact.salutation_id, contact.title_id, contact.city) == (1, 1, "Grenchen")  # bexio's title kept
    assert any("“Prof. Dr.”" in w for w in contact_warnings(mapping_for(org)))

    new_title = bx.titles.create(TitleCreate(name="Prof. Dr."))
    refresh_master_data(org, bx)
    assert contact_warnings(mapping_for(org)) == []
    log = Log(sb)
    report = sync_contacts(org, bx)
    assert report.summary()["updated"] == 1
    assert [w["path"] for w in log.writes()] == [f"/2.0/contact/{created.id}"]
    assert bx.contacts.get(created.id).title_id == new_title.id


def test_mapping_page_lists_the_unknown_title_once(client, org, bx, ready):
    refresh_master_data(org, bx)
    for number in (1, 2, 3):
        member(org, number, title="Prof. Dr.")
    user = get_user_model().objects.create_user("admin", password="pw")
    Membership.objects.create(user=user, organisation=org, manage_settings=True)
    client.force_login(user)
    page = client.get(reverse("bexio_masterdata:mapping", args=[org.slug])).content.decode()
    assert page.count("3 members have the title “Prof. Dr.”, which bexio does not know") == 1
    # a warning, not a blocker: the transfers are not blocked by it
    assert 'id="contact-warnings"' in page and 'id="problems"' not in page
