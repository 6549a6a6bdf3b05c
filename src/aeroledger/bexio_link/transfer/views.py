"""Invoicing > Bexio > Transfer (progress, start, preview), the transfer log, the bexio invoice page."""

import base64
import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from aeroledger.billing.models import Invoice, InvoiceStatus
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.models import Perm

from . import services
from .models import SyncState, TransferAttempt, TransferBatch, TransferState, TransferStatus

log = logging.getLogger(__name__)

PREVIEW_LIMIT = 50


def _connection_problem(org) -> str:
    from aeroledger.bexio_link.connection.services import connection_for

    conn = connection_for(org)
    if conn is None:
        return _("bexio is not connected (Bexio > Authorisation).")
    if not conn.transfers_allowed:
        if conn.needs_reconnect:
            return _("The bexio connection needs to be renewed (Bexio > Authorisation > Get new token).")
        return _("The bexio connection lacks a required permission (Bexio > Authorisation).")
    return ""


def _ids(request) -> list[int]:
    out = []
    for value in request.POST.getlist("invoice_ids"):
        try:
            out.append(int(value))
        except ValueError:
            continue
    return out


@org_required()
def transfers(request, slug):
    org = request.organisation
    approved = (
        Invoice.objects.filter(organisation=org, status=InvoiceStatus.APPROVED)
        .select_related("member", "bexio_transfer")
        .order_by("date", "number")
    )
    context = {
        "progress": services.progress(org),
        "approved": approved[:500],
        "approved_count": approved.count(),
        "failed_count": TransferState.objects.filter(organisation=org, status=TransferStatus.FAILED).count(),
        "sync": SyncState.objects.filter(organisation=org).first(),
        "connection_problem": _connection_problem(org),
        "can_manage": request.membership.has_perm(Perm.MANAGE_INVOICING),
        "batches": TransferBatch.objects.filter(organisation=org)[:5],
        "changed_in_bexio": TransferState.objects.filter(organisation=org)
        .filter(Q(gone_in_bexio=True) | Q(bexio_status=19))
        .select_related("invoice__member")
        .order_by("-updated_at")[:50],
    }
    return render(request, "bexio_transfer/transfers.html", context)


@org_required()
def progress(request, slug):
    """The progress bar (htmx polls it while a transfer runs)."""
    return render(
        request, "bexio_transfer/_progress.html", {"progress": services.progress(request.organisation)}
    )


@org_required(Perm.MANAGE_INVOICING, post=True)
def start(request, slug):
    org = request.organisation
    problem = _connection_problem(org)
    if problem:
        messages.error(request, problem)
        return redirect("bexio_transfer:transfers", slug)
    # From this page or the invoice list: scope "all", or "selected" with invoice_ids (the default
    # when invoice_ids are posted without a scope).
    scope = request.POST.get("scope") or ("selected" if request.POST.getlist("invoice_ids") else "all")
    ids = _ids(request) if scope == "selected" else None
    if ids is not None and not ids:
        messages.warning(request, _("Select the invoices to transfer."))
        return redirect(request.POST.get("next") or "bexio_transfer:transfers", slug)
    batch = services.start_transfer(org, ids, user=request.user)
    n = batch.states.count()
    if n:
        messages.success(request, _("The transfer of %(n)s invoices has started.") % {"n": n})
    else:
        messages.info(request, _("There is nothing to transfer."))
    return redirect("bexio_transfer:transfers", slug)


@org_required()
def preview(request, slug):
    """What a transfer would send, and what blocks it. Reads only; calls nobody."""
    from aeroledger.bexio_link.masterdata.services import mapping_for

    from .plan import plan_invoice

    org = request.organisation
    invoices = (
        Invoice.objects.filter(organisation=org, status=InvoiceStatus.APPROVED)
        .select_related("member", "organisation")
        .order_by("date", "number")
    )
    wanted = [int(v) for v in request.GET.getlist("invoice") if v.isdigit()]
    if wanted:
        invoices = invoices.filter(pk__in=wanted)
    total = invoices.count()
    mapping = mapping_for(org)
    plans = [plan_invoice(inv, mapping=mapping) for inv in invoices[:PREVIEW_LIMIT]]
    context = {
        "plans": plans,
        "total": total,
        "shown": len(plans),
        "blocked": sum(1 for p in plans if not p.ok),
        "connection_problem": _connection_problem(org),
    }
    return render(request, "bexio_transfer/preview.html", context)


