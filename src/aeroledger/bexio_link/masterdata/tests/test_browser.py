"""Invoicing > Bexio > Mapping in chromium: refresh, map, see what blocks an invoice, fix it.

The organisation is connected to the bexio sandbox through the real code flow (connect_demo, the
consent pages scripted); everything after that is done by the admin in the browser. "Refresh from
bexio" is enqueued and run by a database worker (the `db_worker` of production, in batch mode)
while the page polls.
"""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django_tasks_db.management.commands.db_worker import Worker

from aeroledger.bexio_link.connection.demo import connect_demo
from aeroledger.bexio_link.masterdata.master import MasterData
from aeroledger.bexio_link.masterdata.models import BexioRecord, InvoiceSettings, Kind
from aeroledger.bexio_link.masterdata.views import row_specs
from aeroledger.billing.models import Invoice, InvoicePosition
from aeroledger.tenancy.testing import make_member, make_org, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _run_worker():
    """What `aeroledger db_worker --queue-name bexio` does, until the queue is empty."""
    Worker(
        queue_names=["bexio"],
        interval=0.2,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="browser-test-worker",
        excluded_queue_names=[],
    ).run()


def _open_mapping(page):
    nav = page.get_by_role("navigation", name="Main navigation")
    nav.get_by_role("link", name="Invoicing", exact=True).hover()
    nav.get_by_role("link", name="Bexio > Mapping").click()
    page.wait_for_url("**/bexio/mapping/")


def test_map_and_fix_a_blocked_invoice_in_a_browser(
    transactional_db, bexio_settings, live_server, browser_page, log_in
):
    org = make_org("aeroclub", bexio=True, name="Aero Club Mapping", currency="CHF")
    admin = make_staff(org, "chief")
    assert connect_demo(org, io.StringIO())
    # A member without a postcode: bexio needs it for the contact, so the invoice is blocked.
    member = make_member(
        org, "7", first_name="Berta", last_name="Beispiel", street="Dorfstrasse", house_number="3",
        postcode="", city="Bern", country="CH", email="berta@example.ch",
    )  # fmt: skip
    invoice = Invoice.objects.create(
        organisation=org, member=member, date=date(2026, 11, 1), due_date=date(2026, 12, 1), title="November"
    )
    InvoicePosition.objects.create(
        invoice=invoice, pos=1, charge_type="manual", text="Clubabend", quantity=Decimal("1"),
        unit_price=Decimal("40"),
    )  # fmt: skip
    invoice.recalculate()
    invoice.save()
    invoice.approve(admin)
    page = browser_page
    log_in("chief", org)

    _open_mapping(page)
    assert "Nothing has been imported from bexio yet." in page.inner_text("#refresh")
    page.click("#refresh-button")
    page.wait_for_url("**/bexio/mapping/")
    # The refresh is enqueued: the page answers at once and polls while it waits for a worker.
    assert "Refresh from bexio started." in page.content()
    assert "running" in page.inner_text("#refresh")
    assert page.locator("#refresh").get_attribute("hx-get")
    assert page.locator("#refresh-button").is_disabled()
    _run_worker()
    # The poll sees the run finished and reloads the page with the imported data.
    page.locator("#refresh", has_text="successful").wait_for(timeout=15_000)
    assert page.locator("#refresh").get_attribute("hx-get") is None
    assert BexioRecord.objects.filter(organisation=org, kind=Kind.TAX).exists()
    # Nothing is mapped yet: the owner user and the bank account are missing (and listed).
    problems = page.inner_text("#problems")
    assert "No bexio bank account is chosen" in problems or "No bexio user is chosen" in problems

    master = MasterData(org)
    bank = master.bank_accounts()[0]
    user = master.all(Kind.USER)[0]
    account = master.earnings_accounts()[0]
    tax = next(t for t in master.sales_taxes() if t.is_active)
    page.select_option("#id_bank_account", value=str(bank.pk))
    page.select_option("#id_user", value=str(user.pk))
    specs = row_specs(org)
    for spec in specs:
        page.select_option(f"#id_{spec.prefix}-account", value=str(account.pk))
        page.select_option(f"#id_{spec.prefix}-tax", value=str(tax.pk))
    page.get_by_role("button", name="Save mapping").click()
    page.wait_for_url("**/bexio/mapping/")
    assert "The mapping was saved." in page.content()
    saved = InvoiceSettings.objects.get(organisation=org)
    assert (saved.bank_account_id, saved.user_id) == (bank.pk, user.pk)
    assert page.locator("#problems").count() == 0
    for spec in specs:
        assert "mapped" in page.inner_text(f"#row-{spec.prefix}")

    # The invoice is listed with what blocks it: the member's missing postcode.
    waiting = page.inner_text("#waiting")
    assert "0 ready for bexio, 1 blocked" in waiting
    assert "missing address fields bexio needs: postcode" in waiting
    assert invoice.member.display_name in waiting

    # Fix the member, come back: the problem is gone and the invoice is ready.
    page.goto(live_server.url + reverse("members:edit", args=[org.slug, member.pk]))
    page.fill("#id_postcode", "3011")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/members/{member.pk}/")
    member.refresh_from_db()
    assert member.postcode == "3011"
    _open_mapping(page)
    waiting = page.inner_text("#waiting")
    assert "1 ready for bexio, 0 blocked" in waiting
    assert "postcode" not in waiting
