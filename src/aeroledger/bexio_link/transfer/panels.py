"""The bexio parts of the club's invoice pages (registered in hooks.register)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from aeroledger.billing.models import Invoice, InvoiceStatus
from aeroledger.tenancy.models import Perm

from .models import InvoiceLink, ItemKind, ItemStatus, OutboxItem


def invoice_states(organisation, invoice_ids) -> dict | None:
    """{invoice id: {label, css, selectable}} for a page of the invoice list (two queries)."""
    if not organisation.bexio_option:
        return None
    links = {
        link.invoice_id: link
        for link in InvoiceLink.objects.filter(organisation=organisation, invoice_id__in=invoice_ids)
    }
    items: dict[int, list[OutboxItem]] = {}
    for item in OutboxItem.objects.filter(organisation=organisation, invoice_id__in=invoice_ids).exclude(
        status=ItemStatus.CANCELLED
    ):
        items.setdefault(item.invoice_id, []).append(item)
    statuses = dict(Invoice.objects.filter(pk__in=invoice_ids).values_list("pk", "status"))
    states = {}
    for invoice_id in invoice_ids:
        link, writes = links.get(invoice_id), items.get(invoice_id, [])
        failed = any(w.status == ItemStatus.FAILED for w in writes)
        waiting = [w for w in writes if w.status in (ItemStatus.PENDING, ItemStatus.SENDING)]
        if failed:
            state = {"label": _("Needs attention"), "css": "err"}
        elif link is not None and link.document_nr:
            state = {"label": link.document_nr, "css": "ok"}
        elif waiting:
            state = {"label": _("Waiting"), "css": ""}
        elif writes and all(w.status == ItemStatus.DONE for w in writes):
            state = {"label": _("Booked"), "css": "ok"}
        else:
            state = None
        selectable = statuses.get(invoice_id) == InvoiceStatus.APPROVED and not (
            writes and all(w.status == ItemStatus.DONE for w in writes)
        )
        if state is not None or selectable:
            states[invoice_id] = {**(state or {"label": "", "css": ""}), "selectable": selectable}
    return states


def invoice_list_panel(request, **_kwargs) -> str | None:
    organisation = request.organisation
    if not organisation.bexio_option:
        return None
    approved = Invoice.objects.filter(organisation=organisation, status=InvoiceStatus.APPROVED).count()
    return render_to_string(
        "bexio_transfer/_invoice_list_panel.html",
        {
            "approved_count": approved,
            "can_transfer": request.membership.has_perm(Perm.MANAGE_INVOICING),
            "organisation": organisation,
        },
        request=request,
    )


def invoice_detail_panel(request, invoice=None, **_kwargs) -> str | None:
    organisation = request.organisation
    if invoice is None or not organisation.bexio_option:
        return None
    items = list(
        OutboxItem.objects.filter(invoice=invoice).exclude(status=ItemStatus.CANCELLED).order_by("kind")
    )
    link = InvoiceLink.objects.filter(invoice=invoice).first()
    if not items and link is None:
        return None
    return render_to_string(
        "bexio_transfer/_invoice_panel.html",
        {
            "invoice": invoice,
            "link": link,
            "invoice_item": next((i for i in items if i.kind == ItemKind.INVOICE), None),
            "booking_item": next((i for i in items if i.kind == ItemKind.MANUAL_ENTRY), None),
            "organisation": organisation,
        },
        request=request,
    )
