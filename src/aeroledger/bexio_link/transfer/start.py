"""Starting a transfer: what goes to bexio for approved invoices, and running it now (CLI, tests).

For each approved invoice: a bexio invoice for what is due (nothing when credit paid it all) and a
booking of the credit it used (nothing when it used none). Every other waiting write of the
organisation (deposits, refunds, corrections, paid top-ups) joins the batch.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from aeroledger.billing.models import Invoice, InvoiceStatus

from .bookings.plan import usage_reference
from .models import ItemKind, ItemStatus, OutboxItem, TransferBatch
from .outbox import enqueue
from .outbox.worker import run_outbox

QUEUE_CHUNK = 400  # invoices queued per read and insert (keeps the statements' parameters few)


def invoice_label(invoice: Invoice) -> str:
    return f"{invoice.number} {invoice.member.display_name}"


def invoice_writes(invoice: Invoice) -> list[tuple]:
    """The writes of one approved invoice, as (kind, key, label, about) for `enqueue.add_many`."""
    writes = []
    if invoice.amount_due > 0:
        writes.append((ItemKind.INVOICE, str(invoice.uuid), invoice_label(invoice), {"invoice": invoice}))
    if invoice.credit_applied > 0:
        label = _("%(invoice)s: paid from credit") % {"invoice": invoice_label(invoice)}
        writes.append((ItemKind.MANUAL_ENTRY, usage_reference(invoice), label, {"invoice": invoice}))
    return writes


def queue_invoice(invoice: Invoice, batch: TransferBatch | None = None) -> list[OutboxItem]:
    """The writes of one approved invoice (call with the invoice row locked)."""
    return [
        enqueue.add(invoice.organisation, kind, key, label=label, batch=batch, **about)
        for kind, key, label, about in invoice_writes(invoice)
    ]


def start_transfer(org, invoice_ids=None, *, user=None, enqueue_task: bool = True) -> TransferBatch:
    """Queue the approved invoices (all, or `invoice_ids`) in a new batch and wake a worker.

    The invoices are locked while their writes are queued, so a cancel at the same moment either
    comes first (the invoice is no longer approved) or finds the writes queued (and withdraws them
    or refuses). Failed writes of these invoices are queued again.
    """
    with transaction.atomic():
        batch = TransferBatch.objects.create(organisation=org, created_by=user)
        invoices = Invoice.objects.select_for_update(of=("self",)).filter(
            organisation=org, status=InvoiceStatus.APPROVED
        )
        if invoice_ids is not None:
            invoices = invoices.filter(pk__in=list(invoice_ids))
        invoices = list(invoices.select_related("member", "organisation"))
        for start in range(0, len(invoices), QUEUE_CHUNK):  # a read and an insert per chunk
            writes = [w for invoice in invoices[start : start + QUEUE_CHUNK] for w in invoice_writes(invoice)]
            enqueue.add_many(org, writes, batch=batch)
        if invoice_ids is None:  # everything else waiting for bexio rides along
            OutboxItem.objects.filter(organisation=org, status=ItemStatus.PENDING, batch__isnull=True).update(
                batch=batch
            )
        if enqueue_task:
            enqueue.wake(org, batch)
    return batch


def transfer_invoices(org, invoice_ids=None, *, client=None, user=None, **run_kw) -> dict:
    """Transfer the organisation's approved (or the given) invoices now, in this process.

    `run_kw` go to the worker (concurrency, on_progress, wait_for_retries_s, ...).
    """
    batch = start_transfer(org, invoice_ids, user=user, enqueue_task=False)
    factory = (lambda _org: client) if client is not None else None
    stats = run_outbox(org_ids=[org.pk], client_factory=factory, **run_kw)
    stats["batch"] = batch.pk
    return stats
