"""The opening balance of members' credit: the credit from before bexio was connected, booked once
through the outbox (9100 -> credit account), planned again only while nothing of it can be in bexio."""

from datetime import date
from decimal import Decimal

import pytest

from aeroledger.bexio_link.books import ledger, opening
from aeroledger.bexio_link.books.reconcile import reconcile
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
from aeroledger.billing.models import CreditEntry, CreditKind

from .conftest import run_outbox, transfer

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_opening_balance_is_the_credit_no_booking_covers_and_is_booked_once(sb, client, club):
    org = club
    deposits = sum(
        (e.amount for e in CreditEntry.objects.filter(organisation=org, kind=CreditKind.DEPOSIT)),
        Decimal("0"),
    )
    state = opening.state(org)
    assert state.amount == deposits > 0
    assert state.entries == CreditEntry.objects.filter(organisation=org, kind=CreditKind.DEPOSIT).count()
    assert state.default_account.data["account_no"] == "9100"
    assert state.item is None and state.replannable
    # The same as the brief's rule: the sum of balances less what is booked or queued (here: the
    # credit used by approved invoices, queued by the transfer).
    transfer(org, client)
    queued = sum(
        (
            -i.invoice.credit_applied
            for i in OutboxItem.objects.filter(
                organisation=org, kind=ItemKind.MANUAL_ENTRY, invoice__isnull=False
            )
        ),
        Decimal("0"),
    )
    assert opening.state(org).amount == ledger.credit_total(org) - queued == deposits

    with pytest.raises(opening.OpeningRefused, match="changed meanwhile"):
        opening.book(org, account_id=state.default_account.bexio_id, day=date.today(), expected=deposits - 1)
    item = opening.book(
        org, account_id=state.default_account.bexio_id, day=state.default_date, expected=deposits
    )
    assert item.key == f"AL-{org.slug}-O1" and item.invoice_id is None and item.credit_entry_id is None
    mapping = mapping_for(org)
    [line] = item.sent["lines"]
    assert (line["debit"], line["credit"], Decimal(line["amount"])) == (
        state.default_account.bexio_id,
        mapping.credit_account_id,
        deposits,
    )
    run_outbox(org, client)  # the booking sender sends the lines the item carries
    item.refresh_from_db()
    assert item.status == ItemStatus.DONE, item.last_error
    [entry] = [e for e in client.manual_entries.iter() if e.reference_nr == item.key]
    assert entry.date == state.default_date and Decimal(str(entry.entries[0].amount)) == deposits
    assert entry.entries[0].credit_account_id == mapping.credit_account_id

    after = opening.state(org)
    assert after.amount == deposits and after.booked == deposits and after.remaining == 0
    assert not after.replannable
    with pytest.raises(opening.OpeningRefused, match="already"):
        opening.book(org, account_id=state.default_account.bexio_id, day=date.today(), expected=deposits)
    assert OutboxItem.objects.filter(organisation=org, kind=ItemKind.MANUAL_ENTRY, key=item.key).count() == 1
    assert reconcile(org, client=client).differences == []


def test_refused_by_bexio_it_may_be_planned_again_on_another_day(sb, client, club):
    org = club
    state = opening.state(org)
    closed = date(2024, 6, 30)  # the sandbox's business year 2024 is closed
    item = opening.book(org, account_id=state.default_account.bexio_id, day=closed, expected=state.amount)
    run_outbox(org, client)
    item.refresh_from_db()
    assert item.status == ItemStatus.FAILED and item.last_error_status == 422 and not item.maybe_in_bexio
    assert opening.state(org).replannable
    item = opening.book(
        org, account_id=state.default_account.bexio_id, day=state.default_date, expected=state.amount
    )
    run_outbox(org, client)
    item.refresh_from_db()
    assert item.status == ItemStatus.DONE and item.sent["date"] == state.default_date.isoformat()
    assert len([e for e in client.manual_entries.iter() if e.reference_nr == item.key]) == 1


def test_members_owing_the_club_book_the_other_way_round(sb, client, club):
    org = club
    mapping = mapping_for(org)
    account = opening.state(org, mapping).default_account.bexio_id
    booking = opening.plan(org, mapping, Decimal("-80.00"), account, date.today(), 2)
    [line] = booking.lines
    assert (line.debit_account_id, line.credit_account_id, line.amount) == (
        mapping.credit_account_id,
        account,
        Decimal("80.00"),
    )
    with pytest.raises(opening.OpeningRefused):
        opening.book(org, account_id=mapping.credit_account_id, day=date.today(), expected=Decimal("1"))


def test_credit_recorded_once_connected_is_booked_entry_by_entry_not_in_the_opening(sb, client, club):
    org = club
    before = opening.state(org).amount
    member = CreditEntry.objects.filter(organisation=org).first().member
    mapping = mapping_for(org)
    CreditEntry.objects.create(
        organisation=org,
        member=member,
        kind=CreditKind.DEPOSIT,
        amount=Decimal("400"),
        money_account=mapping.money_accounts()[0][0],
    )
    assert opening.state(org).amount == before  # queued by the hook: not part of the opening balance
