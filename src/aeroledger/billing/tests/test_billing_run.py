from datetime import date
from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command

from aeroledger.billing.models import (
    Charge,
    CreditEntry,
    CreditKind,
    InvalidStatusChange,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    credit_balance,
    pending_charges,
)
from aeroledger.billing.runs import BadPeriod, billing_run, create_top_up, parse_period
from aeroledger.flights.models import FlightLocked
from aeroledger.tenancy.testing import make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def club():
    org = make_org("club")
    admin = make_staff(org, "admin")
    aircraft, aerodrome = make_fleet(org)
    return org, admin, aircraft, aerodrome


def test_parse_period():
    assert parse_period("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert parse_period("11.2026") == (date(2026, 11, 1), date(2026, 11, 30))
    assert parse_period(" 2.2028 ") == (date(2028, 2, 1), date(2028, 2, 29))
    for bad in ("2026-13", "26-01", "2026/01", "", "0000-11", "13.2026", "11.1899", "9999-01", "11.2²26"):
        with pytest.raises(BadPeriod):
            parse_period(bad)


def test_flight_produces_charges_for_the_bill_to_member(club):
    org, admin, aircraft, aerodrome = club
    parent = make_member(org, "1", first_name="Parent")
    student = make_member(org, "2", invoice_to=parent)
    instructor = make_member(org, "3")
    flight = make_flight(org, aircraft, student, minutes=45, landings=[(aerodrome, 3)], instructor=instructor)
    charges = {c.charge_type: c for c in flight.charges.all()}
    assert charges["aircraft_time"].amount == D("189.00")
    assert charges["instruction"].amount == D("67.50")
    assert charges["landing_fee"].amount == D("67.50")
    assert charges["landing_fee"].mapping_key == ("landing_fee", aerodrome.pk)
    assert {c.member for c in charges.values()} == {parent}


def test_sign_off_locks_and_never_changes_a_balance(club):
    """Credit pays charges when their invoice is approved (oldest first), not at sign-off."""
    org, admin, aircraft, aerodrome = club
    pilot = make_member(org, "1")
    flight = make_flight(org, aircraft, pilot, minutes=60, sign_off_by=admin)
    assert flight.charges.get().is_locked
    assert not CreditEntry.objects.filter(member=pilot).exists()
    assert pending_charges(pilot) == D("252.00")
    with pytest.raises(FlightLocked):
        flight.rebuild_charges()
    with pytest.raises(FlightLocked):
        flight.sign_off(admin)


def test_postpaid_sign_off_does_not_touch_credit():
    org = make_org("post", prepaid=False)
    admin = make_staff(org, "a")
    aircraft, _ = make_fleet(org)
    pilot = make_member(org, "1")
    make_flight(org, aircraft, pilot, sign_off_by=admin)
    assert not CreditEntry.objects.exists()
    _run, [invoice] = billing_run(org, "2026-10")
    assert (invoice.total, invoice.credit_applied, invoice.amount_due) == (
        D("252.00"),
        D("0.00"),
        D("252.00"),
    )


def test_billing_run_one_invoice_per_bill_to_member_and_credit(club):
    org, admin, aircraft, aerodrome = club
    payer = make_member(org, "1", language="fr")
    kid = make_member(org, "2", invoice_to=payer)
    other = make_member(org, "3")
    CreditEntry.objects.create(organisation=org, member=payer, kind=CreditKind.DEPOSIT, amount=D("300"))
    make_flight(org, aircraft, payer, minutes=30, landings=[(aerodrome, 1)], sign_off_by=admin)  # 126 + 22.50
    make_flight(org, aircraft, kid, minutes=31, sign_off_by=admin)  # 130.20
    make_flight(org, aircraft, other, minutes=10, sign_off_by=admin)  # 42
    unsigned = make_flight(org, aircraft, other, minutes=10)  # not billed
    make_flight(org, aircraft, other, minutes=10, on=date(2026, 11, 2), sign_off_by=admin)  # after period

    run, invoices = billing_run(org, "2026-10", user=admin)
    by_member = {i.member: i for i in invoices}
    assert set(by_member) == {payer, other}
    payer_invoice = by_member[payer]
    assert payer_invoice.positions.count() == 3
    assert payer_invoice.total == D("278.70")  # 278.70 exactly: credit pays to the cent
    assert payer_invoice.credit_applied == D("278.70")
    assert payer_invoice.amount_due == D("0.00")
    assert not CreditEntry.objects.filter(kind=CreditKind.USAGE).exists()  # a draft only previews
    assert payer_invoice.language == "fr"
    assert payer_invoice.title.startswith("Vols")
    other_invoice = by_member[other]
    assert other_invoice.amount_due == D("42.00") and other_invoice.credit_applied == D("0.00")
    assert all(i.status == InvoiceStatus.DRAFT for i in invoices)
    assert not unsigned.charges.filter(invoice__isnull=False).exists()

    # A second run finds nothing new: no charge is invoiced twice, and no empty run is recorded.
    run2, again = billing_run(org, "2026-10", user=admin)
    assert (run2, again) == (None, [])
    assert org.billing_runs.count() == 1
    assert Charge.objects.filter(invoice__isnull=False).count() == 4


def test_credit_partly_covers_and_only_the_rest_is_due(club):
    org, admin, aircraft, aerodrome = club
    pilot = make_member(org, "1")
    CreditEntry.objects.create(organisation=org, member=pilot, kind=CreditKind.DEPOSIT, amount=D("100"))
    make_flight(org, aircraft, pilot, minutes=60, sign_off_by=admin)  # 252
    _r, [first] = billing_run(org, "2026-10")
    assert (first.total, first.credit_applied, first.amount_due) == (D("252.00"), D("100.00"), D("152.00"))
    first.approve(admin)
    assert credit_balance(pilot) == D("0.00")
    [position] = first.positions.all()
    assert (position.credit_covered, position.amount_invoiced) == (D("100.00"), D("152.00"))
    # The next month's flight is not "covered" by the same credit again.
    make_flight(org, aircraft, pilot, minutes=10, on=date(2026, 11, 3), sign_off_by=admin)  # 42
    _r, [second] = billing_run(org, "2026-11")
    second.approve(admin)
    assert (second.credit_applied, second.amount_due) == (D("0.00"), D("42.00"))


def test_credit_pays_the_oldest_charges_first(club):
    """September's flights are paid by the deposit before October's (never the newest first)."""
    org, admin, aircraft, aerodrome = club
    pilot = make_member(org, "1")
    CreditEntry.objects.create(organisation=org, member=pilot, kind=CreditKind.DEPOSIT, amount=D("300"))
    make_flight(org, aircraft, pilot, minutes=10, on=date(2026, 10, 20), sign_off_by=admin)  # 42 (newest)
    make_flight(org, aircraft, pilot, minutes=50, on=date(2026, 9, 10), sign_off_by=admin)  # 210 (oldest)
    make_flight(org, aircraft, pilot, minutes=30, on=date(2026, 9, 25), sign_off_by=admin)  # 126
    _r, [invoice] = billing_run(org, "2026-10")
    invoice.approve(admin)
    covered = {p.date: (p.credit_covered, p.amount_invoiced) for p in invoice.positions.all()}
    assert covered[date(2026, 9, 10)] == (D("210.00"), D("0.00"))
    assert covered[date(2026, 9, 25)] == (D("90.00"), D("36.00"))  # the part the credit could not pay
    assert covered[date(2026, 10, 20)] == (D("0.00"), D("42.00"))
    assert (invoice.credit_applied, invoice.amount_due) == (D("300.00"), D("78.00"))
    assert credit_balance(pilot) == D("0.00")
    assert CreditEntry.objects.filter(kind=CreditKind.USAGE, invoice=invoice).count() == 2


def test_due_part_is_never_rounded_below_the_charges_and_never_uses_more_credit(club):
    org, admin, aircraft, aerodrome = club
    pilot = make_member(org, "1")
    CreditEntry.objects.create(organisation=org, member=pilot, kind=CreditKind.DEPOSIT, amount=D("99.99"))
    make_flight(org, aircraft, pilot, minutes=60, sign_off_by=admin)  # 252
    _r, [invoice] = billing_run(org, "2026-10")
    invoice.approve(admin)
    # 252 - 99.99 = 152.01 -> due 152.05 (a multiple of 0.05), credit used 99.95 <= 99.99.
    assert (invoice.credit_applied, invoice.amount_due, invoice.rounding_difference) == (
        D("99.95"),
        D("152.05"),
        D("0.00"),
    )
    assert sum(p.amount_invoiced for p in invoice.positions.all()) == invoice.amount_due
    assert credit_balance(pilot) == D("0.04")


def test_cancelling_an_approved_invoice_gives_the_credit_back(club):
    org, admin, aircraft, _ = club
    pilot = make_member(org, "1")
    CreditEntry.objects.create(organisation=org, member=pilot, kind=CreditKind.DEPOSIT, amount=D("500"))
    make_flight(org, aircraft, pilot, minutes=60, sign_off_by=admin)  # 252
    _r, [invoice] = billing_run(org, "2026-10", approve=True)
    assert invoice.is_statement and credit_balance(pilot) == D("248.00")
    invoice.cancel(admin)
    assert credit_balance(pilot) == D("500.00")
    assert invoice.status == InvoiceStatus.CANCELLED
    assert not Charge.objects.filter(invoice__isnull=False).exists()
    with pytest.raises(InvalidStatusChange):
        invoice.cancel(admin)


def test_top_up_payment_is_credit_once(club):
    org, admin, *_ = club
    member = make_member(org, "1")
    top_up = create_top_up(org, member, D("500"), user=admin)
    top_up.approve(admin)
    payment, created = top_up.record_payment(amount=D("500"), date=date(2026, 11, 5), external_ref="p:1")
    again, created_again = top_up.record_payment(amount=D("500"), date=date(2026, 11, 5), external_ref="p:1")
    assert created and not created_again and again == payment
    assert credit_balance(member) == D("500.00")
    assert CreditEntry.objects.get(member=member).kind == CreditKind.TOP_UP


def test_payment_of_a_charge_invoice_is_not_credit(club):
    org, admin, aircraft, _ = club
    pilot = make_member(org, "1")
    make_flight(org, aircraft, pilot, minutes=60, sign_off_by=admin)
    _r, [invoice] = billing_run(org, "2026-10", approve=True)
    invoice.record_payment(amount=D("252"), date=date(2026, 11, 5), external_ref="p:2")
    assert credit_balance(pilot) == D("0.00")
    assert invoice.paid_amount == D("252.00")


def test_approve_locks_and_only_drafts_are_approved(club):
    org, admin, aircraft, _ = club
    pilot = make_member(org, "1")
    make_flight(org, aircraft, pilot, sign_off_by=admin)
    _run, [invoice] = billing_run(org, "2026-10", user=admin, approve=True)
    assert invoice.status == InvoiceStatus.APPROVED and invoice.is_locked
    assert invoice.approved_by == admin
    from aeroledger.billing.models import InvoiceLocked

    with pytest.raises(InvoiceLocked):
        invoice.recalculate()
    with pytest.raises(InvalidStatusChange):
        invoice.approve(admin)
    invoice.mark_transferred()
    assert invoice.set_status_from_bexio("partially_paid")
    assert not invoice.set_status_from_bexio("partially_paid")
    assert Invoice.objects.get(pk=invoice.pk).status == "partially_paid"


def test_cancelled_invoice_releases_its_charges(club):
    org, admin, aircraft, _ = club
    pilot = make_member(org, "1")
    make_flight(org, aircraft, pilot, sign_off_by=admin)
    _run, [invoice] = billing_run(org, "2026-10")
    invoice.cancel()
    _run, [again] = billing_run(org, "2026-10")
    assert again.positions.count() == 1


def test_top_up_invoice(club):
    org, admin, *_ = club
    member = make_member(org, "1")
    invoice = create_top_up(org, member, D("500"), user=admin)
    assert invoice.kind == InvoiceKind.TOP_UP
    assert (invoice.total, invoice.amount_due) == (D("500.00"), D("500.00"))
    assert invoice.positions.get().charge_type == "top_up"


def test_invoice_numbers_are_sequential_and_uuids_unique(club):
    org, admin, aircraft, _ = club
    a, b = make_member(org, "1"), make_member(org, "2")
    one = create_top_up(org, a, D("10"))
    two = create_top_up(org, b, D("10"))
    assert one.number.endswith("00001") and two.number.endswith("00002")
    assert one.uuid != two.uuid


def test_billing_run_command(club, capsys):
    org, admin, aircraft, _ = club
    pilot = make_member(org, "77", first_name="Paula", last_name="Pilot")
    make_flight(org, aircraft, pilot, sign_off_by=admin)
    call_command("billing_run", "--org", "club", "--period", "2026-10", "--approve")
    out = capsys.readouterr().out
    assert "Paula Pilot" in out and "approved" in out and "1 invoice(s)" in out
    with pytest.raises(CommandError, match="month"):
        call_command("billing_run", "--org", "club", "--period", "October")
    with pytest.raises(CommandError, match="No organisation"):
        call_command("billing_run", "--org", "nope", "--period", "2026-10")


def test_correction_needs_a_reason(club):
    org, *_ = club
    member = make_member(org, "1")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        CreditEntry.objects.create(
            organisation=org, member=member, kind=CreditKind.CORRECTION, amount=D("-5")
        )
    CreditEntry.objects.create(
        organisation=org, member=member, kind=CreditKind.CORRECTION, amount=D("-5"), reason="typo"
    )
    assert CreditEntry.objects.filter(member=member).balance() == D("-5.00")
