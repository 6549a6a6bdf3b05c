"""Members -> bexio contacts, counted in the sandbox's request log."""

import pytest

from aeroledger.members.models import Member
from bexio.models import ContactCreate

from ..contact_sync import sync_contacts
from ..contacts import ContactConflict, ensure_contact
from ..linking import link_by_hand
from ..models import ContactLink, LinkState
from .conftest import Log, member

pytestmark = pytest.mark.django_db


def bexio_contacts(bx):
    return list(bx.contacts.iter())


def test_first_sync_of_500_creates_500_and_nothing_else(org, bx, ready, sb):
    Member.objects.bulk_create(
        [
            Member(organisation=org, number=str(1000 + i), first_name="Pia", last_name=f"Pilot{i}",
                   street="Flugplatzstrasse", house_number=str(i), postcode="8302", city="Kloten",
                   country="CH", email=f"pilot{i}@example.ch", language="de")
            for i in range(500)
        ]
    )  # fmt: skip
    before = len(bexio_contacts(bx))
    log = Log(sb)
    report = sync_contacts(org, bx)
    assert report.summary()["created"] == 500 and not report.errors and not report.conflicts
    writes = log.writes()
    assert {(w["method"], w["path"]) for w in writes} == {("POST", "/2.0/contact/_bulk_create")}
    assert len(writes) == 5  # chunks of 100
    contacts = bexio_contacts(bx)
    assert len(contacts) == before + 500
    assert ContactLink.objects.filter(organisation=org, bexio_id__isnull=False).count() == 500
    one = next(c for c in contacts if c.nr == "1007")
    assert (one.name_1, one.name_2, one.street_name, one.house_number, one.city) == (
        "Pilot7", "Pia", "Flugplatzstrasse", "7", "Kloten"
    )  # fmt: skip
    assert ready.contact_group.bexio_id in one.contact_group_ids

    # second sync: nothing changed, no request at all
    log.mark()
    report = sync_contacts(org, bx)
    assert report.summary()["unchanged"] == 500
    assert log.writes() == [] and log.entries() == []

    # an edit makes exactly one write
    pilot = Member.objects.get(organisation=org, number="1042")
    pilot.city = "Bülach"
    pilot.save()
    log.mark()
    report = sync_contacts(org, bx)
    assert report.summary()["updated"] == 1
    writes = log.writes()
    link = ContactLink.objects.get(member=pilot)
    assert [(w["method"], w["path"]) for w in writes] == [("POST", f"/2.0/contact/{link.bexio_id}")]
    assert bx.contacts.get(link.bexio_id).city == "Bülach"


def test_ensure_contact_creates_then_costs_nothing(org, bx, ready, sb):
    m = member(org, 7)
    log = Log(sb)
    contact_id = ensure_contact(bx, m)
    assert [w["path"] for w in log.writes()] == ["/2.0/contact"]
    log.mark()
    assert ensure_contact(bx, m) == contact_id
    assert log.entries() == []


def test_member_edited_twice_makes_two_edits_not_a_new_contact(org, bx, ready, sb):
    m = member(org, 8)
    contact_id = ensure_contact(bx, m)
    count = len(bexio_contacts(bx))
    log = Log(sb)
    m.phone = "+41 44 000 00 01"
    m.save()
    assert ensure_contact(bx, m) == contact_id
    m.phone = "+41 44 000 00 02"
    m.save()
    assert ensure_contact(bx, m) == contact_id
    assert [(w["method"], w["path"]) for w in log.writes()] == [("POST", f"/2.0/contact/{contact_id}")] * 2
    assert len(bexio_contacts(bx)) == count
    assert bx.contacts.get(contact_id).phone_fixed == "+41 44 000 00 02"


def _existing(bx, ready, **kw):
    body = {"contact_type_id": 2, "name_1": "Vorhanden", "user_id": ready.user.bexio_id,
            "owner_id": ready.user.bexio_id, **kw}  # fmt: skip
    return bx.contacts.create(ContactCreate(**body))


def test_existing_contact_with_same_email_is_matched_not_duplicated(org, bx, ready, sb):
    existing = _existing(bx, ready, mail="m9@example.ch", remarks="kept")
    m = member(org, 9)
    count = len(bexio_contacts(bx))
    report = sync_contacts(org, bx)
    assert report.summary()["matched"] == 1 and report.summary()["created"] == 0
    assert len(bexio_contacts(bx)) == count
    link = ContactLink.objects.get(member=m)
    assert (link.bexio_id, link.matched_by) == (existing.id, "mail")
    contact = bx.contacts.get(existing.id)
    assert contact.name_1 == "Muster9"  # owned fields overwritten
    assert contact.remarks == "kept"  # the others left alone
    # ensure_contact finds the same (single member path, by search)
    m2 = member(org, 10)
    other = _existing(bx, ready, mail="m10@example.ch")
    assert ensure_contact(bx, m2) == other.id


