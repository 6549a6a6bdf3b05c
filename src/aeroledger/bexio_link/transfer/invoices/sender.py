"""The outbox sender of invoices: our invoice (its due part) becomes one bexio kb_invoice, once.

send: ensure the member's contact, `POST /2.0/kb_invoice` with the first 150 positions and
`api_reference` = our invoice's UUID. find (before any retry): by the known bexio id, else a search
on `api_reference`. complete: add the positions beyond 150 one by one (counted, resumable), check
that bexio's invoice matches ours (positions and total), issue and send it when the mapping says so.
done: the invoice is "transferred" here (and "open" once issued), in the item's final transaction.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.bexio_link.masterdata.contacts import ContactSyncError, ensure_contact, ensure_contact_group
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.billing.models import Invoice, InvoicePosition, InvoiceStatus
from bexio import Criterion, errors
from bexio.models import InvoiceSend
from bexio.models import InvoiceStatus as BexioStatus
from bexio.models.types import format_zurich

from ..models import InvoiceLink, ItemKind, OutboxItem
from ..outbox.db import db_section
from ..outbox.senders import Blocked, OrgState, Progress, Rejected, Sender, register
from .plan import InvoicePlan, plan_invoice

# Position types that carry an amount (what we send); bexio may add text or subtotal lines.
ITEM_KINDS = {"article", "custom"}


def items_of(bexio_invoice) -> list:
    return [p for p in bexio_invoice.positions or [] if getattr(p, "kind", None) in ITEM_KINDS]


def verify(bexio_invoice, plan: InvoicePlan) -> list[str]:
    """Differences between what bexio has and what we planned (empty = it matches)."""
    problems = []
    got = len(items_of(bexio_invoice))
    if got != len(plan.positions):
        problems.append(
            _("bexio has %(got)s positions, Aeroledger %(want)s.") % {"got": got, "want": len(plan.positions)}
        )
    total = bexio_invoice.total if bexio_invoice.total is not None else Decimal("0")
    if abs(total - plan.expected_total) >= Decimal("0.01"):
        problems.append(
            _("bexio's total is %(got)s, Aeroledger's %(want)s.")
            % {"got": total, "want": plan.expected_total}
        )
    return problems


def find_by_reference(client, api_reference: str):
    """The bexio invoice an earlier attempt created for our invoice, if any (the oldest one)."""
    found = [f for f in client.invoices.search([Criterion.eq("api_reference", api_reference)])]
    found = [f for f in found if str(f.api_reference or "") == api_reference]
    return min(found, key=lambda f: f.id) if found else None


def mapping_of(org: OrgState):
    """The organisation's mapping, read once per run and shared by every sender and thread."""
    return org.get("mapping", lambda: mapping_for(org.org))


