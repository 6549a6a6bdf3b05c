"""The reconciliation against the sandbox over HTTP: an honest month has 0 differences; each kind of
difference planted in bexio by hand (or left undone here) is found, with its cause."""

from datetime import date
from decimal import Decimal

import pytest

from aeroledger.bexio_link.books import ledger
from aeroledger.bexio_link.books.reconcile import reconcile
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.bexio_link.transfer.bookings.plan import usage_reference
from aeroledger.bexio_link.transfer.invoices.sync import sync_status
from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
from aeroledger.billing.models import CreditEntry, CreditKind, Invoice, InvoiceKind, credit_balance
from aeroledger.members.models import Member
from bexio.models import ManualEntryCreate, PaymentCreate

from .conftest import book_opening, run_outbox, transfer

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(result) -> list[str]:
    return sorted(d.kind for d in result.differences)


def the(result, kind: str) -> dict:
    [found] = [d.data for d in result.differences if d.kind == kind]
    return found


def entry_of(client, reference: str):
    [entry] = [e for e in client.manual_entries.iter() if e.reference_nr == reference]
    return entry


def test_an_honest_month_reconciles_with_zero_differences(honest_month, client):
    org = honest_month
    result = reconcile(org, client=client)
    assert result.differences == [], [d.as_json() for d in result.differences]
    total = sum((credit_balance(m) for m in Member.objects.filter(organisation=org)), Decimal("0"))
    assert Decimal(result.credit["ours"]) == Decimal(result.credit["bexio"]) == total > 0
    accounts = {row["account"][:4]: row for row in result.accounts}
    assert {"3400", "3410", "3420", "3090", "2200"} <= set(accounts)  # revenue, clearing and VAT accounts
    assert Decimal(accounts["2200"]["bexio"]) > 0 and accounts["2200"]["role"] == "vat"
    assert {row["tax"].split()[0] for row in result.vat_codes} >= {"UN81", "UEX"}
    assert result.counts["bookings"] > 0 and result.counts["invoices"] > 0
    assert 4 <= result.requests <= 12  # invoices, manual entries, the credit account, 5 accounts

    # The month of the billing run, on its own, reconciles too.
    month = Invoice.objects.filter(organisation=org, run__isnull=False).first().date
    by_month = reconcile(org, client=client, period=f"{month:%Y-%m}")
    assert by_month.differences == [], [d.as_json() for d in by_month.differences]
    assert by_month.date_from == month.replace(day=1)


def test_credit_from_before_connecting_is_a_difference_until_the_opening_balance(sb, client, club):
    transfer(club, client)
    deposits = CreditEntry.objects.filter(organisation=club, kind=CreditKind.DEPOSIT)
    before = sum((e.amount for e in deposits), Decimal("0"))
    result = reconcile(club, client=client)
    assert kinds(result) == ["credit_balance"]
    found = the(result, "credit_balance")
    assert Decimal(found["difference"]) == -before
    assert found["causes"] == [{"cause": "not_booked", "amount": str(-before)}]

    book_opening(club, client)
    assert reconcile(club, client=client).differences == []


def test_a_manual_entry_by_hand_on_the_credit_account_is_found(honest_month, client):
    org = honest_month
    mapping = mapping_for(org)
    client.manual_entries.create(
        ManualEntryCreate.single(
            date=date.today(),
            debit_account_id=mapping.bank_ledger_account_id(),
            credit_account_id=mapping.credit_account_id,
            amount=Decimal("120.00"),
            reference_nr="HAND-1",
            description="Einzahlung bar",
        )
    )
    result = reconcile(org, client=client)
    assert kinds(result) == ["credit_balance", "entry_foreign"]
    assert the(result, "entry_foreign")["reference_nr"] == "HAND-1"
    assert the(result, "entry_foreign")["effect"] == "120.00"
    credit = the(result, "credit_balance")
    assert credit["difference"] == "120.00"
    assert credit["causes"] == [{"cause": "by_hand", "amount": "120.00"}]


def test_a_booking_deleted_in_bexio_is_found(honest_month, client):
    org = honest_month
    invoice = next(
        i
        for i in Invoice.objects.filter(organisation=org, credit_applied__gt=0, kind=InvoiceKind.CHARGES)
        if i.positions.filter(charge_type="aircraft_time", credit_covered__gt=0).exists()
    )
    entry = entry_of(client, usage_reference(invoice))
    client.manual_entries.delete(entry.id)
    result = reconcile(org, client=client)
    assert "entry_missing" in kinds(result) and "credit_balance" in kinds(result)
    missing = the(result, "entry_missing")
    assert missing["reference_nr"] == usage_reference(invoice)
    assert Decimal(missing["amount"]) == invoice.credit_applied
    credit = the(result, "credit_balance")
    # The credit account in bexio lacks the debit of the credit used: it holds that much more.
    assert Decimal(credit["difference"]) == invoice.credit_applied
    assert credit["causes"] == [{"cause": "changed", "amount": str(invoice.credit_applied)}]
    revenue = [d.data for d in result.differences if d.kind == "account"]
    assert any(r["account"].startswith("3400") for r in revenue)  # its revenue is gone from bexio
    assert any(r["role"] == "vat" for r in revenue)  # and its VAT


