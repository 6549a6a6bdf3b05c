"""The demo organisation in bexio (the sandbox): connected, mapped, and its money model shown.

`prepare_demo(org, out)` is what `make run` (through `seed_demo --with-bexio-connection`) does
after the club's data is seeded; running it again changes nothing:
1. connect to the sandbox (the real Get-new-token flow, scripted) and import the master data;
2. the demo mapping (articles of the club's aircraft and aerodromes, credit account 2030, the
   3090 clearing account for top-ups, corrections 3805);
3. the members' credit before the connection becomes their opening balance in bexio;
4. the seeded billing run and the top-ups are approved (credit pays the oldest flights first) and
   transferred: bexio gets an invoice for what is due (never one of CHF 0.00) and a booking of the
   credit used per member;
5. one top-up is paid in bexio and the status sync brings it back: the member's credit rises and
   the payment is re-booked from the clearing account to the credit account.
The last month's flights stay unbilled: a person can run that billing run and transfer it.
"""

from __future__ import annotations

import sys
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from aeroledger.bexio_link.books import opening as books_opening
from aeroledger.bexio_link.connection.clients import client_for
from aeroledger.bexio_link.connection.demo import connect_demo
from aeroledger.bexio_link.masterdata.demo import configure_demo_mapping
from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
from aeroledger.billing.models import Invoice, InvoiceKind, InvoiceStatus
from aeroledger.tenancy.templatetags.money import format_chf
from bexio.models import PaymentCreate

from .invoices.sync import sync_status
from .models import InvoiceLink, OutboxItem
from .outbox.worker import run_outbox
from .start import start_transfer


def prepare_demo(organisation, stdout=None) -> bool:
    """Connect the demo and show the whole money model in bexio; True when connected."""
    out = stdout or sys.stdout

    def say(text: str) -> None:
        out.write(f"bexio: {text}\n")

    if not connect_demo(organisation, out):
        return False
    with client_for(organisation, context="demo") as client:
        refresh_master_data(organisation, client, triggered_by="demo")
        done = configure_demo_mapping(organisation)
        if done:
            say("demo mapping: " + "; ".join(done))
        if OutboxItem.objects.filter(organisation=organisation).exists():
            say(f"{organisation.slug} was transferred before; nothing more to do.")
            return True
        opening = book_opening_balance(organisation)
        if opening:
            say(f"opening balance of members' credit queued ({opening}).")
        admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        approved = 0
        for invoice in Invoice.objects.filter(organisation=organisation, status=InvoiceStatus.DRAFT).order_by(
            "date", "number"
        ):
            invoice.approve(admin)
            approved += 1
        start_transfer(organisation, user=admin, enqueue_task=False)
        stats = run_outbox(org_ids=[organisation.pk], client_factory=lambda _org: client)
        say(f"{approved} invoices approved and transferred: {_stats(stats)}.")
        paid = pay_a_top_up(organisation, client)
        if paid is not None:
            sync_status(organisation, client)
            stats = run_outbox(org_ids=[organisation.pk], client_factory=lambda _org: client)
            say(f"top-up {paid.number} paid in bexio; its credit re-booked: {_stats(stats)}.")
    return True


def _stats(stats: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(stats.items()) if isinstance(v, int) and v)


def book_opening_balance(organisation):
    """Queue the opening balance of members' credit (the deposits from before bexio was connected),
    against bexio's opening balance account; the amount as text, or None when there is none."""
    opening = books_opening.state(organisation)
    if opening.amount == 0 or opening.default_account is None or not opening.replannable:
        return None
    books_opening.book(
        organisation,
        account_id=opening.default_account.bexio_id,
        day=timezone.localdate(),
        expected=opening.amount,
    )
    return f"CHF {format_chf(opening.amount)}, {opening.members} members"


def pay_a_top_up(organisation, client):
    """Issue the first transferred top-up in bexio and record its payment there (as the member's
    bank transfer would); the status sync books it here."""
    link = (
        InvoiceLink.objects.filter(
            organisation=organisation, invoice__kind=InvoiceKind.TOP_UP, bexio_id__isnull=False
        )
        .select_related("invoice")
        .order_by("invoice__number")
        .first()
    )
    if link is None or link.received_payments:
        return None
    bexio_invoice = client.invoices.get(link.bexio_id)
    if bexio_invoice.status is not None and bexio_invoice.status.is_draft:
        client.invoices.issue(link.bexio_id)
    client.invoices.payments(link.bexio_id).create(
        PaymentCreate(value=Decimal(link.invoice.amount_due), date=timezone.localdate())
    )
    return link.invoice