@register
class InvoiceSender(Sender):
    kind = ItemKind.INVOICE

    def load(self, items: list[OutboxItem]) -> None:
        """Invoices, members (with their contact link), positions and bexio links: four queries."""
        positions = InvoicePosition.objects.select_related("aircraft", "aerodrome").order_by("pos", "id")
        invoices = (
            Invoice.objects.filter(pk__in=[i.invoice_id for i in items])
            .select_related("member__bexio_link", "organisation")
            .prefetch_related(Prefetch("positions", queryset=positions))
        )
        by_id = {inv.pk: inv for inv in invoices}
        links = {link.invoice_id: link for link in InvoiceLink.objects.filter(invoice_id__in=list(by_id))}
        for item in items:
            invoice = by_id.get(item.invoice_id)
            if invoice is not None and invoice.member.organisation_id == invoice.organisation_id:
                invoice.member.organisation = invoice.organisation  # one object, not one more join
            item.invoice = invoice
            item._link = links.get(item.invoice_id)
            item._link_absent = item._link is None

    def prepare(self, org: OrgState, client) -> None:
        mapping = mapping_of(org)
        if not mapping.contact_group_id:
            # The members' contact group, made once here (not by eight threads at once).
            try:
                ensure_contact_group(client, mapping)
            except errors.BexioError:
                pass  # each invoice reports it when it needs the contact
        mapping.problems()  # warm the mapping's caches before the threads share it

    # --- the write ------------------------------------------------------------------------------
    def _link(self, item: OutboxItem) -> InvoiceLink:
        link = getattr(item, "_link", None)
        if link is None:
            with db_section():
                if item.__dict__.pop("_link_absent", False):
                    # `load` found none just before: insert without reading again (as get_or_create
                    # does after its read: a link made meanwhile by another process is read instead).
                    try:
                        with transaction.atomic():
                            link = InvoiceLink.objects.create(
                                invoice_id=item.invoice_id, organisation_id=item.organisation_id
                            )
                    except IntegrityError:
                        link = InvoiceLink.objects.get(invoice_id=item.invoice_id)
                else:
                    link, _created = InvoiceLink.objects.get_or_create(
                        invoice_id=item.invoice_id, defaults={"organisation_id": item.organisation_id}
                    )
            item._link = link
        return link

    def _plan(self, item: OutboxItem, org: OrgState) -> InvoicePlan:
        plan = getattr(item, "_plan", None)
        if plan is None:
            with db_section():
                plan = plan_invoice(item.invoice, mapping=mapping_of(org))
            item._plan = plan
        return plan

    def find(self, item: OutboxItem, client, org: OrgState):
        link = self._link(item)
        if link.bexio_id:
            try:
                return client.invoices.get(link.bexio_id)
            except errors.NotFoundError:
                link.gone_in_bexio = True
                with db_section():
                    link.save(update_fields=["gone_in_bexio", "updated_at"])
                raise Rejected(
                    _("The invoice %(nr)s no longer exists in bexio.") % {"nr": link.document_nr}, 404
                ) from None
        found = find_by_reference(client, str(item.invoice.uuid))
        # A search answer carries no positions: read the whole invoice before counting them.
        return client.invoices.get(found.id) if found is not None else None

    def find_many(self, items: list[OutboxItem], client, org: OrgState) -> None:
        """One `in` search for the api_references of the slice (not one per invoice)."""
        wanted = {str(item.invoice.uuid): item for item in items}
        found: dict[str, object] = {}
        for bexio_invoice in client.invoices.search_in("api_reference", list(wanted)):
            ref = str(bexio_invoice.api_reference or "")
            if ref in wanted and (ref not in found or bexio_invoice.id < found[ref].id):
                found[ref] = bexio_invoice
        for ref, item in wanted.items():
            # A search answer carries no positions: the attempt reads the whole invoice by id.
            item.looked_up = client.invoices.get(found[ref].id) if ref in found else None

    def send(self, item: OutboxItem, client, org: OrgState):
        plan = self._plan(item, org)
        if plan.blockers:
            raise Blocked("; ".join(plan.blockers))
        link = self._link(item)
        with db_section():
            try:
                link.contact_id = ensure_contact(client, item.invoice.member, mapping=mapping_of(org))
            except ContactSyncError as exc:
                raise Blocked(str(exc)) from None
        return client.invoices.create(plan.create_body(link.contact_id))

    def complete(self, item: OutboxItem, client, org: OrgState, answer, progress: Progress) -> None:
        plan = self._plan(item, org)
        link = self._link(item)
        link.bexio_id, link.document_nr = answer.id, answer.document_nr or link.document_nr
        link.contact_id = answer.contact_id or link.contact_id
        link.positions_total = len(plan.positions)
        link.positions_confirmed = len(items_of(answer))
        if link.positions_confirmed < link.positions_total:
            # Positions follow one by one: remember the invoice and each position bexio confirmed.
            self._save(
                link, "bexio_id", "document_nr", "contact_id", "positions_confirmed", "positions_total"
            )
            positions = client.invoices.positions(link.bexio_id)
            bodies = plan.position_bodies()
            while link.positions_confirmed < link.positions_total:
                positions.create(bodies[link.positions_confirmed])
                link.positions_confirmed += 1
                self._save(link, "positions_confirmed")
            answer = client.invoices.get(link.bexio_id)
        link.bexio_total = answer.total
        link.bexio_status = answer.kb_item_status_id
        link.bexio_updated_at = format_zurich(answer.updated_at) if answer.updated_at else ""
        item.bexio_ref = link.document_nr
        problems = verify(answer, plan)
        if problems:
            self._save(link)
            raise Rejected(" ".join(problems))
        if plan.issue and not link.issued:
            if answer.status in (None, BexioStatus.DRAFT):
                client.invoices.issue(link.bexio_id)
                link.bexio_status = BexioStatus.OPEN
            link.issued = True  # a crash before the final save: the next attempt sees bexio's status
        if plan.send and not link.sent and plan.send_to:
            client.invoices.send(
                link.bexio_id,
                InvoiceSend(
                    recipient_email=plan.send_to,
                    subject=plan.title or link.document_nr,
                    message=_("Your invoice %(nr)s: [Network Link]") % {"nr": link.document_nr},
                    mark_as_open=True,
                    attach_pdf=True,
                ),
            )
            link.sent = True
        self._save(link)

    @staticmethod
    def _save(link: InvoiceLink, *fields: str) -> None:
        with db_section():
            link.save(update_fields=[*fields, "updated_at"] if fields else None)

    # --- local consequences --------------------------------------------------------------------
    def lock_local(self, item: OutboxItem) -> None:
        # The status read with the lock (the same transaction as `done`, which uses it).
        item._locked_status = (
            Invoice.objects.select_for_update()
            .filter(pk=item.invoice_id)
            .values_list("status", flat=True)
            .first()
        )

    def done(self, item: OutboxItem) -> None:
        """The invoice is in bexio: "transferred" here, and "open" once issued (conditional updates)."""
        invoice, link = item.invoice, self._link(item)
        status = item.__dict__.pop("_locked_status", None)  # read by `lock_local` just before
        invoice.status = (
            status
            if status is not None
            else Invoice.objects.values_list("status", flat=True).get(pk=invoice.pk)
        )  # locked: current
        if invoice.status == InvoiceStatus.APPROVED:
            invoice.mark_transferred()
        if link.issued:
            invoice.set_status_from_bexio(InvoiceStatus.OPEN)
        item.done_at = item.done_at or timezone.now()