def test_existing_contact_with_member_number_is_matched(org, bx, ready):
    existing = _existing(bx, ready, nr="11", mail="someone-else@example.ch")
    m = member(org, 11)
    assert ensure_contact(bx, m) == existing.id
    assert ContactLink.objects.get(member=m).matched_by == "nr"


def test_several_matches_are_left_for_a_person(org, bx, ready, sb):
    a = _existing(bx, ready, mail="m12@example.ch", name_1="Eins")
    _existing(bx, ready, mail="m12@example.ch", name_1="Zwei")
    m = member(org, 12)
    count = len(bexio_contacts(bx))
    report = sync_contacts(org, bx)
    assert report.summary()["conflicts"] == 1 and report.summary()["created"] == 0
    link = ContactLink.objects.get(member=m)
    assert link.state == LinkState.CONFLICT and len(link.candidates) == 2
    with pytest.raises(ContactConflict):
        ensure_contact(bx, m)
    assert len(bexio_contacts(bx)) == count
    # a person links one: then it is kept and updated
    link_by_hand(m, a.id, bx)
    assert ensure_contact(bx, m) == a.id
    assert len(bexio_contacts(bx)) == count


def test_archived_members_are_not_synced_nor_deleted(org, bx, ready, sb):
    m = member(org, 13)
    contact_id = ensure_contact(bx, m)
    m.archive()
    log = Log(sb)
    sync_contacts(org, bx)
    assert log.writes() == []
    assert bx.contacts.get(contact_id).id == contact_id


def test_payer_gets_the_contact(org, bx, ready):
    parent = member(org, 14, first_name="Vater")
    child = member(org, 15, invoice_to=None)
    child.invoice_to = parent
    child.save()
    contact_id = ensure_contact(bx, child.bill_to)
    assert ContactLink.objects.get(member=parent).bexio_id == contact_id
    assert not ContactLink.objects.filter(member=child).exists()


def test_dry_run_writes_nothing(org, bx, ready, sb):
    member(org, 16)
    log = Log(sb)
    report = sync_contacts(org, bx, dry_run=True)
    assert report.summary()["created"] == 1
    assert log.writes() == [] and not ContactLink.objects.exists()


def test_company_and_groups_set_in_bexio_are_kept(org, bx, ready):
    from bexio.models import ContactGroupCreate, ContactUpdate

    firm = member(org, 30, kind="company", company_name="Aero AG", first_name="", last_name="")
    contact_id = ensure_contact(bx, firm)
    contact = bx.contacts.get(contact_id)
    assert (contact.contact_type_id, contact.name_1) == (1, "Aero AG")
    other = bx.contact_groups.create(ContactGroupCreate(name="Sponsoren"))
    bx.contacts.update(contact_id, ContactUpdate(contact_group_ids=[*contact.contact_group_ids, other.id]))
    firm.city = "Olten"
    firm.save()
    ensure_contact(bx, firm)
    contact = bx.contacts.get(contact_id)
    assert contact.city == "Olten"
    assert set(contact.contact_group_ids) == {ready.contact_group.bexio_id, other.id}


def _many(org, n, start=500):
    Member.objects.bulk_create(
        [
            Member(organisation=org, number=str(start + i), last_name=f"Flieger{i}", street="Weg",
                   postcode="3000", city="Bern", country="CH", email=f"f{start + i}@example.ch")
            for i in range(n)
        ]
    )  # fmt: skip


def test_bulk_create_failing_after_bexio_saved_heals_without_duplicates(org, bx, ready, sb):
    _many(org, 150)
    before = len(bexio_contacts(bx))
    sb.fault(
        method="POST", path="^/2.0/contact/_bulk_create$", when="after_commit", effect="status:500", times=1
    )
    report = sync_contacts(org, bx)
    assert report.summary()["created"] == 50 and report.summary()["errors"] == 100
    assert len(bexio_contacts(bx)) == before + 150  # bexio saved the first chunk anyway
    report = sync_contacts(org, bx)
    assert report.summary()["matched"] == 100 and report.summary()["created"] == 0
    assert len(bexio_contacts(bx)) == before + 150
    assert ContactLink.objects.filter(organisation=org, bexio_id__isnull=False).count() == 150


def test_without_bulk_endpoint_contacts_are_created_one_by_one(org, bx, ready, sb):
    _many(org, 3)
    sb.fault(method="POST", path="^/2.0/contact/_bulk_create$", effect="status:404")
    report = sync_contacts(org, bx)
    assert report.summary()["created"] == 3


@pytest.mark.django_db(transaction=True)
def test_threads_reaching_the_same_new_member_create_one_contact(org, bx, ready, sb):
    """Transfer threads may ensure the same bill-to member at once: one contact, not several."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    m = member(org, 42)
    sb.settings(latency_ms=60)  # both searches would come back empty before either create lands
    log = Log(sb)

    def ensure(_):
        try:
            return ensure_contact(bx, Member.objects.get(pk=m.pk))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = set(pool.map(ensure, range(4)))

    assert len(ids) == 1
    assert [w["path"] for w in log.writes()] == ["/2.0/contact"]
