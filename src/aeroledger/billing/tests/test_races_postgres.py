"""Issue 13, on PostgreSQL with two requests at the same moment (threads, each its own connection).

Item 2: approve and cancel racing on one draft left invoices approved with none of their charges
(cancel had released them), which the next billing run put on a second invoice. Item 5: a manual
position's charge, taken off its draft, was edited while a billing run billed it, so the amount
billed and the amount on the charge (and the credit used) diverged, or the charge was billed twice.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from django.test import Client
from django.urls import reverse

from aeroledger.billing.models import (
    Charge,
    ChargeType,
    CreditEntry,
    CreditKind,
    Invoice,
    InvoicePosition,
    InvoiceStatus,
)
from aeroledger.billing.runs import billing_run
from aeroledger.tenancy.testing import make_fleet, make_flight, make_member, make_org, make_staff

from .invariants import charge_violations, credit_violations
from .race import race, raised

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 25


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def club():
    org = make_org("club")
    boss = make_staff(org, "boss")
    desk = make_staff(org, "desk", perms=("members",))
    aircraft, aerodrome = make_fleet(org)
    return org, boss, desk, aircraft, aerodrome


def deposit(org, member, amount, user):
    CreditEntry.objects.create(
        organisation=org, member=member, kind=CreditKind.DEPOSIT, amount=amount, created_by=user
    )


def test_approve_and_cancel_racing_on_one_draft_keep_its_charges_and_credit_together(club):
    org, boss, _desk, aircraft, aerodrome = club
    approver, canceller = logged_in(boss), logged_in(boss)
    outcomes = set()
    for n in range(ROUNDS):
        pilot = make_member(org, f"{n}")
        deposit(org, pilot, D("150"), boss)  # credit pays part: usage entries are written too
        for minutes in (30, 45):
            make_flight(org, aircraft, pilot, minutes=minutes, landings=[(aerodrome, 1)], sign_off_by=boss)
        _run, made = billing_run(org, "2026-10")
        [invoice] = [i for i in made if i.member_id == pilot.pk]
        results = race(
            lambda invoice=invoice: approver.post(
                reverse("billing:invoice_approve", args=["club", invoice.pk])
            ),
            lambda invoice=invoice: canceller.post(
                reverse("billing:invoice_cancel", args=["club", invoice.pk])
            ),
        )
        assert not raised(results), results
        assert [r.status_code for r in results] == [302, 302]
        invoice.refresh_from_db()
        outcomes.add(invoice.status)
        assert invoice.status in (InvoiceStatus.APPROVED, InvoiceStatus.CANCELLED)
        if invoice.status == InvoiceStatus.APPROVED:
            assert invoice.charges.count() == invoice.positions.count() == 4
        else:
            assert not invoice.charges.exists()
        assert charge_violations(org) + credit_violations(org) == [], f"round {n}"
    # The released charges are billed once more, on one invoice each, and the credit adds up.
    billing_run(org, "2026-10", approve=True)
    assert not Charge.objects.filter(invoice__isnull=True).exists()
    assert charge_violations(org) + credit_violations(org) == []
    assert outcomes  # (which of the two wins differs from run to run)


def manual_charge(org, member, n) -> Charge:
    """A charge of type "manual" off any invoice: what removing a manual position leaves behind."""
    charge = Charge(
        organisation=org,
        member=member,
        charge_type=ChargeType.MANUAL,
        date=date(2026, 10, 20),
        text=f"Fuel {n}",
        quantity=D("1"),
        unit_price=D("80"),
    )
    charge.save()
    return charge


def test_a_removed_manual_position_is_billed_once_at_the_amount_its_charge_has(club):
    org, boss, desk, aircraft, aerodrome = club
    treasurer, flightdesk = logged_in(boss), logged_in(desk)
    pilot = make_member(org, "1")
    deposit(org, pilot, D("1000"), boss)
    make_flight(org, aircraft, pilot, minutes=30, sign_off_by=boss)
    _run, [draft] = billing_run(org, "2026-10")
    treasurer.post(
        reverse("billing:position_create", args=["club", draft.pk]),
        {"text": "Fuel", "quantity": "1", "unit_price": "80"},
    )
    position = draft.positions.get(charge_type=ChargeType.MANUAL)
    treasurer.post(reverse("billing:position_remove", args=["club", draft.pk, position.pk]))
    charge = Charge.objects.get(charge_type=ChargeType.MANUAL)
    assert charge.invoice_id is None  # the next billing run bills it

    # Its charge is edited while a billing run (approving at once) bills it: many times over.
    for n in range(ROUNDS):
        charge = charge if n == 0 else manual_charge(org, pilot, n)
        results = race(
            lambda charge=charge: flightdesk.post(
                reverse("flights:charge_edit", args=["club", charge.pk]),
                {"text": "Fuel, corrected", "quantity": "2", "unit_price": "80"},
            ),
            lambda: treasurer.post(
                reverse("billing:run_create", args=["club"]),
                {"period": "10.2026", "action": "create", "approve": "on"},
            ),
            delays=[0.002 * n],  # the edit 0, 2, ... 48 ms after the billing run's start
        )
        assert not raised(results), results
        charge.refresh_from_db()
        billed = InvoicePosition.objects.filter(charge=charge).exclude(
            invoice__status=InvoiceStatus.CANCELLED
        )
        assert [p.amount for p in billed] == [charge.amount], f"round {n}"
        assert charge.amount in (D("80.00"), D("160.00"))
        assert charge_violations(org) + credit_violations(org) == [], f"round {n}"
    # Nothing is left to bill: every manual charge was billed exactly once.
    assert billing_run(org, "2026-10") == (None, [])
    used = -sum(e.amount for e in CreditEntry.objects.filter(kind=CreditKind.USAGE))
    billed = Invoice.objects.exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.CANCELLED])
    assert used == sum(i.credit_applied for i in billed) == D("1000")  # all of the credit, no more


def test_booking_credit_while_a_billing_run_approves_never_deadlocks(club):
    """A deposit locks the member's credit account, then writes its entry; a billing run that
    approves at once locks the organisation (numbering), then each member's credit account. The
    organisation's lock must not stop the entry's row (it refers to the organisation), or the two
    wait for each other."""
    org, boss, _desk, aircraft, aerodrome = club
    treasurer, desk = logged_in(boss), logged_in(boss)
    for n in range(ROUNDS):
        pilot = make_member(org, f"{n}")
        for minutes in (30, 45, 60):
            make_flight(org, aircraft, pilot, minutes=minutes, landings=[(aerodrome, 1)], sign_off_by=boss)
        results = race(
            lambda: treasurer.post(
                reverse("billing:run_create", args=["club"]),
                {"period": "10.2026", "action": "create", "approve": "on"},
            ),
            lambda pilot=pilot: desk.post(
                reverse("billing:credit_entry_create", args=["club", pilot.pk]),
                {"kind": "deposit", "date": "2026-10-31", "amount": "100", "text": "Bank"},
            ),
            delays=[0, 0.003 * (n % 12)],  # the deposit 0 ... 33 ms after the billing run's start
        )
        assert not raised(results), f"round {n}: {results}"
        assert [r.status_code for r in results] == [302, 302]
        assert charge_violations(org) + credit_violations(org) == [], f"round {n}"


def shown(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_two_people_approving_or_cancelling_one_draft_are_each_told_what_happened(club):
    """Issue 13 (wording): the one who comes second was told about the invoice as they had loaded it
    ("is in the accounting already (Draft)" for a draft cancelled a moment before)."""
    org, boss, _desk, aircraft, aerodrome = club
    for n in range(8):
        pilot = make_member(org, f"{n}")
        make_flight(org, aircraft, pilot, minutes=30, sign_off_by=boss)
        _run, made = billing_run(org, "2026-10")
        [invoice] = [i for i in made if i.member_id == pilot.pk]
        action = "billing:invoice_cancel" if n % 2 else "billing:invoice_approve"
        url = reverse(action, args=["club", invoice.pk])
        first, second = logged_in(boss), logged_in(boss)
        results = race(lambda url=url: first.post(url), lambda url=url: second.post(url))
        assert not raised(results), results
        texts = sorted(text for r in results for text in shown(r))
        number = invoice.number
        if n % 2:
            assert texts == [
                f"Invoice {number} is already cancelled.",
                f"Invoice {number} was cancelled; its charges can be billed again.",
            ], f"round {n}"
        else:
            assert texts == [
                f"Invoice {number} is no longer a draft (Approved); only drafts can be approved.",
                f"Invoice {number} was approved.",
            ], f"round {n}"
