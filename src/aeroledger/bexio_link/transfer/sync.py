"""Status and payments back from bexio (no webhooks exist: incremental search on updated_at).

`sync_status(org, client=None)`:
1. `POST /2.0/kb_invoice/search` with `updated_at > watermark - overlap`, ordered by updated_at,
   paged (2,000 per page): only invoices that changed come back, so 10,000 transferred invoices of
   which 300 changed cost one search request. bexio's timestamps are Zurich local time without an
   offset; the watermark is kept in bexio's own format and the overlap covers clock skew and
   same-second updates.
2. For each of our invoices among them: the local status follows bexio (open, partially paid,
   paid, cancelled; reverted to draft = transferred again), through the invoice's model method.
3. Only where `total_received_payments` changed are the payments fetched; each new payment is
   booked once to the bill-to member's credit account (`external_ref="bexio-payment:<id>"`,
   unique per organisation, so a second sync or a concurrent one cannot book it twice). A booked
   payment that is no longer listed (deleted in bexio, which lowers total_received_payments) is
   reversed once by a negative payment entry (`external_ref="bexio-payment-deleted:<id>"`).
`full=True` also lists all of bexio's invoices (2,000 per request) to notice deleted ones.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.billing.models import CreditEntry, CreditKind, InvalidStatusChange, InvoiceStatus
from bexio import Criterion

from .models import SyncState, TransferState

log = logging.getLogger(__name__)

PAGE = 2000
# bexio's updated_at has whole seconds and its own clock: re-read the last 2 minutes, so an update
# in the same second as the watermark (or committed a moment later) is never missed.
OVERLAP = timedelta(seconds=int(os.environ.get("BEXIO_SYNC_OVERLAP_S", "120")))
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
# The scheduled sync also lists all of bexio's invoices (one request per 2,000) once a day, to
# notice invoices deleted there.
FULL_CHECK_EVERY = timedelta(hours=24)

# kb_item_status_id -> local status.
STATUS_MAP = {
    7: InvoiceStatus.TRANSFERRED,  # reverted to draft in bexio
    8: InvoiceStatus.OPEN,
    31: InvoiceStatus.OPEN,  # unpaid / overdue
    16: InvoiceStatus.PARTIALLY_PAID,
    9: InvoiceStatus.PAID,
    19: InvoiceStatus.CANCELLED,
}


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
    from .services import _bexio_ts

    return _bexio_ts(value)


def _dec(value) -> Decimal:
    try:
        return Decimal(str(value if value is not None else "0")).quantize(Decimal("0.01"))
    except ArithmeticError:
        return Decimal("0.00")


def _since(watermark: str) -> str:
    if not watermark:
        return "2000-01-01 00:00:00"
    return (datetime.strptime(watermark, TS_FORMAT) - OVERLAP).strftime(TS_FORMAT)


def book_payment(state: TransferState, payment) -> bool:
    """Book one bexio payment to the member's credit account, once. Returns True if new."""
    invoice = state.invoice
    ref = f"bexio-payment:{payment.id}"
    if CreditEntry.objects.filter(organisation_id=state.organisation_id, external_ref=ref).exists():
        return False
    value = _dec(getattr(payment, "value", 0))
    if value == 0:
        return False
    try:
        with transaction.atomic():
            CreditEntry.objects.create(
                organisation_id=state.organisation_id,
                member=invoice.member,
                date=getattr(payment, "date", None) or timezone.localdate(),
                kind=CreditKind.PAYMENT,
                amount=value,
                text=_("Payment in bexio for invoice %(nr)s") % {"nr": state.document_nr or invoice.number},
                invoice=invoice,
                external_ref=ref,
            )
    except IntegrityError:  # booked at the same moment by another sync
        return False
    return True


