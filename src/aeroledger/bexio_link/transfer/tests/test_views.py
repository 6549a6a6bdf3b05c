"""The pages: transfer (start, progress), preview, log (retry), invoice (PDF); access per organisation."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aeroledger.bexio_link.transfer.invoices.sync import sync_status
from aeroledger.bexio_link.transfer.models import (
    InvoiceLink,
    ItemStatus,
    OutboxItem,
    SyncState,
    TransferBatch,
)
from aeroledger.bexio_link.transfer.outbox.worker import run_outbox
from aeroledger.bexio_link.transfer.start import start_transfer, transfer_invoices
from aeroledger.billing.models import Invoice, InvoiceStatus
from aeroledger.tenancy.models import BillingMode, Membership, Organisation

from .conftest import approve_all, map_everything

pytestmark = pytest.mark.django_db(transaction=True)


def connect(org, sb):
    from aeroledger.bexio_link.connection.models import BexioConnection, Status

    t = sb.tokens()
    conn, _ = BexioConnection.objects.get_or_create(organisation=org)
    conn.set_tokens(t["access_token"], t.get("refresh_token"))
    conn.status = Status.CONNECTED
    conn.granted_scopes = t["scope"].split()
    conn.expires_at = timezone.now() + timedelta(seconds=int(t.get("expires_in", 3600)))
    conn.company_id = t.get("company_id", "")
    conn.save()
    return conn


def login(org, name, **perms):
    user = get_user_model().objects.create_user(name, password="pw-123456")
    Membership.objects.create(user=user, organisation=org, **perms)
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def site(sb, client, settings):
    from aeroledger.billing.demo import seed_demo

    settings.BEXIO_API_BASE = sb.url
    org = seed_demo()
    Organisation.objects.filter(pk=org.pk).update(billing_mode=BillingMode.POSTPAID)  # invoices only
    org.refresh_from_db()
    connect(org, sb)
    map_everything(org, client)
    approve_all(org)
    return org


def url(name, org, *args):
    return reverse(f"bexio_transfer:{name}", args=[org.slug, *args])


def test_transfer_page_start_progress_and_log(sb, site):
    manager = login(site, "manager", manage_invoicing=True)
    reader = login(site, "reader")
    page = reader.get(url("transfers", site))
    assert page.status_code == 200
    assert b"Transfer all approved invoices" not in page.content
    assert reader.post(url("start", site), {"scope": "all"}).status_code == 403

    page = manager.get(url("transfers", site))
    assert b"Transfer all approved invoices" in page.content
    resp = manager.post(url("start", site), {"scope": "all"})
    assert resp.status_code == 302
    batch = TransferBatch.objects.get(organisation=site)
    assert batch.status == "queued" and batch.items.count() > 0
    bar = manager.get(url("progress", site), HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 1s"' in bar.content
    waiting = Invoice.objects.filter(organisation=site, status=InvoiceStatus.APPROVED).first()
    assert waiting.number.encode() in bar.content  # the list lives in the polled part

    stats = run_outbox(concurrency=4)  # what the db_worker's task does
    assert stats.get("created") == batch.items.count()
    bar = manager.get(url("progress", site))
    assert b"hx-trigger" not in bar.content and b"in bexio" in bar.content
    assert waiting.number.encode() not in bar.content  # transferred: no longer waiting

    log = manager.get(url("log", site))
    assert log.status_code == 200 and b"Created in bexio" in log.content
    calls = manager.get(url("log", site) + "?show=calls&q=kb_invoice")
    assert b"/2.0/kb_invoice" in calls.content
    assert b"Bearer" not in calls.content
    from aeroledger.bexio_link.connection.models import BexioCall

    inv = Invoice.objects.filter(organisation=site, status=InvoiceStatus.TRANSFERRED).first()
    assert BexioCall.objects.filter(organisation=site, context=f"invoice:{inv.uuid}").exists()


def test_selected_invoices_only(sb, site):
    manager = login(site, "manager", manage_invoicing=True)
    ids = list(
        Invoice.objects.filter(organisation=site, status=InvoiceStatus.APPROVED).values_list("pk", flat=True)[
            :2
        ]
    )
    manager.post(url("start", site), {"scope": "selected", "invoice_ids": ids})
    assert set(OutboxItem.objects.values_list("invoice_id", flat=True)) == set(ids)


def test_preview_calls_nobody_and_shows_positions(sb, site):
    reader = login(site, "reader")
    mark = sb.requests()[-1]["id"]
    page = reader.get(url("preview", site))
    assert page.status_code == 200
    text = page.content.decode()
    assert "ready" in text and "Invoiced in bexio" in text
    assert "KbPosition" not in text and not re.search(r"(?<!&)#\d", text)
    assert sb.requests(mark) == []
    assert not OutboxItem.objects.exists()


def test_failed_invoice_retry_and_invoice_page_with_pdf(sb, site):
    manager = login(site, "manager", manage_invoicing=True)
    sb.fault(method="POST", path=r"^/2\.0/kb_invoice$", when="before", effect="status:422", times=1)
    transfer_invoices(site, concurrency=1)
    failed = OutboxItem.objects.get(organisation=site, status=ItemStatus.FAILED)
    log = manager.get(url("log", site))
    assert b"Retry all failed" in log.content
    manager.post(url("retry", site, failed.pk))
    run_outbox(concurrency=1)
    failed.refresh_from_db()
    assert failed.status == ItemStatus.DONE

    page = manager.get(url("invoice", site, failed.invoice_id))
    assert InvoiceLink.objects.get(invoice_id=failed.invoice_id).document_nr.encode() in page.content
    pdf = manager.get(url("invoice_pdf", site, failed.invoice_id))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_sync_button(sb, site):
    manager = login(site, "manager", manage_invoicing=True)
    transfer_invoices(site, concurrency=2)
    resp = manager.post(url("sync", site))
    assert resp.status_code == 302
    assert SyncState.objects.get(organisation=site).last_ok_at is not None


def test_other_organisations_invoices_are_404(sb, site):
    other = Organisation.objects.create(name="Other", slug="other", bexio_option=True)
    outsider = login(other, "outsider", manage_invoicing=True)
    inv = Invoice.objects.filter(organisation=site).first()
    assert outsider.get(url("transfers", site)).status_code == 404
    assert outsider.get(reverse("bexio_transfer:invoice", args=[other.slug, inv.pk])).status_code == 404
    assert outsider.get(reverse("bexio_transfer:invoice_pdf", args=[other.slug, inv.pk])).status_code == 404
    transfer_invoices(site, [inv.pk], concurrency=1)
    item = OutboxItem.objects.get(invoice=inv)
    assert outsider.post(reverse("bexio_transfer:retry", args=[other.slug, item.pk])).status_code == 404


def test_tasks_transfer_and_scheduled_sync(sb, client, site):
    from aeroledger.bexio_link.transfer.tasks import resume_transfers, sync_status_task, transfer_batch

    batch = start_transfer(site, enqueue_task=False)
    assert resume_transfers.call() == 1  # due work found: a transfer_batch task is enqueued
    stats = transfer_batch.call(organisation_id=site.pk, batch_id=batch.pk)
    assert stats.get("created") == batch.items.count()
    assert TransferBatch.objects.get(pk=batch.pk).status == "finished"
    out = sync_status_task.call()
    assert site.slug in out and out[site.slug]["requests"] >= 2  # search + the daily full listing
    assert SyncState.objects.get(organisation=site).last_full_at is not None


def test_cancelled_and_deleted_in_bexio_listed_with_advice(sb, client, site):
    reader = login(site, "reader")
    ids = list(
        Invoice.objects.filter(organisation=site, status=InvoiceStatus.APPROVED).values_list("pk", flat=True)[
            :2
        ]
    )
    transfer_invoices(site, ids, concurrency=1)
    a, b = (InvoiceLink.objects.get(invoice_id=i) for i in ids)
    client.invoices.issue(a.bexio_id)
    client.invoices.cancel(a.bexio_id)
    client.invoices.delete(b.bexio_id)
    sync_status(site, full=True)
    page = reader.get(url("transfers", site)).content.decode()
    assert "Cancelled in bexio" in page and "Deleted in bexio" in page and "still owed" in page
    detail = reader.get(url("invoice", site, b.invoice_id)).content.decode()
    assert "Deleted in bexio" in detail and "Download the PDF" not in detail
