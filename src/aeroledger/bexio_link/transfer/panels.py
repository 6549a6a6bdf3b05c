"""What the transfer adds to the club's pages (tenancy.hooks slots, registered in hooks.register).

- "dashboard": how many approved invoices wait for the transfer, how many writes failed, the last
  status sync; each number links to the invoice list filtered the same way ("bexio" filter below).
- "invoice_list": the transfer buttons above the invoice list (Transfer all asks first, saying
  how many invoices and how much).
- "invoice_list_rows" (facts): the bexio column of the invoice list's rows, two queries per page.
- "invoice_list_filters" (facts): the invoice list's "bexio" filter (waiting / failed / in bexio).
- "invoice_detail": what bexio has of an invoice (its number, status, PDF, bexio's message).
"""

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from aeroledger.billing.models import Invoice, InvoiceStatus
from aeroledger.tenancy.figures import figure
from aeroledger.tenancy.models import Perm

from .models import InvoiceLink, ItemKind, ItemStatus, OutboxItem, SyncState

FILTER_CHOICES = [
    ("waiting", _("Waiting for the transfer")),
    ("failed", _("Transfer failed")),
    ("transferred", _("In bexio")),
]


def _writes(status):
    return OutboxItem.objects.filter(invoice=OuterRef("pk"), status=status)


def waiting(invoices):
    """Approved invoices whose writes are not all in bexio and none failed: the next transfer sends them."""
    return invoices.filter(status=InvoiceStatus.APPROVED).exclude(Exists(_writes(ItemStatus.FAILED)))


def failed(invoices):
    return invoices.filter(Exists(_writes(ItemStatus.FAILED)))


def transferred(invoices):
    return invoices.filter(Exists(_writes(ItemStatus.DONE))).exclude(status=InvoiceStatus.APPROVED)


APPLY = {"waiting": waiting, "failed": failed, "transferred": transferred}


def _counts(organisation) -> dict:
    """Approved invoices waiting for the transfer (with their total) and failed writes.

    Cheap on 50,000 invoices: the approved ones through the (organisation, status) index, the failed
    items through theirs; no join over every invoice.
    """
    approved = (
        Invoice.objects.filter(organisation=organisation, status=InvoiceStatus.APPROVED)
        .order_by()
        .aggregate(n=Count("pk"), total=Sum("amount_due"))
    )
    failed_items = (
        OutboxItem.objects.filter(organisation=organisation, status=ItemStatus.FAILED)
        .order_by()
        .aggregate(
            n=Count("pk"),
            approved=Count("invoice", distinct=True, filter=Q(invoice__status=InvoiceStatus.APPROVED)),
        )
    )
    failed_total = (
        Invoice.objects.filter(organisation=organisation, status=InvoiceStatus.APPROVED)
        .filter(Exists(_writes(ItemStatus.FAILED)))
        .aggregate(total=Sum("amount_due"))["total"]
    )
    return {
        "approved": approved["n"],
        "approved_total": approved["total"] or 0,
        "waiting": approved["n"] - failed_items["approved"],
        "waiting_total": (approved["total"] or 0) - (failed_total or 0),
        "failed": failed_items["n"],
    }


def dashboard_panel(request, organisation, **_kwargs):
    if not organisation.bexio_option:
        return None
    context = {
        "organisation": organisation,
        "counts": figure(request, "bexio_transfer_counts", lambda: _counts(organisation)),
        "sync": SyncState.objects.filter(organisation=organisation).first(),
    }
    return render_to_string("bexio_transfer/panels/dashboard.html", context, request=request)


def invoice_list_panel(request, organisation, **_kwargs):
    """The transfer buttons above the invoice list (bexio option only)."""
    if not organisation.bexio_option:
        return None
    # "Transfer all" sends every approved invoice not yet in bexio (failed ones are retried). The
    # counts are exact after any change made through the pages (approvals included): see figures.
    counts = figure(request, "bexio_transfer_counts", lambda: _counts(organisation))
    membership = getattr(request, "membership", None)
    context = {
        "organisation": organisation,
        "can_transfer": bool(membership and membership.has_perm(Perm.MANAGE_INVOICING)),
        "approved_count": counts["approved"],
        "approved_total": counts["approved_total"],
        "next": request.get_full_path(),
    }
    return render_to_string("bexio_transfer/panels/invoice_list.html", context, request=request)


def invoice_list_rows(request, organisation, invoices, **_kwargs):
    """The bexio column: {"label", "select_form", "rows": {invoice id: {text, failed, selectable}}}."""
    if not organisation.bexio_option:
        return None
    ids = [inv.pk for inv in invoices]
    numbers = dict(
        InvoiceLink.objects.filter(organisation=organisation, invoice_id__in=ids).values_list(
            "invoice_id", "document_nr"
        )
    )
    writes: dict[int, list[str]] = {}
    for invoice_id, status in (
        OutboxItem.objects.filter(organisation=organisation, invoice_id__in=ids)
        .exclude(status=ItemStatus.CANCELLED)
        .values_list("invoice_id", "status")
    ):
        writes.setdefault(invoice_id, []).append(status)
    membership = getattr(request, "membership", None)
    can_transfer = bool(membership and membership.has_perm(Perm.MANAGE_INVOICING))
    labels = dict(ItemStatus.choices)
    rows = {}
    for inv in invoices:
        statuses = writes.get(inv.pk, [])
        is_failed = ItemStatus.FAILED in statuses
        all_done = bool(statuses) and all(s == ItemStatus.DONE for s in statuses)
        if is_failed:
            text = labels[ItemStatus.FAILED]
        elif numbers.get(inv.pk):
            text = numbers[inv.pk]
        elif all_done:
            text = _("Booked")
        elif statuses:
            text = labels[ItemStatus.PENDING]
        else:
            text = ""
        rows[inv.pk] = {
            "text": text,
            "failed": is_failed,
            "selectable": can_transfer and inv.status == InvoiceStatus.APPROVED and not all_done,
        }
    return {"label": "bexio", "select_form": "bexio-transfer-form" if can_transfer else "", "rows": rows}


def invoice_list_filters(request, organisation, **_kwargs):
    """The invoice list's "bexio" filter."""
    if not organisation.bexio_option:
        return None
    return {
        "name": "bexio",
        "label": _("bexio"),
        "empty": _("bexio: all"),
        "choices": FILTER_CHOICES,
        "apply": lambda invoices, value: APPLY[value](invoices) if value in APPLY else invoices,
    }


def invoice_detail_panel(request, invoice=None, **_kwargs):
    organisation = request.organisation
    if invoice is None or not organisation.bexio_option:
        return None
    items = list(
        OutboxItem.objects.filter(invoice=invoice).exclude(status=ItemStatus.CANCELLED).order_by("kind")
    )
    link = InvoiceLink.objects.filter(invoice=invoice).first()
    if not items and link is None:
        return None
    context = {
        "invoice": invoice,
        "link": link,
        "invoice_item": next((i for i in items if i.kind == ItemKind.INVOICE), None),
        "booking_item": next((i for i in items if i.kind == ItemKind.MANUAL_ENTRY), None),
        "organisation": organisation,
    }
    return render_to_string("bexio_transfer/_invoice_panel.html", context, request=request)