def test_a_booking_changed_in_bexio_is_found(honest_month, client):
    org = honest_month
    item = OutboxItem.objects.get(organisation=org, kind=ItemKind.MANUAL_ENTRY, credit_entry__kind="top_up")
    entry = entry_of(client, item.key)
    line = entry.entries[0]
    client.manual_entries.update(
        entry.id,
        ManualEntryCreate.single(
            date=entry.date,
            debit_account_id=line.debit_account_id,
            credit_account_id=line.credit_account_id,
            amount=Decimal("250.00"),
            reference_nr=entry.reference_nr,
        ),
    )
    result = reconcile(org, client=client)
    changed = the(result, "entry_changed")
    assert changed["what"] == ["amount"] and (changed["ours"], changed["bexio"]) == ("300.00", "250.00")
    assert the(result, "credit_balance")["causes"] == [{"cause": "changed", "amount": "-50.00"}]
    clearing = the(result, "account")
    assert clearing["account"].startswith("3090") and clearing["difference"] == "50.00"


def test_a_booking_twice_in_bexio_and_an_unknown_aeroledger_reference_are_found(honest_month, client):
    org = honest_month
    item = OutboxItem.objects.filter(
        organisation=org, kind=ItemKind.MANUAL_ENTRY, invoice__isnull=False
    ).first()
    entry = entry_of(client, item.key)
    copy = ManualEntryCreate.model_validate(
        {
            "type": entry.type,
            "date": entry.date,
            "reference_nr": entry.reference_nr,
            "entries": [
                {
                    k: v
                    for k, v in line.model_dump().items()
                    if k in ("debit_account_id", "credit_account_id", "amount", "tax_id", "description")
                    and v is not None
                }
                for line in entry.entries
            ],
        }
    )
    client.manual_entries.create(copy)
    mapping = mapping_for(org)
    client.manual_entries.create(
        ManualEntryCreate.single(
            date=date.today(),
            debit_account_id=mapping.corrections_account_id,
            credit_account_id=mapping.bank_ledger_account_id(),
            amount=Decimal("10.00"),
            reference_nr=f"AL-{org.slug}-X999",
        )
    )
    result = reconcile(org, client=client)
    assert the(result, "entry_duplicate")["count"] == 2
    assert the(result, "entry_unknown_ref")["reference_nr"] == f"AL-{org.slug}-X999"


def test_a_payment_in_bexio_not_synced_yet_is_found_and_gone_after_the_sync(honest_month, client):
    org = honest_month
    invoice = Invoice.objects.filter(organisation=org, kind=InvoiceKind.CHARGES, amount_due__gt=0).first()
    link = invoice.bexio_invoice
    client.invoices.payments(link.bexio_id).create(PaymentCreate(value=Decimal("20.00"), date=date.today()))
    result = reconcile(org, client=client)
    assert kinds(result) == ["invoice_open", "invoice_status"]
    assert Decimal(the(result, "invoice_open")["bexio"]) == invoice.amount_due - 20
    assert the(result, "invoice_status")["ours"] == "open"

    sync_status(org, client)
    assert reconcile(org, client=client).differences == []


def test_an_invoice_changed_in_bexio_after_the_transfer_is_found(honest_month, client):
    org = honest_month
    invoice = Invoice.objects.filter(organisation=org, kind=InvoiceKind.CHARGES, amount_due__gt=0).first()
    bexio_id = invoice.bexio_invoice.bexio_id
    client.invoices.revert_issue(bexio_id)
    positions = client.invoices.positions(bexio_id)
    kind = "article" if positions.list("article") else "custom"
    position = positions.list(kind)[0]
    positions.update(
        kind, position.id, {"amount": "1", "unit_price": str(Decimal(str(position.unit_price)) + 10)}
    )
    client.invoices.issue(bexio_id)
    result = reconcile(org, client=client)
    total = the(result, "invoice_total")
    assert Decimal(total["bexio"]) - Decimal(total["ours"]) in (
        Decimal("10.00"),
        Decimal("10.05"),
        Decimal("9.95"),
    )
    assert "account" in kinds(result)  # revenue (and VAT) differ by what was added in bexio


def test_waiting_and_failed_bookings_and_invoices_are_differences(sb, client, club):
    book_opening(club, client)
    result = reconcile(club, client=client)  # nothing of the month transferred yet
    waiting = the(result, "bookings_waiting")
    usage = [i for i in Invoice.objects.filter(organisation=club, credit_applied__gt=0)]
    assert waiting["count"] == len(usage)
    assert (
        the(result, "invoices_waiting")["count"]
        == Invoice.objects.filter(organisation=club, status="approved", amount_due__gt=0).count()
    )
    assert [c["cause"] for c in the(result, "credit_balance")["causes"]] == ["waiting"]

    sb.fault(
        method="POST", path=r"^/3\.0/accounting/manual_entries$", when="before", effect="status:422", times=1
    )
    transfer(club, client)
    [failed] = OutboxItem.objects.filter(organisation=club, status=ItemStatus.FAILED)
    result = reconcile(club, client=client)
    assert the(result, "booking_failed")["reference_nr"] == failed.key
    assert [c["cause"] for c in the(result, "credit_balance")["causes"]] == ["failed"]


def test_bookings_are_planned_from_the_ledger_and_credit_used_by_cancelled_invoices_is_left_out(
    sb, client, club
):
    """Credit an approved invoice used and gave back when it was cancelled here never reached bexio:
    it is neither a booking nor a difference."""
    mapping = mapping_for(club)
    invoice = Invoice.objects.filter(organisation=club, credit_applied__gt=0).first()
    before = ledger.credit_total(club)
    invoice.cancel(None)
    assert ledger.credit_total(club) == before + invoice.credit_applied
    refs = {b.reference_nr for b in ledger.bookings(club, mapping)}
    assert usage_reference(invoice) not in refs
    book_opening(club, client)
    transfer(club, client)
    run_outbox(club, client)
    assert reconcile(club, client=client).differences == []
