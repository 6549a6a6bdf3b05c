"""Invoicing > Bexio > Transfer (progress, start, preview), the transfer log, an invoice in bexio."""

import base64
import logging
from collections import Counter
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aeroledger.bexio_link.connection.clients import client_for, describe_error
from aeroledger.bexio_link.connection.models import BexioCall
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.billing.models import Invoice, InvoicePosition, InvoiceStatus
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.http import safe_next
from aeroledger.tenancy.models import Perm
from aeroledger.tenancy.params import int_list_param, int_param
from bexio import errors

from .invoices import status as bexio_status
from .invoices.plan import plan_invoice
from .invoices.sync import sync_status
from .models import InvoiceLink, ItemStatus, OutboxAttempt, OutboxItem, SyncState, TransferBatch
from .outbox import enqueue
from .readiness import bexio_writable, transfer_problem
from .start import start_transfer

log = logging.getLogger(__name__)

WAITING_SHOWN = 200  # approved invoices listed on the transfer page
DETAILS_SHOWN = 50  # invoices shown in detail on the preview


def _back(request, default: str, slug: str):
    """To the POSTed `next` when it stays on this site (never an open redirect), else the named page."""
    return HttpResponseRedirect(safe_next(request, reverse(default, args=[slug])))


def _waiting(org):
    """Approved invoices with their writes (what is queued, in bexio, or needs attention)."""
    items = OutboxItem.objects.exclude(status=ItemStatus.CANCELLED).order_by("kind")
    return (
        Invoice.objects.filter(organisation=org, status=InvoiceStatus.APPROVED)
        .select_related("member")
        .prefetch_related(Prefetch("bexio_outbox", queryset=items, to_attr="writes"))
        .order_by("date", "number")
    )


def _live_context(org) -> dict:
    waiting = _waiting(org)
    return {
        "progress": enqueue.progress(org),
        "waiting": waiting[:WAITING_SHOWN],
        "waiting_count": waiting.count(),
        "failed_count": OutboxItem.objects.filter(organisation=org, status=ItemStatus.FAILED).count(),
    }


@org_required()
def transfers(request, slug):
    org = request.organisation
    context = {
        **_live_context(org),
        "sync": SyncState.objects.filter(organisation=org).first(),
        "connection_problem": transfer_problem(org),
        "can_manage": request.membership.has_perm(Perm.MANAGE_INVOICING),
        "batches": TransferBatch.objects.filter(organisation=org)[:5],
        "changed_in_bexio": InvoiceLink.objects.filter(organisation=org)
        .filter(Q(gone_in_bexio=True) | Q(bexio_status=bexio_status.BexioStatus.CANCELLED))
        .select_related("invoice__member")
        .order_by("-updated_at")[:50],
    }
    return render(request, "bexio_transfer/transfers.html", context)


@org_required()
def progress(request, slug):
    """The progress bar and the waiting list (htmx polls it while a transfer runs)."""
    context = {
        **_live_context(request.organisation),
        "can_manage": request.membership.has_perm(Perm.MANAGE_INVOICING),
        "connection_problem": transfer_problem(request.organisation),
    }
    return render(request, "bexio_transfer/_live.html", context)


@org_required(Perm.MANAGE_INVOICING, post=True)
@bexio_writable("bexio_transfer:transfers")
def start(request, slug):
    org = request.organisation
    # From this page or the invoice list: scope "all", or "selected" with invoice_ids (the default
    # when invoice_ids are posted without a scope).
    scope = request.POST.get("scope") or ("selected" if request.POST.getlist("invoice_ids") else "all")
    ids = int_list_param(request.POST, "invoice_ids", label=_("invoice")) if scope == "selected" else None
    if ids is not None and not ids:
        messages.warning(request, _("Select the invoices to transfer."))
        return _back(request, "bexio_transfer:transfers", slug)
    batch = start_transfer(org, ids, user=request.user)
    n = batch.items.count()
    if n:
        messages.success(
            request,
            ngettext(
                "The transfer has started: %(n)s document or booking goes to bexio.",
                "The transfer has started: %(n)s documents and bookings go to bexio.",
                n,
            )
            % {"n": n},
        )
    else:
        messages.info(request, _("There is nothing to transfer."))
    return redirect("bexio_transfer:transfers", slug)


@org_required()
def preview(request, slug):
    """What a transfer would send, and what blocks it: a summary, then details. Reads only."""
    org = request.organisation
    invoices = (
        Invoice.objects.filter(organisation=org, status=InvoiceStatus.APPROVED)
        .select_related("member__bexio_link", "organisation")
        .prefetch_related(
            Prefetch("positions", queryset=InvoicePosition.objects.select_related("aircraft", "aerodrome"))
        )
        .order_by("date", "number")
    )
    wanted = int_list_param(request.GET, "invoice", label=_("invoice"))
    if wanted:
        invoices = invoices.filter(pk__in=wanted)
    mapping = mapping_for(org)
    plans = [plan_invoice(inv, mapping=mapping) for inv in invoices]
    blockers = Counter(b for p in plans for b in p.blockers if not p.invoice.is_statement)
    to_bexio = [p for p in plans if not p.invoice.is_statement]
    context = {
        "summary": {
            "invoices": len(plans),
            "members": len({p.invoice.member_id for p in plans}),
            "to_bexio": len(to_bexio),
            "statements": len(plans) - len(to_bexio),
            "due": sum((p.invoice.amount_due for p in plans), Decimal("0")),
            "credit": sum((p.invoice.credit_applied for p in plans), Decimal("0")),
            "blocked": sum(1 for p in to_bexio if not p.ok),
        },
        "blockers": blockers.most_common(),
        "plans": [p for p in to_bexio if wanted or not p.ok][:DETAILS_SHOWN] if not wanted else to_bexio,
        "ready": [p for p in to_bexio if p.ok][:DETAILS_SHOWN],
        "wanted": wanted,
        "connection_problem": transfer_problem(org),
        "ledger_problems": mapping.ledger_problems(),
    }
    return render(request, "bexio_transfer/preview.html", context)


