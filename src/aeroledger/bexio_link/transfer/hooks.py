"""What bexio_link adds to the club's pages and transitions (registered in TransferConfig.ready).

- "invoice_cancel": an invoice may be cancelled only while nothing of it can be in bexio; its
  waiting writes are withdrawn in the same transaction (or the cancel is refused, with the reason).
- a credit entry booked here (deposit, refund, correction, paid top-up) queues its booking; credit
  given back by a cancelled invoice reverses the booking of its use.
- "money_accounts": the bank accounts a deposit or refund may go through (bexio's).
- "vat_rate": the VAT of a position, from the mapping (the invoice page shows VAT per rate).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db.models.signals import post_save
from django.utils.translation import gettext as _

from aeroledger.bexio_link.connection.models import connection_for
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.billing.models import CreditEntry, Invoice
from aeroledger.members.models import Member
from aeroledger.tenancy import hooks

from . import demo, panels
from .bookings.plan import (
    books_on_its_own,
    entry_reference,
    given_back_label,
    is_credit_given_back,
    usage_reference,
)
from .contacts.sender import queue_contact_update
from .models import ItemKind, ItemStatus, OutboxItem
from .outbox import enqueue

log = logging.getLogger(__name__)


def withdraw_or_refuse(invoice: Invoice) -> str | None:
    """Called by Invoice.cancel() with the invoice locked: withdraw its waiting writes, or say why not.

    An invoice bexio has (or may have) is cancelled in bexio; the status sync brings that back. A
    use of credit booked in bexio does not stand in the way: the cancel gives the credit back, and
    that is booked in bexio as the reversal of the use (queue_credit_booking). One being sent right
    now does: whether it lands is not known yet.
    """
    items = list(
        OutboxItem.objects.select_for_update().filter(invoice=invoice).exclude(status=ItemStatus.CANCELLED)
    )
    in_bexio = [i for i in items if not i.withdrawable]
    if any(i.kind == ItemKind.INVOICE for i in in_bexio):
        return _(
            "Invoice %(number)s is being transferred to bexio or is there already: cancel it in bexio "
            "once the transfer has finished; its status comes back here."
        ) % {"number": invoice.number}
    if any(i.status != ItemStatus.DONE for i in in_bexio):
        return _(
            "The credit invoice %(number)s used is being booked in bexio right now: try again in a minute."
        ) % {"number": invoice.number}
    _withdraw([i.pk for i in items if i.withdrawable])
    return None


def _withdraw(item_ids: list[int]) -> None:
    """Writes that never reached bexio are withdrawn (the caller holds their rows)."""
    OutboxItem.objects.filter(pk__in=item_ids).update(status=ItemStatus.CANCELLED, next_try_at=None)


def queue_credit_booking(sender, instance: CreditEntry, created: bool, raw: bool = False, **kwargs) -> None:
    """A credit entry that is money in or out of the credit account is booked in bexio too; credit
    given back by a cancelled invoice reverses its use there (or withdraws that use, not sent yet)."""
    org = instance.organisation
    if not created or raw or not org.bexio_option or not org.is_prepaid:
        return
    if is_credit_given_back(instance):  # follows its use of credit, which was queued (or not)
        use = (
            OutboxItem.objects.select_for_update()
            .filter(organisation=org, kind=ItemKind.MANUAL_ENTRY, key=usage_reference(instance.invoice))
            .exclude(status=ItemStatus.CANCELLED)
            .first()
        )
        if use is None:  # its use was never queued (cancelled before any transfer): nothing in bexio
            return
        if use.withdrawable:  # cancelled in bexio before its use of credit was booked: not booked now
            _withdraw([use.pk])
            return
    elif connection_for(org) is None:
        # Not connected yet: what the credit accounts hold then is their opening balance in bexio
        # (the reconciliation shows it); only what happens once connected is booked entry by entry.
        return
    elif not books_on_its_own(instance, mapping_for(org)):
        return
    if is_credit_given_back(instance):
        label = given_back_label(instance)
    else:
        label = f"{instance.member.display_name}: {instance.get_kind_display()} {instance.amount}"
    enqueue.add(org, ItemKind.MANUAL_ENTRY, entry_reference(instance), label=label, credit_entry=instance)
    enqueue.wake(org)


def queue_contact(sender, instance: Member, created: bool, raw: bool = False, **kwargs) -> None:
    """A linked member changed: the change goes to their bexio contact (through the outbox)."""
    if raw or created or not instance.organisation.bexio_option:
        return
    conn = connection_for(instance.organisation)
    if conn is None or not conn.transfers_allowed:
        return
    try:
        queue_contact_update(instance)
    except Exception:  # saving a member must never fail because of bexio
        log.exception("could not queue the bexio contact update of member %s", instance.pk)


def money_accounts(organisation) -> list[tuple[str, str]] | None:
    if not organisation.bexio_option:
        return None
    return mapping_for(organisation).money_accounts()


def vat_rate(organisation):
    """A function position -> (rate in %, tax name) from the mapping, or None without bexio."""
    if not organisation.bexio_option:
        return None
    mapping = mapping_for(organisation)

    def rate_of(position) -> tuple[Decimal, str] | None:
        target = mapping.target_for(position.charge_type, position.aircraft_id, position.aerodrome_id)
        if target is None or not target.tax_id:
            return None
        rate = mapping.tax_rate(target.tax_id)
        return (rate, mapping.tax_name(target.tax_id)) if rate is not None else None

    return rate_of


def register() -> None:
    hooks.register("invoice_cancel", withdraw_or_refuse)
    hooks.register("dashboard", panels.dashboard_panel)
    hooks.register("invoice_list", panels.invoice_list_panel)
    hooks.register("invoice_list_rows", panels.invoice_list_rows)
    hooks.register("invoice_list_filters", panels.invoice_list_filters)
    hooks.register("invoice_detail", panels.invoice_detail_panel)
    hooks.register("demo_connect", demo.prepare_demo)
    hooks.register("money_accounts", money_accounts)
    hooks.register("vat_rate", vat_rate)
    post_save.connect(queue_credit_booking, sender=CreditEntry, dispatch_uid="bexio-credit-booking")
    post_save.connect(queue_contact, sender=Member, dispatch_uid="bexio-contact-update")