@org_required()
def log_view(request, slug):
    """Every transfer attempt and every bexio call of the organisation, filterable."""
    from aeroledger.bexio_link.connection.models import BexioCall

    org = request.organisation
    show = request.GET.get("show", "attempts")
    q = (request.GET.get("q") or "").strip()
    outcome = request.GET.get("outcome") or ""
    status = request.GET.get("status") or ""
    if show == "calls":
        rows = BexioCall.objects.filter(organisation=org)
        if q:
            rows = rows.filter(Q(path__icontains=q) | Q(message__icontains=q) | Q(context__icontains=q))
        if status == "errors":
            rows = rows.filter(Q(status__gte=400) | Q(status__isnull=True))
        elif status.isdigit():
            rows = rows.filter(status=int(status))
    else:
        rows = TransferAttempt.objects.filter(organisation=org).select_related("state__invoice__member")
        if q:
            rows = rows.filter(
                Q(state__invoice__number__icontains=q)
                | Q(state__document_nr__icontains=q)
                | Q(message__icontains=q)
                | Q(state__invoice__member__last_name__icontains=q)
            )
        if outcome:
            rows = rows.filter(outcome=outcome)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    failed = (
        TransferState.objects.filter(organisation=org, status=TransferStatus.FAILED)
        .select_related("invoice__member")
        .order_by("invoice__number")
    )
    context = {
        "show": show,
        "q": q,
        "outcome": outcome,
        "status": status,
        "page": page,
        "outcomes": TransferAttempt.Outcome.choices,
        "failed": failed[:200],
        "failed_count": failed.count(),
        "can_manage": request.membership.has_perm(Perm.MANAGE_INVOICING),
    }
    return render(request, "bexio_transfer/log.html", context)


@org_required(Perm.MANAGE_INVOICING, post=True)
def retry(request, slug, invoice_id):
    org = request.organisation
    state = get_object_or_404(TransferState, organisation=org, invoice_id=invoice_id)
    if state.status != TransferStatus.FAILED:
        messages.info(request, _("This invoice is not waiting for a retry."))
    else:
        services.retry_failed(org, [state.pk], user=request.user)
        messages.success(request, _("The invoice will be transferred again."))
    return redirect(request.POST.get("next") or "bexio_transfer:log", slug)


@org_required(Perm.MANAGE_INVOICING, post=True)
def retry_all(request, slug):
    org = request.organisation
    n = TransferState.objects.filter(organisation=org, status=TransferStatus.FAILED).count()
    if n:
        services.retry_failed(org, user=request.user)
        messages.success(request, _("%(n)s invoices will be transferred again.") % {"n": n})
    else:
        messages.info(request, _("No invoice needs a retry."))
    return redirect("bexio_transfer:log", slug)


@org_required(Perm.MANAGE_INVOICING, post=True)
def sync_now(request, slug):
    from .sync import sync_status

    org = request.organisation
    problem = _connection_problem(org)
    if problem:
        messages.error(request, problem)
        return redirect("bexio_transfer:transfers", slug)
    try:
        result = sync_status(org, full=True)
    except Exception as exc:  # noqa: BLE001 - shown to the person, details in the call log
        messages.error(
            request, _("The status sync failed: %(error)s") % {"error": getattr(exc, "message", exc)}
        )
    else:
        messages.success(
            request,
            _("Status updated from bexio: %(changed)s invoices changed, %(payments)s new payments.")
            % {"changed": result.changed, "payments": result.payments},
        )
    return redirect(request.POST.get("next") or "bexio_transfer:transfers", slug)


@org_required()
def invoice(request, slug, invoice_id):
    org = request.organisation
    inv = get_object_or_404(Invoice.objects.select_related("member"), organisation=org, pk=invoice_id)
    state = TransferState.objects.filter(organisation=org, invoice=inv).first()
    context = {
        "invoice": inv,
        "state": state,
        "attempts": state.log.all()[:20] if state else [],
        "payments": inv.credit_entries.filter(external_ref__startswith="bexio-payment:"),
        "can_manage": request.membership.has_perm(Perm.MANAGE_INVOICING),
    }
    return render(request, "bexio_transfer/invoice.html", context)


@org_required()
def invoice_pdf(request, slug, invoice_id):
    """bexio's PDF of the invoice, fetched through the organisation's own connection."""
    from bexio import errors

    org = request.organisation
    inv = get_object_or_404(Invoice, organisation=org, pk=invoice_id)
    state = TransferState.objects.filter(organisation=org, invoice=inv, bexio_id__isnull=False).first()
    if state is None:
        raise Http404
    try:
        client = services.client_for(org)
        content = client.invoices.pdf(state.bexio_id)
    except errors.NotFoundError:
        TransferState.objects.filter(pk=state.pk).update(gone_in_bexio=True)
        messages.error(request, _("The invoice no longer exists in bexio."))
        return redirect("bexio_transfer:invoice", slug, invoice_id)
    except Exception as exc:  # noqa: BLE001
        messages.error(
            request, _("bexio did not deliver the PDF: %(error)s") % {"error": getattr(exc, "message", exc)}
        )
        return redirect("bexio_transfer:invoice", slug, invoice_id)
    if isinstance(content, str):
        content = base64.b64decode(content)
    response = HttpResponse(content, content_type="application/pdf")
    filename = (state.document_nr or f"invoice-{inv.pk}").replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    return response