@org_required()
def log_view(request, slug):
    """Every attempt at a write and every bexio call of the organisation, filterable."""
    org = request.organisation
    show = request.GET.get("show", "attempts")
    q = (request.GET.get("q") or "").strip()[:100]
    outcome = request.GET.get("outcome") or ""
    status = request.GET.get("status") or ""
    if show == "calls":
        rows = BexioCall.objects.filter(organisation=org)
        if q:
            rows = rows.filter(Q(path__icontains=q) | Q(message__icontains=q) | Q(context__icontains=q))
        if status == "errors":
            rows = rows.filter(Q(status__gte=400) | Q(status__isnull=True))
        elif status:
            rows = rows.filter(
                status=int_param(request.GET, "status", label=_("status"), min_value=100, max_value=599)
            )
    else:
        rows = OutboxAttempt.objects.filter(organisation=org).select_related(
            "item__invoice__member", "item__credit_entry"
        )
        if q:
            rows = rows.filter(
                Q(item__label__icontains=q)
                | Q(item__bexio_ref__icontains=q)
                | Q(message__icontains=q)
                | Q(item__invoice__number__icontains=q)
            )
        if outcome in OutboxAttempt.Outcome.values:
            rows = rows.filter(outcome=outcome)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    failed = OutboxItem.objects.filter(organisation=org, status=ItemStatus.FAILED).order_by("kind", "label")
    context = {
        "show": show,
        "q": q,
        "outcome": outcome,
        "status": status,
        "page": page,
        "outcomes": OutboxAttempt.Outcome.choices,
        "failed": failed[:200],
        "failed_count": failed.count(),
        "can_manage": request.membership.has_perm(Perm.MANAGE_INVOICING),
    }
    return render(request, "bexio_transfer/log.html", context)


@org_required(Perm.MANAGE_INVOICING, post=True)
def retry(request, slug, item_id):
    org = request.organisation
    item = get_object_or_404(OutboxItem, organisation=org, pk=item_id)
    if item.status != ItemStatus.FAILED:
        messages.info(request, _("This is not waiting for a retry."))
    else:
        enqueue.retry(org, [item.pk], user=request.user)
        messages.success(
            request, _("%(what)s goes to bexio again.") % {"what": item.label or item.get_kind_display()}
        )
    return _back(request, "bexio_transfer:log", slug)


@org_required(Perm.MANAGE_INVOICING, post=True)
def retry_all(request, slug):
    org = request.organisation
    n = OutboxItem.objects.filter(organisation=org, status=ItemStatus.FAILED).count()
    if n:
        enqueue.retry(org, user=request.user)
        messages.success(
            request,
            ngettext("%(n)s write goes to bexio again.", "%(n)s writes go to bexio again.", n) % {"n": n},
        )
    else:
        messages.info(request, _("Nothing needs a retry."))
    return redirect("bexio_transfer:log", slug)


@org_required(Perm.MANAGE_INVOICING, post=True)
@bexio_writable("bexio_transfer:transfers")
def sync_now(request, slug):
    org = request.organisation
    try:
        result = sync_status(org, full=True)
    except Exception as exc:  # noqa: BLE001 - shown to the person, details in the call log
        messages.error(request, _("The status sync failed: %(error)s") % {"error": describe_error(exc)})
    else:
        messages.success(
            request,
            _("Status updated from bexio: %(changed)s invoices changed, %(payments)s new payments.")
            % {"changed": result.changed, "payments": result.payments},
        )
    return _back(request, "bexio_transfer:transfers", slug)


@org_required()
def invoice(request, slug, invoice_id):
    org = request.organisation
    inv = get_object_or_404(Invoice.objects.select_related("member"), organisation=org, pk=invoice_id)
    items = list(OutboxItem.objects.filter(organisation=org, invoice=inv).order_by("kind"))
    context = {
        "invoice": inv,
        "link": InvoiceLink.objects.filter(organisation=org, invoice=inv).first(),
        "items": items,
        "attempts": OutboxAttempt.objects.filter(item__in=items).select_related("item")[:20],
        "payments": inv.payments.all(),
        "can_manage": request.membership.has_perm(Perm.MANAGE_INVOICING),
    }
    return render(request, "bexio_transfer/invoice.html", context)


@org_required()
def invoice_pdf(request, slug, invoice_id):
    """bexio's PDF of the invoice, fetched through the organisation's own connection."""
    org = request.organisation
    inv = get_object_or_404(Invoice, organisation=org, pk=invoice_id)
    link = InvoiceLink.objects.filter(organisation=org, invoice=inv, bexio_id__isnull=False).first()
    if link is None:
        raise Http404
    try:
        content = client_for(org, context=f"pdf:{inv.number}").invoices.pdf(link.bexio_id)
    except errors.NotFoundError:
        InvoiceLink.objects.filter(pk=link.pk).update(gone_in_bexio=True)
        messages.error(request, _("The invoice no longer exists in bexio."))
        return redirect("bexio_transfer:invoice", slug, invoice_id)
    except Exception as exc:  # noqa: BLE001
        messages.error(
            request, _("bexio did not deliver the PDF: %(error)s") % {"error": describe_error(exc)}
        )
        return redirect("bexio_transfer:invoice", slug, invoice_id)
    if isinstance(content, str):
        content = base64.b64decode(content)
    response = HttpResponse(content, content_type="application/pdf")
    filename = (link.document_nr or inv.number or "invoice").replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    return response
