"""The transfer as an admin starts it, in chromium: select invoices on the invoice list, transfer,
watch the progress bar, then bexio's document number and PDF on the invoice page.

The organisation is connected to the bexio sandbox through the real code flow (connect_demo) and
mapped; the transfer runs as the enqueued django-tasks task, picked up by a database worker (the
`db_worker` of production, in batch mode) while the page polls the progress.
"""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django_tasks_db.management.commands.db_worker import Worker

from aeroledger.bexio_link.connection.demo import connect_demo
from aeroledger.bexio_link.transfer.models import InvoiceLink, ItemStatus, OutboxItem
from aeroledger.billing.models import Invoice, InvoicePosition, InvoiceStatus
from aeroledger.tenancy.testing import make_member, make_org, make_staff

from .conftest import map_everything

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _approved_invoice(org, admin, number, amount):
    member = make_member(
        org, number, first_name="Pia", last_name=f"Pilot{number}", street="Flugplatzstrasse",
        house_number=number, postcode="3000", city="Bern", country="CH", email=f"p{number}@example.ch",
        language="de",
    )  # fmt: skip
    invoice = Invoice.objects.create(
        organisation=org,
        member=member,
        date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        title=f"Rechnung {number}",
        number=f"2026-{number}",
    )
    InvoicePosition.objects.create(
        invoice=invoice, pos=1, charge_type="manual", text="Clubbeitrag", quantity=Decimal("1"),
        unit_price=Decimal(amount),
    )  # fmt: skip
    invoice.recalculate()
    invoice.save()
    invoice.approve(admin)
    return invoice


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


def test_transfer_selected_invoices_in_a_browser(
    transactional_db, bexio_settings, live_server, browser_page, log_in
):
    org = make_org("aeroclub", bexio=True, prepaid=False, name="Aero Club Transfer", currency="CHF")
    admin = make_staff(org, "chief")
    assert connect_demo(org, io.StringIO())
    map_everything(org, None)
    first = _approved_invoice(org, admin, "11", "120.00")
    second = _approved_invoice(org, admin, "12", "80.50")
    left_out = _approved_invoice(org, admin, "13", "55.00")
    page = browser_page

    log_in("chief", org)

    page.goto(live_server.url + reverse("billing:invoices", args=[org.slug]))
    for inv in (first, left_out, second):
        assert page.locator(f"input[name=invoice_ids][value='{inv.pk}']").count() == 1
    assert page.get_by_role("link", name="Preview").count() == 1
    page.check(f"input[name=invoice_ids][value='{first.pk}']")
    page.check(f"input[name=invoice_ids][value='{second.pk}']")
    page.get_by_role("button", name="Transfer selected to bexio").click()
    page.wait_for_url("**/bexio/transfer/")
    assert "The transfer has started: 2 documents and bookings go to bexio." in page.content()
    live = page.locator("#transfer-live")
    assert "Waiting for the background worker" in live.inner_text()
    assert live.get_attribute("hx-get")  # htmx polls while the transfer runs
    waiting = page.locator("#start tbody tr")
    assert waiting.count() == 3 and "Invoice: Waiting" in waiting.first.inner_text()

    _run_worker()
    # The polling picks the result up: the bar reaches the end, stops polling, and the list below
    # shows what is still waiting (only the invoice left out), with the Transfer buttons ready again.
    page.locator("#transfer-live", has_text="Finished").wait_for(timeout=15_000)
    live = page.locator("#transfer-live")
    assert "2 in bexio" in live.inner_text()
    assert "0 need attention" in live.inner_text()
    assert page.locator("#progress progress").get_attribute("value") == "100"
    assert live.get_attribute("hx-get") is None
    assert page.locator("#start tbody tr").count() == 1
    assert left_out.number in page.locator("#start tbody").inner_text()
    assert page.get_by_role("button", name="Transfer all approved invoices").is_enabled()
    assert not OutboxItem.objects.filter(invoice=left_out).exists()
    left_out.refresh_from_db()
    assert left_out.status == InvoiceStatus.APPROVED

    item = OutboxItem.objects.get(invoice=first)
    assert item.status == ItemStatus.DONE, item.last_error
    state = InvoiceLink.objects.get(invoice=first)
    page.goto(live_server.url + reverse("billing:invoice", args=[org.slug, first.pk]))
    document_nr = page.inner_text("#bexio-document-nr").strip()
    assert re.fullmatch(r"RE-\d{5}", document_nr), document_nr
    assert document_nr == state.document_nr
    pdf_link = page.get_by_role("link", name="PDF from bexio")
    href = pdf_link.get_attribute("href")
    assert href == reverse("bexio_transfer:invoice_pdf", args=[org.slug, first.pk])
    response = page.request.get(live_server.url + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    with page.expect_download() as download:
        pdf_link.click()
    assert download.value.suggested_filename == f"{document_nr}.pdf"

    # The list no longer offers the transferred invoices for a transfer, only the one left out.
    page.goto(live_server.url + reverse("billing:invoices", args=[org.slug]))
    assert page.locator("input[name=invoice_ids]").count() == 1
    assert page.locator(f"input[name=invoice_ids][value='{left_out.pk}']").count() == 1
