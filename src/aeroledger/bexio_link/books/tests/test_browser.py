"""The Books pages in chromium: the opening balance confirmed with its amount, a reconciliation
started, polled while the task worker runs it and shown with its differences; "How Aeroledger books
to bexio". Screenshots at 1280 and 390 px, English and German, go to var/screenshots/books/."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from aeroledger.bexio_link.books.models import ReconciliationRun
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.bexio_link.transfer.models import ItemStatus, OutboxItem
from aeroledger.bexio_link.transfer.tests.test_browser import _run_worker
from aeroledger.billing.models import Invoice, InvoiceKind
from aeroledger.tenancy.testing import make_staff

from .conftest import pay_top_up, transfer

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.VAR_DIR) / "screenshots" / "books"


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} at {width} px is {overflow} px too wide"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_books_in_a_browser(connected_for_pages, client, live_server, browser_page, log_in):
    from bexio.models import ManualEntryCreate

    org = connected_for_pages
    make_staff(org, "chief")
    page = browser_page
    log_in("chief", org)
    books = live_server.url + reverse("bexio_books:books", args=[org.slug])

    # The credit from before connecting, booked once after a confirmation that says the amount.
    page.goto(books)
    amount = page.inner_text("#opening-amount")
    assert amount.startswith("CHF ") and "'" in amount
    shoot(page, "books-opening-en")
    page.get_by_role("button", name="Book the opening balance of members' credit").click()
    dialog = page.locator("#confirm-dialog")
    assert amount in dialog.inner_text()
    shoot(page, "books-opening-confirm-en")
    dialog.get_by_role("button", name="Book the opening balance").click()
    page.wait_for_url(books)
    assert "goes to bexio" in page.inner_text(".messages")
    _run_worker()
    [item] = OutboxItem.objects.filter(organisation=org, key=f"AL-{org.slug}-O1")
    assert item.status == ItemStatus.DONE, item.last_error

    # The month in bexio, and a booking on the credit account by hand there.
    transfer(org, client)
    pay_top_up(org, client, Invoice.objects.filter(organisation=org, kind=InvoiceKind.CHARGES).first().member)
    mapping = mapping_for(org)
    client.manual_entries.create(
        ManualEntryCreate.single(
            date=item.created_at.date(),
            debit_account_id=mapping.bank_ledger_account_id(),
            credit_account_id=mapping.credit_account_id,
            amount="150.00",
            reference_nr="KASSE-12",
            description="Bareinzahlung Kasse",
        )
    )

    page.goto(books)
    page.get_by_role("button", name="Reconcile with bexio").click()
    page.wait_for_url(books)
    live = page.locator("#books-live")
    assert "Waiting for the background worker" in live.inner_text()
    assert live.get_attribute("hx-get")
    _run_worker()
    page.locator("#verdict", has_text="2 differences").wait_for(timeout=20_000)  # the page reloaded itself
    assert page.locator("#books-live").get_attribute("hx-get") is None
    text = page.inner_text("#differences")
    assert "KASSE-12" in text and "What to do:" in text and "made by hand in bexio" in text
    shoot(page, "books-result-en")
    run = ReconciliationRun.objects.get(organisation=org, status="finished")
    page.goto(live_server.url + reverse("bexio_books:reconciliation", args=[org.slug, run.pk]))
    shoot(page, "reconciliation-en")
    page.goto(live_server.url + reverse("bexio_books:how", args=[org.slug]))
    assert "2030 Kundenguthaben" in page.inner_text("#accounts")
    shoot(page, "how-en")

    # German, read only.
    page.context.clear_cookies()
    make_staff(org, "leser", perms=(), language="de")
    log_in("leser", org)
    page.goto(books)
    assert page.get_by_role("button", name="Reconcile with bexio").count() == 0
    shoot(page, "books-result-de")
    page.goto(live_server.url + reverse("bexio_books:how", args=[org.slug]))
    shoot(page, "how-de")
