"""What the transfer adds to the club's pages (tenancy.hooks slots, registered in apps.py).

- "dashboard": how many approved invoices wait for the transfer, how many failed, the last status
  sync; each number links to the invoice list filtered the same way ("bexio" filter below).
- "invoice_list": the transfer buttons above the invoice list (Transfer all asks first, saying
  how many invoices and how much).
- "invoice_list_rows" (facts): the bexio column of the invoice list's rows, one query per page.
- "invoice_list_filters" (facts): the invoice list's "bexio" filter (waiting / failed / in bexio).
"""

from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from aeroledger.billing.models import Invoice, InvoiceStatus
from aeroledger.tenancy.figures import figure
from aeroledger.tenancy.models import Perm

from .models import SyncState, TransferState, TransferStatus

FILTER_CHOICES = [
    ("waiting", _("Waiting for the transfer")),
    ("failed", _("Transfer failed")),
    ("transferred", _("In bexio")),
]


def _approved(organisation):
    return Invoice.objects.filter(organisation=organisation, status=InvoiceStatus.APPROVED)


def waiting(invoices):
    """Approved invoices not (yet) in bexio and not failed: the next transfer sends them."""
    return invoices.filter(status=InvoiceStatus.APPROVED).exclude(
        bexio_transfer__status__in=[TransferStatus.DONE, TransferStatus.FAILED]
    )


def failed(invoices):
    return invoices.filter(bexio_transfer__status=TransferStatus.FAILED)


def transferred(invoices):
    return invoices.filter(bexio_transfer__status=TransferStatus.DONE)


APPLY = {"waiting": waiting, "failed": failed, "transferred": transferred}


def _counts(organisation) -> dict:
    """Approved invoices waiting for the transfer (with their total) and failed transfers.

    Cheap on 50,000 invoices: the approved ones through the (organisation, status) index, the
    failed states through theirs; no join over every invoice. An approved invoice whose transfer
    just finished counts as waiting until it is marked transferred, moments later.
    """
    approved = _approved(organisation).order_by().aggregate(n=Count("pk"), total=Sum("total"))
    failed = (
        TransferState.objects.filter(organisation=organisation, status=TransferStatus.FAILED)
        .order_by()
        .aggregate(
            n=Count("pk"),
            approved=Count("pk", filter=Q(invoice__status=InvoiceStatus.APPROVED)),
            approved_total=Sum("invoice__total", filter=Q(invoice__status=InvoiceStatus.APPROVED)),
        )
    )
    return {
        "approved": approved["n"],
        "approved_total": approved["total"] or 0,
        "waiting": approved["n"] - failed["approved"],
        "waiting_total": (approved["total"] or 0) - (failed["approved_total"] or 0),
        "failed": failed["n"],
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
    states = {
        s.invoice_id: s
        for s in TransferState.objects.filter(organisation=organisation, invoice_id__in=ids).only(
            "invoice_id", "status", "document_nr"
        )
    }
    membership = getattr(request, "membership", None)
    can_transfer = bool(membership and membership.has_perm(Perm.MANAGE_INVOICING))
    rows = {}
    for inv in invoices:
        state = states.get(inv.pk)
        rows[inv.pk] = {
            "text": (state.document_nr or state.get_status_display()) if state else "",
            "failed": bool(state and state.status == TransferStatus.FAILED),
            "selectable": can_transfer
            and inv.status == InvoiceStatus.APPROVED
            and (state is None or state.status != TransferStatus.DONE),
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
