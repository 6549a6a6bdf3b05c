"""The demo in bexio after `make run`: connected, mapped, its money model visible, nothing of 0.00."""

from decimal import Decimal
from io import StringIO

import pytest

from aeroledger.bexio_link.books.reconcile import reconcile
from aeroledger.bexio_link.connection.clients import client_for
from aeroledger.bexio_link.transfer.demo import prepare_demo
from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
from aeroledger.billing.demo import seed_demo
from aeroledger.billing.models import CreditEntry, CreditKind, Invoice, InvoiceStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_shows_the_whole_model_in_bexio(bexio_settings):
    org = seed_demo()
    out = StringIO()
    assert prepare_demo(org, out), out.getvalue()
    assert not OutboxItem.objects.filter(organisation=org).exclude(status=ItemStatus.DONE).exists(), (
        out.getvalue()
    )
    invoices = Invoice.objects.filter(organisation=org)
    assert not invoices.filter(status=InvoiceStatus.DRAFT).exists()
    assert invoices.filter(credit_applied__gt=0, amount_due=0).exists()  # paid from credit: statements
    assert invoices.filter(credit_applied__gt=0, amount_due__gt=0).exists()  # members owing the rest
    with client_for(org) as client:
        in_bexio = list(client.invoices.iter())
        assert in_bexio and all(Decimal(str(i.total)) > 0 for i in in_bexio)
        references = {e.reference_nr for e in client.manual_entries.iter()}
    usage = OutboxItem.objects.filter(organisation=org, kind=ItemKind.MANUAL_ENTRY, invoice__isnull=False)
    assert usage.exists() and set(usage.values_list("key", flat=True)) <= references
    top_up = CreditEntry.objects.get(organisation=org, kind=CreditKind.TOP_UP)  # paid in bexio, synced
    assert OutboxItem.objects.get(credit_entry=top_up).status == ItemStatus.DONE
    # The books match: the opening balance, the credit used, the top-up re-booked, revenue and VAT.
    result = reconcile(org)
    assert not result.differences, [d.as_json() for d in result.differences]
    assert "opening balance" in out.getvalue()
    # Running it again changes nothing.
    again = StringIO()
    assert prepare_demo(org, again)
    assert "nothing more to do" in again.getvalue()
