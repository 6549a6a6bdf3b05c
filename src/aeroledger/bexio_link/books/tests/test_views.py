"""The Books page (start, progress, result, history, opening balance), a past run's page and "How
Aeroledger books to bexio": access, what they show, and their query counts."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aeroledger.bexio_link.books import runs
from aeroledger.bexio_link.books.models import ReconciliationRun
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.bexio_link.transfer.models import ItemKind, OutboxItem
from aeroledger.billing.models import Invoice
from aeroledger.tenancy.models import Membership

from .conftest import run_outbox, transfer

pytestmark = pytest.mark.django_db(transaction=True)


def login(org, name, **perms):
    user = get_user_model().objects.create_user(name, password="pw-123456")
    Membership.objects.create(user=user, organisation=org, **perms)
    c = Client()
    c.force_login(user)
    return c


def url(name, org, *args):
    return reverse(f"bexio_books:{name}", args=[org.slug, *args])


def test_readers_see_the_books_managers_start_and_the_result_shows_causes(connected_for_pages, client):
    org = connected_for_pages
    reader, manager = login(org, "reader"), login(org, "manager", manage_invoicing=True)
    page = reader.get(url("books", org))
    assert page.status_code == 200
    assert b"No reconciliation has run yet." in page.content
    assert b"Reconcile with bexio" not in page.content and b'id="opening-form"' not in page.content
    assert reader.post(url("start", org)).status_code == 403
    assert reader.post(url("opening", org), {"account": 1, "amount": "1"}).status_code == 403

    page = manager.get(url("books", org))
    assert b"Reconcile with bexio" in page.content
    found = re.search(rb"name=\"amount\" value=\"([0-9.]+)\"", page.content)
    amount = found.group(1).decode()
    assert b"Book CHF " in page.content  # the confirmation says the amount
    assert manager.post(url("start", org), {"period": ""}).status_code == 302
    run = ReconciliationRun.objects.get(organisation=org)
    assert run.status == "queued" and run.task_id
    live = reader.get(url("progress", org)).content.decode()
    assert 'hx-trigger="every 1s"' in live and "Waiting for the background worker" in live
    assert b"already running" in manager.post(url("start", org), follow=True).content

    runs.execute(run, client=client)  # what the worker does
    done = reader.get(url("progress", org) + f"?was={run.pk}")
    assert done["HX-Refresh"] == "true" and "hx-trigger" not in done.content.decode()
    page = reader.get(url("books", org)).content.decode()
    # Nothing of the month is in bexio yet: the differences say why and what to do.
    assert "approved invoices are not in bexio yet" in page and "Start the transfer" in page
    assert "Credit that members had before bexio was connected was never booked" in page
    assert reader.get(url("reconciliation", org, run.pk)).status_code == 200

    # The opening balance, confirmed with its amount, goes through the outbox once.
    account = mapping_for(org).master.all("account")
    nine_one = next(a for a in account if a.data.get("account_no") == "9100")
    resp = manager.post(
        url("opening", org), {"account": nine_one.bexio_id, "amount": amount, "date": "2026-09-03"}
    )
    assert resp.status_code == 302
    item = OutboxItem.objects.get(organisation=org, kind=ItemKind.MANUAL_ENTRY, key=f"AL-{org.slug}-O1")
    assert Decimal(item.sent["lines"][0]["amount"]) == Decimal(amount)
    again = manager.post(url("opening", org), {"account": nine_one.bexio_id, "amount": amount}, follow=True)
    assert OutboxItem.objects.filter(key=item.key).count() == 1
    run_outbox(org, client)
    transfer(org, client)
    run = runs.start(org)
    runs.execute(run, client=client)
    page = reader.get(url("books", org)).content.decode()
    assert "0 differences: the books agree" in page, page
    assert "CHF" in again.content.decode()


def test_how_aeroledger_books_shows_the_real_mapping_and_a_month(connected_for_pages, client):
    org = connected_for_pages
    reader = login(org, "reader")
    page = reader.get(url("how", org))
    assert page.status_code == 200
    html = unescape(page.content.decode())
    for text in (
        "2030 Kundenguthaben / erhaltene Anzahlungen",  # members' credit
        "3090 Guthaben-Einzahlungen (Durchlaufkonto)",  # top-ups' clearing account
        "3400 Ertrag Flugzeugmiete",
        "3410 Ertrag Schulung",
        "3420 Landetaxen",
        "3805 Erlösminderungen / Korrekturen",
        "UN81",
        "UEX",
    ):
        assert text in html, text
    month = Invoice.objects.filter(organisation=org, run__isnull=False).first().date
    assert f"Bookings of {month:%m.%Y}" in html
    rows = re.findall(r"<tr><td>(\d\d\.\d\d\.\d{4})</td>", html)
    assert rows and all(r.endswith(f"{month:%m.%Y}") for r in rows)
    assert re.search(r"\d'\d{3}\.\d\d", html)  # Swiss amounts: 1'234.50
    assert "paid from credit" in html
    for word in ("reference_nr", "manual_entry", "KbInvoice", "tax_id", "None"):
        assert word not in html, word
    assert reader.get(url("how", org) + "?month=2026-13").status_code == 400


def test_a_postpaid_organisation_reconciles_its_invoices_and_is_told_how_it_books(sb, client, use_client):
    """Without prepaid credit there is no credit account: invoices, revenue and VAT only."""
    from aeroledger.bexio_link.books.reconcile import reconcile
    from aeroledger.bexio_link.masterdata.models import InvoiceSettings
    from aeroledger.bexio_link.transfer.tests.conftest import approve_all, map_everything
    from aeroledger.billing.demo import seed_demo
    from aeroledger.tenancy.models import BillingMode, Organisation

    org = seed_demo()
    Organisation.objects.filter(pk=org.pk).update(billing_mode=BillingMode.POSTPAID)
    org.refresh_from_db()
    map_everything(org, client)
    InvoiceSettings.objects.filter(organisation=org).update(issue_automatically=True)
    approve_all(org)
    use_client(client)
    transfer(org, client)
    result = reconcile(org, client=client)
    assert result.differences == [] and result.credit is None
    assert result.counts["invoices"] == Invoice.objects.filter(organisation=org, amount_due__gt=0).count() > 0
    assert any(Decimal(row["bexio"]) > 0 for row in result.accounts)
    html = login(org, "reader").get(url("how", org)).content.decode()
    assert "without prepaid credit" in html and "Members' credit" not in html
    assert login(org, "other").get(url("books", org)).status_code == 200


def test_query_counts_do_not_grow_with_the_data(connected_for_pages, client):
    org = connected_for_pages
    reader = login(org, "reader")
    run = runs.start(org)
    runs.execute(run, client=client)

    def count(name):
        with CaptureQueriesContext(connection) as ctx:
            assert reader.get(url(name, org)).status_code == 200
        return len(ctx)

    few = {name: count(name) for name in ("books", "how", "progress")}
    transfer(org, client)  # many more bookings, invoices in bexio, attempts
    run = runs.start(org)
    runs.execute(run, client=client)
    many = {name: count(name) for name in ("books", "how", "progress")}
    assert many == few, (few, many)
    assert few["books"] <= 25 and few["how"] <= 25 and few["progress"] <= 8, few
