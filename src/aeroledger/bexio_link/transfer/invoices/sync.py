"""Status and payments back from bexio (no webhooks exist: incremental search on updated_at).

`sync_status(org, client=None)`:
1. `POST /2.0/kb_invoice/search` with `updated_at > watermark - overlap`, ordered by updated_at,
   paged (2,000 per page): only invoices that changed come back, so 10,000 transferred invoices of
   which 300 changed cost one search request. bexio's timestamps are Zurich local time without an
   offset; the watermark is kept in bexio's own format and the overlap covers clock skew and
   same-second updates.
2. For each of our invoices among them: the local status follows bexio (open, partially paid,
   paid, cancelled; reverted to draft = transferred again), through the invoice's transitions.
3. Only where `total_received_payments` changed are the payments fetched; each new payment is
   booked once on the invoice (`InvoicePayment`, `external_ref="bexio-payment:<id>"`, unique per
   organisation, so a second or concurrent sync cannot book it twice). A paid top-up is the member's
   credit (billing does that in the same transaction) and is re-booked in bexio from the clearing
   account to the credit account (bookings). A booked payment no longer listed (deleted in bexio)
   is reversed once (`bexio-payment-deleted:<id>`).
`full=True` also lists all of bexio's invoices (2,000 per request) to notice deleted ones.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.bexio_link.connection.clients import client_for
from aeroledger.bexio_link.connection.models import connection_for
from aeroledger.billing.models import InvalidStatusChange, InvoicePayment, InvoiceStatus
from aeroledger.tenancy.models import Organisation
from bexio import Criterion
from bexio.models.types import format_zurich

from ..models import InvoiceLink, SyncState
from . import status as bexio_status

log = logging.getLogger(__name__)

PAGE = 2000
# bexio's updated_at has whole seconds and its own clock: re-read the last 2 minutes, so an update
# in the same second as the watermark (or committed a moment later) is never missed.
OVERLAP = timedelta(seconds=int(os.environ.get("BEXIO_SYNC_OVERLAP_S", "120")))
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
# The scheduled sync also lists all of bexio's invoices (one request per 2,000) once a day, to
# notice invoices deleted there.
FULL_CHECK_EVERY = timedelta(hours=24)
CENT = Decimal("0.01")


@dataclass
class SyncResult:
    seen: int = 0
    changed: int = 0
    payments: int = 0
    reversals: int = 0
    requests: int = 0
    gone: int = 0
    watermark: str = ""
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _ts(value) -> str:
    return format_zurich(value) if value is not None else ""


def _money(value) -> Decimal:
    return (value if value is not None else Decimal("0")).quantize(CENT)


def _since(watermark: str) -> str:
    if not watermark:
        return "2000-01-01 00:00:00"
    return (datetime.strptime(watermark, TS_FORMAT) - OVERLAP).strftime(TS_FORMAT)


def book_payment(link: InvoiceLink, payment) -> bool:
    """Book one bexio payment on our invoice, once. Returns True if new."""
    invoice = link.invoice
    value = _money(payment.value)
    if value == 0:
        return False
    _payment, created = invoice.record_payment(
        amount=value,
        date=payment.date or timezone.localdate(),
        external_ref=f"bexio-payment:{payment.id}",
        text=_("Payment in bexio for invoice %(nr)s") % {"nr": link.document_nr or invoice.number},
    )
    return created


def reverse_deleted_payments(link: InvoiceLink, listed_ids: set[str]) -> int:
    """Reverse, once each, the payments booked for this invoice that bexio no longer lists."""
    invoice = link.invoice
    booked = InvoicePayment.objects.filter(invoice=invoice, external_ref__startswith="bexio-payment:")
    n = 0
    for payment in booked:
        pid = payment.external_ref.split(":", 1)[1]
        if pid in listed_ids:
            continue
        _reversal, created = invoice.record_payment(
            amount=-payment.amount,
            date=timezone.localdate(),
            external_ref=f"bexio-payment-deleted:{pid}",
            text=_("Payment deleted in bexio for invoice %(nr)s")
            % {"nr": link.document_nr or invoice.number},
        )
        n += created
    return n


def _apply(link: InvoiceLink, found, client, result: SyncResult) -> None:
    status_id = found.kb_item_status_id
    received = _money(found.total_received_payments)
    updated = _ts(found.updated_at)
    changed = status_id != link.bexio_status or received != link.received_payments
    local = bexio_status.local_status(status_id)
    in_step = local is None or link.invoice.status in (local, InvoiceStatus.DRAFT, InvoiceStatus.APPROVED)
    if not changed and in_step and updated == link.bexio_updated_at and not link.gone_in_bexio:
        return  # seen before (the overlap): nothing to do
    if received != link.received_payments:
        result.requests += 1
        payments = list(client.invoices.payments(link.bexio_id).list())
        for payment in payments:
            result.payments += book_payment(link, payment)
        result.reversals += reverse_deleted_payments(link, {str(p.id) for p in payments})
    invoice = link.invoice
    if local is not None and invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED):
        try:
            changed = invoice.set_status_from_bexio(local) or changed
        except InvalidStatusChange as exc:
            log.warning("invoice %s: %s", invoice.pk, exc)
    link.bexio_status = status_id
    link.received_payments = received
    link.bexio_updated_at = updated
    link.bexio_total = _money(found.total) if found.total is not None else link.bexio_total
    link.document_nr = found.document_nr or link.document_nr
    link.gone_in_bexio = False
    link.save(
        update_fields=[
            "bexio_status",
            "received_payments",
            "bexio_updated_at",
            "bexio_total",
            "document_nr",
            "gone_in_bexio",
            "updated_at",
        ]
    )
    result.changed += changed


def sync_status(org, client=None, *, full: bool = False) -> SyncResult:
    """Bring status and payments of the organisation's transferred invoices up to date."""
    client = client if client is not None else client_for(org)
    sync, _created = SyncState.objects.get_or_create(organisation=org)
    result = SyncResult(watermark=sync.watermark)
    sync.last_run_at = timezone.now()
    newest = sync.watermark
    try:
        criteria = [Criterion.gt("updated_at", _since(sync.watermark))]
        offset = 0
        while True:
            page = client.invoices.search(criteria, limit=PAGE, offset=offset, order_by="updated_at")
            result.requests += 1
            by_id = {f.id: f for f in page}
            links = InvoiceLink.objects.filter(organisation=org, bexio_id__in=list(by_id)).select_related(
                "invoice__member", "invoice__organisation"
            )
            for link in links:
                result.seen += 1
                _apply(link, by_id[link.bexio_id], client, result)
            for f in page:
                ts = _ts(f.updated_at)
                if ts and ts > newest:
                    newest = ts
            if len(page) < PAGE:
                break
            offset += PAGE
        if full:
            result.gone = _mark_gone(org, client, result)
            sync.last_full_at = timezone.now()
        sync.watermark = newest
        sync.last_ok_at = timezone.now()
        sync.last_error = ""
    except Exception as exc:
        sync.last_error = getattr(exc, "message", "") or str(exc)
        result.error = sync.last_error
        raise
    finally:
        sync.last_changed, sync.last_payments, sync.last_requests = (
            result.changed,
            result.payments,
            result.requests,
        )
        sync.save()
    result.watermark = sync.watermark
    return result


