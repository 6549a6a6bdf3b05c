"""Linking a member to a bexio contact in chromium: candidates, the changes, the tick, the link.

Set AEROLEDGER_SHOTS=<dir> to keep screenshots of each step at 1280 and 390 px.
"""

import io

import pytest

from aeroledger.bexio_link.connection.clients import client_for
from aeroledger.bexio_link.connection.demo import connect_demo
from aeroledger.bexio_link.masterdata.contacts import ensure_contact_group
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.bexio_link.masterdata.master import MasterData
from aeroledger.bexio_link.masterdata.models import ContactLink, InvoiceSettings, Kind
from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
from aeroledger.tenancy.testing import make_member, make_org, make_staff, shoot
from bexio.models import ContactCreate

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_link_a_member_to_a_candidate_in_a_browser(
    transactional_db, bexio_settings, live_server, browser_page, log_in
):
    org = make_org("linkclub", bexio=True, name="Aero Club Link", currency="CHF")
    make_staff(org, "chief")
    assert connect_demo(org, io.StringIO())
    client = client_for(org)
    refresh_master_data(org, client)
    user = MasterData(org).all(Kind.USER)[0]
    InvoiceSettings.objects.create(organisation=org, user=user)
    ensure_contact_group(client, mapping_for(org))
    member = make_member(org, "42", first_name="Berta", last_name="Beispiel", city="Bern",
                         email="berta@example.ch")  # fmt: skip
    # A customer contact with Berta's e-mail, outside the members' contact group; and the club's
    # own address contact, which must not be offered.
    owner = {"user_id": user.bexio_id, "owner_id": user.bexio_id}
    customer = client.contacts.create(
        ContactCreate(
            contact_type_id=2, name_1="Beispiel-Meier", mail="berta@example.ch", city="Thun", **owner
        )
    )
    own = client.contacts.create(
        ContactCreate(contact_type_id=1, name_1="Aero Club Link", city="Kloten", **owner)
    )
    page = browser_page
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    log_in("chief", org)
    page.goto(live_server.url + f"/o/{org.slug}/invoicing/bexio/contacts/")
    shoot(page, "contacts")
    page.locator(f"#unlinked-{member.pk}").get_by_role("button", name="Link to an existing contact…").click()
    page.wait_for_selector("#candidates")
    assert page.locator(f"#candidate-{customer.id}").count() == 1
    assert page.locator(f"#candidate-{own.id}").count() == 0
    assert "not in our contact group" in page.inner_text(f"#candidate-{customer.id}")
    shoot(page, "contact-link-candidates")
    page.locator(f"#candidate-{customer.id}").get_by_role("button", name="Review changes").click()
    page.wait_for_selector("#preview")
    changes = page.inner_text("#changes")
    assert "Thun" in changes and "Bern" in changes and "Beispiel-Meier" in changes
    assert "not in the contact group" in page.inner_text("#outside-group")
    shoot(page, "contact-link-preview")
    # Without the tick the browser does not send the form (required); with it, the link is made.
    page.get_by_role("button", name="Link and overwrite").click()
    assert not ContactLink.objects.filter(member=member).exists()
    page.check("input[name=outside_group_ok]")
    page.get_by_role("button", name="Link and overwrite").click()
    page.wait_for_url("**/bexio/contacts/")
    assert "is now linked to bexio contact" in page.content()
    assert ContactLink.objects.get(member=member).bexio_id == customer.id
    assert client.contacts.get(customer.id).city == "Bern"
    assert client.contacts.get(own.id).city == "Kloten"
    shoot(page, "contacts-linked")
    assert not [p for p in problems if "Content Security Policy" in p], problems
