"""Small builders for the overview and list tests: invoices and credit entries without a billing run."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from aeroledger.billing.models import CreditEntry, Invoice
from aeroledger.tenancy.testing import make_member, make_org, make_staff


def invoice(org, member, number, status="approved", due="100.00", total=None, day=None, **fields):
    day = day or date(2026, 10, 31)
    return Invoice.objects.create(
        organisation=org, member=member, number=number, status=status, date=day,
        due_date=day + timedelta(days=30), title=f"Flights {number}", total=Decimal(total or due),
        amount_due=Decimal(due), **fields,
    )  # fmt: skip


def entry(org, member, amount, kind="deposit", **fields):
    return CreditEntry.objects.create(
        organisation=org, member=member, kind=kind, amount=Decimal(amount), **fields
    )


def payment(invoice, amount):
    """A payment of `invoice` as the accounting reports it."""
    return invoice.record_payment(
        amount=Decimal(amount), date=invoice.date, external_ref=f"test:{invoice.pk}:{amount}"
    )


def write(invoice, status, document_nr=""):
    """The bexio invoice write of `invoice` in `status` (and, with a number, what bexio has)."""
    from aeroledger.bexio_link.transfer.models import InvoiceLink, OutboxItem

    item = OutboxItem.objects.create(
        organisation=invoice.organisation, kind="invoice", key=str(invoice.uuid), invoice=invoice,
        label=invoice.number, status=status,
    )  # fmt: skip
    if document_nr:
        InvoiceLink.objects.create(
            organisation=invoice.organisation, invoice=invoice, document_nr=document_nr
        )
    return item


@pytest.fixture
def club(client):
    """An organisation with a boss (every permission) logged in, and a few members."""
    org = make_org("club", bexio=True)
    make_staff(org, "boss")
    client.login(username="boss", password="test-password")
    members = {
        name: make_member(org, str(n), last_name=name)
        for n, name in enumerate(["Bärtschi", "Brunner", "Müller", "Mueller", "Muster"], start=1)
    }
    return org, members
