"""Issue 13, item 1: cancelling an invoice while its transfer runs billed twice.

bexio stored the invoice and the answer was lost; the invoice was cancelled while its item waited to
retry ("cancelled; its charges can be billed again"), then the retry adopted bexio's invoice: in
bexio, cancelled here, its charges free. With a slow bexio, a cancel mid-send ended "transferred"
with no charges. Now the cancel asks the outbox (the "invoice_cancel" hook, under the invoice's lock):
an item that may be in bexio refuses the cancel; one that cannot be is withdrawn in the same
transaction. Against the sandbox over HTTP; the races on PostgreSQL with threads.
"""

import threading
import time

import pytest
from django.db import connection

from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
from aeroledger.bexio_link.transfer.outbox.worker import run_outbox
from aeroledger.bexio_link.transfer.start import start_transfer
from aeroledger.billing.models import CancelRefused, Invoice, InvoiceStatus
from aeroledger.billing.tests.race import race, raised

from .conftest import make_client

pytestmark = pytest.mark.django_db(transaction=True)

KB_INVOICE = r"^/2\.0/kb_invoice$"


def due_invoices(org) -> list[Invoice]:
    return list(
        Invoice.objects.filter(organisation=org, status=InvoiceStatus.APPROVED, amount_due__gt=0).order_by(
            "id"
        )
    )


def in_bexio(client, invoice) -> list:
    return [b for b in client.invoices.iter() if str(b.api_reference) == str(invoice.uuid)]


def work(org, client, **kw):
    kw.setdefault("concurrency", 1)
    kw.setdefault("wait_for_retries_s", 0)  # an item waiting for its back-off stays waiting
    return run_outbox(org_ids=[org.pk], client_factory=lambda _org: client, **kw)


def test_cancel_while_a_lost_invoice_waits_to_retry_is_refused_and_the_retry_adopts_it(sb, client, demo):
    invoice = due_invoices(demo)[0]
    charges = set(invoice.charges.values_list("pk", flat=True))
    assert charges
    sb.fault(method="POST", path=KB_INVOICE, when="after_commit", effect="drop", times=1)
    start_transfer(demo, [invoice.pk], enqueue_task=False)
    work(demo, client)
    item = OutboxItem.objects.get(invoice=invoice, kind=ItemKind.INVOICE)
    assert item.status == ItemStatus.PENDING and item.maybe_in_bexio and item.next_try_at
    assert len(in_bexio(client, invoice)) == 1  # bexio has it; we do not know yet

    with pytest.raises(CancelRefused, match="being transferred to bexio"):
        invoice.cancel(None)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED
    assert set(invoice.charges.values_list("pk", flat=True)) == charges

    OutboxItem.objects.filter(pk=item.pk).update(next_try_at=None)  # its back-off is over
    work(demo, client)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.TRANSFERRED
    assert set(invoice.charges.values_list("pk", flat=True)) == charges
    [found] = in_bexio(client, invoice)
    assert found.total == invoice.amount_due and found.id == invoice.bexio_invoice.bexio_id


@pytest.mark.postgres
def test_cancel_mid_send_with_a_slow_bexio_is_refused(sb, demo):
    slow = make_client(sb, timeout=15)
    invoice = due_invoices(demo)[0]
    charges = set(invoice.charges.values_list("pk", flat=True))
    sb.fault(method="POST", path=KB_INVOICE, when="before", effect="delay:5000", times=1)
    start_transfer(demo, [invoice.pk], enqueue_task=False)
    worker = threading.Thread(target=lambda: (work(demo, slow), connection.close()))
    worker.start()
    deadline = time.monotonic() + 20
    item = OutboxItem.objects.get(invoice=invoice, kind=ItemKind.INVOICE)
    while item.status != ItemStatus.SENDING and time.monotonic() < deadline:
        time.sleep(0.05)
        item.refresh_from_db()
    time.sleep(1.5)  # the POST is held by bexio now
    with pytest.raises(CancelRefused):
        invoice.cancel(None)
    worker.join(60)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.TRANSFERRED
    assert set(invoice.charges.values_list("pk", flat=True)) == charges
    assert len(in_bexio(slow, invoice)) == 1
    slow.close()


@pytest.mark.postgres
def test_cancel_racing_the_worker_either_withdraws_or_is_refused(sb, client, demo):
    """Many rounds of: the worker claims and sends an invoice while a person cancels it. Either the
    cancel came first (nothing in bexio, the charges free) or it is refused (in bexio once,
    transferred, its charges kept); never both."""
    sb.settings(latency_ms=15)
    invoices = due_invoices(demo)[:16]
    assert len(invoices) >= 10
    outcomes = []
    for n, invoice in enumerate(invoices):
        start_transfer(demo, [invoice.pk], enqueue_task=False)
        results = race(
            lambda: work(demo, client),
            lambda invoice=invoice: invoice.cancel(None),
            delays=[0, 0.005 * n],  # the cancel 0, 5 ... 75 ms after the worker's start
        )
        assert not [r for r in raised(results) if not isinstance(r, CancelRefused)], results
        invoice.refresh_from_db()
        found = in_bexio(client, invoice)
        if invoice.status == InvoiceStatus.CANCELLED:
            outcomes.append("cancelled")
            assert found == [], f"round {n}: cancelled here, yet in bexio"
            assert not invoice.charges.exists()
            assert set(OutboxItem.objects.filter(invoice=invoice).values_list("status", flat=True)) == {
                ItemStatus.CANCELLED
            }
        else:
            outcomes.append("refused")
            assert isinstance(results[1], CancelRefused), f"round {n}: {invoice.status}"
            assert invoice.status == InvoiceStatus.TRANSFERRED, f"round {n}"
            assert len(found) == 1 and found[0].total == invoice.amount_due, f"round {n}"
            assert invoice.charges.count() == invoice.positions.count() > 0
    print("outcomes:", outcomes)