def _mark_gone(org, client, result: SyncResult) -> int:
    """Invoices we transferred that bexio no longer has (deleted there)."""
    ids = set()
    offset = 0
    while True:
        page = client.invoices.list(limit=PAGE, offset=offset)
        result.requests += 1
        ids.update(i.id for i in page)
        if len(page) < PAGE:
            break
        offset += PAGE
    gone = InvoiceLink.objects.filter(organisation=org, bexio_id__isnull=False).exclude(bexio_id__in=ids)
    n = gone.filter(gone_in_bexio=False).update(gone_in_bexio=True)
    InvoiceLink.objects.filter(organisation=org, bexio_id__in=ids, gone_in_bexio=True).update(
        gone_in_bexio=False
    )
    return n


def sync_all() -> dict:
    """Every organisation whose connection allows transfers (the scheduled job)."""
    out = {}
    for org in Organisation.objects.filter(bexio_option=True):
        conn = connection_for(org)
        if conn is None or not conn.transfers_allowed:
            continue
        if not InvoiceLink.objects.filter(organisation=org, bexio_id__isnull=False).exists():
            continue
        last_full = SyncState.objects.filter(organisation=org).values_list("last_full_at", flat=True).first()
        full = last_full is None or timezone.now() - last_full > FULL_CHECK_EVERY
        try:
            out[org.slug] = sync_status(org, full=full).as_dict()
        except Exception as exc:  # noqa: BLE001 - one organisation's failure never stops the others
            log.warning("status sync of %s failed: %s", org.slug, exc)
            out[org.slug] = {"error": str(exc)}
    return out
