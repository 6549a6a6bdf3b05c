"""Issue 13, item 6: "Link" overwrote any bexio contact (even the company's own address contact)
with the member's data. Now only candidates (same number, e-mail or name) are offered, the changes
are shown field by field before anything is written, and a contact outside the organisation's
contact group is overwritten only when the person ticked that they know."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from aeroledger.tenancy.models import Membership
from bexio.models import ContactCreate

from ..models import ContactLink
from .conftest import Log, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(org):
    user = get_user_model().objects.create_user("admin", password="pw")
    Membership.objects.create(user=user, organisation=org, manage_settings=True, manage_members=True)
    return user


@pytest.fixture
def linking(client, org, admin, ready, bx, use_client):
    use_client(bx)
    client.force_login(admin)
    return client


def contact(bx, ready, name_1, *, nr=None, mail=None, name_2=None, city="Zürich", in_group=False):
    groups = [ready.contact_group.bexio_id] if in_group else []
    return bx.contacts.create(
        ContactCreate(contact_type_id=2, name_1=name_1, name_2=name_2, nr=nr, mail=mail, city=city,
                      user_id=ready.user.bexio_id, owner_id=ready.user.bexio_id, contact_group_ids=groups)
    )  # fmt: skip


def post(client, org, m, **data):
    return client.post(reverse("bexio_masterdata:contact_link", args=[org.slug, m.pk]), data)


def test_only_candidates_are_offered(linking, org, bx, ready):
    m = member(org, 7, first_name="Anna", last_name="Muster7", city="Bern")
    by_nr = contact(bx, ready, "Other", nr="7")
    by_mail = contact(bx, ready, "Else", mail="m7@example.ch")
    by_name = contact(bx, ready, "Muster7", name_2="Anna")
    unrelated = contact(bx, ready, "Firma AG", nr="999")
    page = post(linking, org, m)
    assert page.status_code == 200
    shown = [c.id for c in page.context["candidates"]]
    assert sorted(shown) == sorted([by_nr.id, by_mail.id, by_name.id])
    assert unrelated.id not in shown
    html = page.content.decode()
    assert f'id="candidate-{by_nr.id}"' in html and "not in our contact group" in html


def test_an_arbitrary_contact_such_as_the_company_address_is_refused(linking, org, bx, ready, sb):
    m = member(org, 8)
    company = contact(bx, ready, "Fluggruppe Test (own address)", city="Kloten")
    log = Log(sb)
    for data in ({"bexio_id": company.id}, {"bexio_id": company.id, "confirm": "1", "outside_group_ok": "1"}):
        response = post(linking, org, m, **data)
        assert response.status_code == 302
        messages = [str(x) for x in response.wsgi_request._messages]
        assert any("is not offered" in x for x in messages), messages
    assert log.writes() == []
    assert bx.contacts.get(company.id).city == "Kloten" and not ContactLink.objects.filter(member=m).exists()


def test_the_changes_are_shown_field_by_field_before_anything_is_written(linking, org, bx, ready, sb):
    m = member(org, 9, city="Bern", postcode="3000")
    target = contact(bx, ready, "Muster9", name_2="Anna", city="Zürich", mail="old@example.ch", in_group=True)
    log = Log(sb)
    page = post(linking, org, m, bexio_id=target.id)
    assert page.status_code == 200
    preview = page.context["preview"]
    changes = {label: (old, new) for label, old, new in preview.changes}
    assert changes["City"] == ("Zürich", "Bern")
    assert changes["E-mail"] == ("old@example.ch", "m9@example.ch")
    assert changes["Number (nr)"][1] == "9"
    assert preview.in_group and 'id="outside-group"' not in page.content.decode()
    assert log.writes() == []  # reviewing writes nothing
    done = post(linking, org, m, bexio_id=target.id, confirm="1")
    assert done.status_code == 302
    assert ContactLink.objects.get(member=m).bexio_id == target.id
    assert (bx.contacts.get(target.id).city, bx.contacts.get(target.id).nr) == ("Bern", "9")


def test_a_contact_outside_the_contact_group_needs_the_tick(linking, org, bx, ready):
    m = member(org, 10)
    outside = contact(bx, ready, "Other", nr="10", city="Basel")
    page = post(linking, org, m, bexio_id=outside.id)
    assert not page.context["preview"].in_group
    html = page.content.decode()
    assert 'id="outside-group"' in html and 'name="outside_group_ok"' in html
    refused = post(linking, org, m, bexio_id=outside.id, confirm="1")
    assert any("not in the contact group" in str(x) for x in refused.wsgi_request._messages)
    assert bx.contacts.get(outside.id).city == "Basel" and not ContactLink.objects.filter(member=m).exists()
    post(linking, org, m, bexio_id=outside.id, confirm="1", outside_group_ok="1")
    assert ContactLink.objects.get(member=m).bexio_id == outside.id
    assert bx.contacts.get(outside.id).city == "Zürich"


def test_a_contact_linked_to_another_member_is_no_candidate(linking, org, bx, ready):
    m, other = member(org, 11), member(org, 12)
    shared = contact(bx, ready, "Shared", nr="11", in_group=True)
    ContactLink.objects.create(organisation=org, member=other, bexio_id=shared.id)
    assert [c.id for c in post(linking, org, m).context["candidates"]] == []


def test_the_contacts_page_has_no_free_id_field(client, org, admin, ready):
    member(org, 13)
    client.force_login(admin)
    html = client.get(reverse("bexio_masterdata:contacts", args=[org.slug])).content.decode()
    assert 'name="bexio_id"' not in html and "Link to an existing contact…" in html