def reverse_deleted_payments(state: TransferState, listed_ids: set[str]) -> int:
    """Reverse, once each, the payments booked for this invoice that bexio no longer lists."""
    invoice = state.invoice
    booked = CreditEntry.objects.filter(
        organisation_id=state.organisation_id, invoice=invoice, external_ref__startswith="bexio-payment:"
    )
    n = 0
    for entry in booked:
        pid = entry.external_ref.split(":", 1)[1]
        if pid in listed_ids:
            continue
        ref = f"bexio-payment-deleted:{pid}"
        if CreditEntry.objects.filter(organisation_id=state.organisation_id, external_ref=ref).exists():
            continue
        params = {"nr": state.document_nr or invoice.number}
        try:
            with transaction.atomic():
                CreditEntry.objects.create(
                    organisation_id=state.organisation_id,
                    member_id=entry.member_id,
                    date=timezone.localdate(),
                    # kind payment (negative), so what is paid on the invoice drops back as well
                    # (outstanding_on_invoices sums the payments booked on it).
                    kind=CreditKind.PAYMENT,
                    amount=-entry.amount,
                    text=_("Payment deleted in bexio for invoice %(nr)s") % params,
                    reason=_("The payment was deleted in bexio (invoice %(nr)s).") % params,
                    invoice=invoice,
                    external_ref=ref,
                )
        except IntegrityError:  # reversed at the same moment by another sync
            continue
        n += 1
    return n


def _apply(state: TransferState, found, client, result: SyncResult) -> None:
    status_id = getattr(found, "kb_item_status_id", None)
    status_id = int(status_id) if status_id is not None else None
    received = _dec(getattr(found, "total_received_payments", 0))
    updated = _ts(getattr(found, "updated_at", None))
    changed = status_id != state.bexio_status or received != state.received_payments
    local = STATUS_MAP.get(status_id)
    in_step = local is None or state.invoice.status in (local, InvoiceStatus.DRAFT, InvoiceStatus.APPROVED)
    if not changed and in_step and updated == state.bexio_updated_at and not state.gone_in_bexio:
        return  # seen before (the overlap): nothing to do
    if received != state.received_payments:
        result.requests += 1
        payments = list(client.invoices.payments(state.bexio_id).list())
        for payment in payments:
            if book_payment(state, payment):
                result.payments += 1
        result.reversals += reverse_deleted_payments(state, {str(p.id) for p in payments})
    invoice = state.invoice
    if local is not None and invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED):
        try:
            changed = invoice.set_status_from_bexio(local) or changed
        except InvalidStatusChange as exc:
            log.warning("invoice %s: %s", invoice.pk, exc)
    state.bexio_status = status_id
    state.received_payments = received
    state.bexio_updated_at = updated
    state.bexio_total = _dec(getattr(found, "total", state.bexio_total))
    state.document_nr = getattr(found, "document_nr", "") or state.document_nr
    state.gone_in_bexio = False
    state.save(
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
    if changed:
        result.changed += 1


def sync_status(org, client=None, *, full: bool = False) -> SyncResult:
    """Bring status and payments of the organisation's transferred invoices up to date."""
    if client is None:
        from .services import client_for

        client = client_for(org)
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
            states = TransferState.objects.filter(organisation=org, bexio_id__in=list(by_id)).select_related(
                "invoice__member"
            )
            for state in states:
                found = by_id[state.bexio_id]
                result.seen += 1
                _apply(state, found, client, result)
            for f in page:
                ts = _ts(getattr(f, "updated_at", None))
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
    gone = TransferState.objects.filter(organisation=org, bexio_id__isnull=False).exclude(bexio_id__in=ids)
    n = gone.filter(gone_in_bexio=False).update(gone_in_bexio=True)
    TransferState.objects.filter(organisation=org, bexio_id__in=ids, gone_in_bexio=True).update(
        gone_in_bexio=False
    )
    return n


def sync_all() -> dict:
    """Every organisation whose connection allows transfers (the scheduled job)."""
    from aeroledger.bexio_link.connection.services import connection_for
    from aeroledger.tenancy.models import Organisation

    out = {}
    for org in Organisation.objects.filter(bexio_option=True):
        conn = connection_for(org)
        if conn is None or not conn.transfers_allowed:
            continue
        if not TransferState.objects.filter(organisation=org, bexio_id__isnull=False).exists():
            continue
        last_full = SyncState.objects.filter(organisation=org).values_list("last_full_at", flat=True).first()
        full = last_full is None or timezone.now() - last_full > FULL_CHECK_EVERY
        try:
            out[org.slug] = sync_status(org, full=full).as_dict()
        except Exception as exc:  # noqa: BLE001 - one organisation's failure never stops the others
            log.warning("status sync of %s failed: %s", org.slug, exc)
            out[org.slug] = {"error": str(exc)}
    return out
