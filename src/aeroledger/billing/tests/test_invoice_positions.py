"""Removing positions from and adding manual positions to draft invoices."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from aeroledger.billing.models import (
    Charge,
    ChargeType,
    CreditEntry,
    CreditKind,
    Invoice,
    InvoiceLocked,
    InvoicePosition,
    InvoiceStatus,
    credit_balance,
)
from aeroledger.billing.money import invoice_totals
from aeroledger.billing.runs import billing_run, create_top_up
from aeroledger.tenancy.testing import PASSWORD, make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def club():
    """A post-paid club (no credit in the way of the totals) with a pilot's two signed-off flights."""
    org = make_org("club", prepaid=False)
    boss = make_staff(org, "boss")
    make_staff(org, "reader", perms=())
    make_staff(org, "flightdesk", perms=("members",))
    aircraft, aerodrome = make_fleet(org)
    pilot = make_member(org, "1", first_name="Paula", last_name="Pilot")
    make_flight(org, aircraft, pilot, minutes=60, on=date(2026, 10, 5), sign_off_by=boss)  # 252.00
    make_flight(
        org, aircraft, pilot, minutes=30, landings=[(aerodrome, 1)], on=date(2026, 10, 20), sign_off_by=boss
    )  # 126.00 + 22.50
    _run, [invoice] = billing_run(org, "2026-10", user=boss)
    return org, boss, pilot, invoice


def remove_url(invoice, position):
    return reverse("billing:position_remove", args=[invoice.organisation.slug, invoice.pk, position.pk])


def add_url(invoice):
    return reverse("billing:position_create", args=[invoice.organisation.slug, invoice.pk])


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_removing_a_position_reopens_its_charge_for_the_next_run(client, club):
    org, boss, pilot, invoice = club
    assert [p.amount for p in invoice.positions.all()] == [D("252.00"), D("126.00"), D("22.50")]
    landing = invoice.positions.get(charge_type=ChargeType.LANDING_FEE)
    time = invoice.positions.get(amount=D("126.00"))
    client.login(username="boss", password=PASSWORD)

    response = client.post(remove_url(invoice, time))

    assert response.status_code == 302
    assert response["Location"] == reverse("billing:invoice", args=["club", invoice.pk])
    assert "the next billing run bills its charge again" in texts(response)[0]
    charge = Charge.objects.get(pk=time.charge_id)
    assert charge.invoice is None and charge in Charge.objects.billable()
    assert [(p.pos, p.amount) for p in invoice.positions.all()] == [(1, D("252.00")), (2, D("22.50"))]
    assert InvoicePosition.objects.get(pk=landing.pk).pos == 2  # renumbered 1..n
    invoice.refresh_from_db()
    assert (invoice.total, invoice.amount_due) == (D("274.50"), D("274.50"))

    _run, [again] = billing_run(org, "2026-10", user=boss)
    assert again.pk != invoice.pk
    assert [p.charge_id for p in again.positions.all()] == [charge.pk]
    assert again.total == D("126.00")
    charge.refresh_from_db()
    assert charge.invoice_id == again.pk


def test_totals_are_recomputed_and_rounded_to_five_cents(client, club):
    org, boss, pilot, invoice = club
    client.login(username="boss", password=PASSWORD)
    client.post(add_url(invoice), {"text": "Headset rental", "quantity": "3", "unit_price": "0.33"})
    invoice.refresh_from_db()
    assert invoice.subtotal == D("401.49")  # 252 + 126 + 22.50 + 0.99
    assert (invoice.total, invoice.rounding_difference) == (D("401.50"), D("0.01"))

    for position in list(invoice.positions.exclude(charge_type=ChargeType.MANUAL)):
        client.post(remove_url(invoice, position))
    client.post(add_url(invoice), {"text": "Fuel receipt", "quantity": "1", "unit_price": "1.0249"})
    invoice.refresh_from_db()
    amounts = [p.amount for p in invoice.positions.all()]
    assert amounts == [D("0.99"), D("1.02")]
    expected = invoice_totals(amounts, None)
    assert expected.total == D("2.00")
    assert (invoice.total, invoice.rounding_difference, invoice.credit_applied, invoice.amount_due) == (
        expected.total,
        expected.rounding_difference,
        D("0.00"),
        D("2.00"),
    )
    assert invoice.total % D("0.05") == 0


def test_prepaid_credit_is_reapplied_and_nothing_is_paid_twice(client):
    org = make_org("club")  # prepaid
    boss = make_staff(org, "boss")
    aircraft, _aerodrome = make_fleet(org)
    pilot = make_member(org, "1")
    CreditEntry.objects.create(organisation=org, member=pilot, kind=CreditKind.DEPOSIT, amount=D("100"))
    make_flight(org, aircraft, pilot, minutes=30, sign_off_by=boss)  # 126.00
    make_flight(org, aircraft, pilot, minutes=10, sign_off_by=boss)  # 42.00
    _run, [invoice] = billing_run(org, "2026-10")
    assert (invoice.total, invoice.credit_applied, invoice.amount_due) == (
        D("168.00"),
        D("100.00"),
        D("68.00"),
    )
    client.login(username="boss", password=PASSWORD)

    client.post(remove_url(invoice, invoice.positions.get(amount=D("42.00"))))

    invoice.refresh_from_db()
    assert invoice.total == D("126.00")
    assert invoice.credit_applied + invoice.amount_due == invoice.total
    invoice.approve(boss)
    _run, [later] = billing_run(org, "2026-10")
    later.approve(boss)
    assert later.total == D("42.00")
    # Over both invoices the member pays what the credit did not cover, once.
    assert invoice.amount_due + later.amount_due == D("68.00")
    assert credit_balance(pilot) == D("0.00")


def test_manual_position_is_a_charge_paid_from_credit_at_approval(client):
    org = make_org("club")
    make_staff(org, "boss")
    pilot = make_member(org, "1")
    CreditEntry.objects.create(organisation=org, member=pilot, kind=CreditKind.DEPOSIT, amount=D("50"))
    invoice = _draft_with_one_manual_position(org, pilot, client)
    position = invoice.positions.get()
    assert (position.pos, position.charge_type, position.text) == (1, ChargeType.MANUAL, "Club fee")
    charge = position.charge
    assert (charge.charge_type, charge.invoice_id, charge.member_id, charge.amount) == (
        ChargeType.MANUAL,
        invoice.pk,
        pilot.pk,
        D("80.00"),
    )
    assert credit_balance(pilot) == D("50.00")  # a draft uses no credit yet
    invoice.refresh_from_db()
    assert (invoice.total, invoice.credit_applied, invoice.amount_due) == (D("80.00"), D("50.00"), D("30.00"))
    invoice.approve(None)
    assert credit_balance(pilot) == D("0.00")  # 50 of the 80 paid from credit, 30 due


def _draft_with_one_manual_position(org, member, client):
    """An empty draft charges invoice to which the web page adds 'Club fee' 2 x 40."""
    invoice = Invoice.objects.create(
        organisation=org,
        number="2026-00001",
        member=member,
        date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        title="Flights 10.2026",
    )
    client.login(username="boss", password=PASSWORD)
    response = client.post(add_url(invoice), {"text": "Club fee", "quantity": "2", "unit_price": "40"})
    assert response.status_code == 302
    assert texts(response) == ["The position was added and the totals recalculated."]
    return invoice


def test_a_removed_manual_position_is_billed_by_the_next_run(client):
    org = make_org("club", prepaid=False)
    make_staff(org, "boss")
    pilot = make_member(org, "1")
    invoice = _draft_with_one_manual_position(org, pilot, client)
    position = invoice.positions.get()
    assert position.date == date(2026, 10, 31)  # the period end: the run for the period bills it

    client.post(remove_url(invoice, position))

    invoice.refresh_from_db()
    assert invoice.positions.count() == 0 and invoice.total == D("0.00")
    _run, [later] = billing_run(org, "2026-10")
    assert [(p.charge_id, p.amount) for p in later.positions.all()] == [(position.charge_id, D("80.00"))]


def test_add_form_shows_errors(client, club):
    org, boss, pilot, invoice = club
    client.login(username="boss", password=PASSWORD)
    assert client.get(add_url(invoice)).status_code == 200
    response = client.post(add_url(invoice), {"text": "", "quantity": "0", "unit_price": "-1"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"text", "quantity", "unit_price"}
    assert invoice.positions.count() == 3


@pytest.mark.parametrize("status", [InvoiceStatus.APPROVED, InvoiceStatus.TRANSFERRED])
def test_approved_and_transferred_invoices_refuse(client, club, status):
    org, boss, pilot, invoice = club
    invoice.approve(boss)
    if status == InvoiceStatus.TRANSFERRED:
        invoice.mark_transferred()
    position = invoice.positions.first()
    before = (invoice.total, invoice.amount_due)
    client.login(username="boss", password=PASSWORD)

    response = client.post(remove_url(invoice, position))

    assert response.status_code == 302
    assert "is no longer a draft" in texts(response)[0]
    assert InvoicePosition.objects.filter(pk=position.pk).exists()
    assert Charge.objects.get(pk=position.charge_id).invoice_id == invoice.pk
    refused = client.post(add_url(invoice), {"text": "x", "quantity": "1", "unit_price": "5"})
    assert refused.status_code == 302 and "is no longer a draft" in texts(refused)[0]
    assert client.get(add_url(invoice)).status_code == 302
    invoice.refresh_from_db()
    assert invoice.positions.count() == 3 and (invoice.total, invoice.amount_due) == before
    page = client.get(reverse("billing:invoice", args=["club", invoice.pk])).text
    assert remove_url(invoice, position) not in page and add_url(invoice) not in page


def test_the_model_refuses_too(club):
    org, boss, pilot, invoice = club
    invoice.approve(boss)
    with pytest.raises(InvoiceLocked):
        invoice.remove_position(invoice.positions.first())
    with pytest.raises(InvoiceLocked):
        invoice.add_manual_position(text="x", quantity=D("1"), unit_price=D("1"))


def test_top_up_invoices_keep_their_position(client, club):
    org, boss, pilot, _invoice = club
    top_up = create_top_up(org, pilot, D("200"))
    client.login(username="boss", password=PASSWORD)
    response = client.post(remove_url(top_up, top_up.positions.get()))
    assert "top-up invoice keeps its one position" in texts(response)[0]
    assert top_up.positions.count() == 1


@pytest.mark.parametrize("username", ["reader", "flightdesk"])
def test_staff_without_manage_invoicing_get_403(client, club, username):
    org, boss, pilot, invoice = club
    position = invoice.positions.first()
    client.login(username=username, password=PASSWORD)
    assert client.post(remove_url(invoice, position)).status_code == 403
    assert client.get(add_url(invoice)).status_code == 403
    assert client.post(add_url(invoice), {"text": "x", "quantity": "1", "unit_price": "5"}).status_code == 403
    assert invoice.positions.count() == 3
    page = client.get(reverse("billing:invoice", args=["club", invoice.pk])).text
    assert remove_url(invoice, position) not in page


def test_removal_is_post_only_and_draft_page_offers_it(client, club):
    org, boss, pilot, invoice = club
    position = invoice.positions.first()
    client.login(username="boss", password=PASSWORD)
    assert client.get(remove_url(invoice, position)).status_code == 405
    page = client.get(reverse("billing:invoice", args=["club", invoice.pk])).text
    assert remove_url(invoice, position) in page and add_url(invoice) in page


def test_positions_of_other_invoices_and_organisations_are_404(client, club):
    org, boss, pilot, invoice = club
    other_org = make_org("other", prepaid=False)
    other_boss = make_staff(other_org, "other-boss")
    aircraft, _ = make_fleet(other_org)
    stranger = make_member(other_org, "1")
    make_flight(other_org, aircraft, stranger, sign_off_by=other_boss)
    _run, [foreign] = billing_run(other_org, "2026-10")
    foreign_position = foreign.positions.get()
    client.login(username="boss", password=PASSWORD)

    # Another organisation's invoice and position, in our URLs and in theirs.
    assert client.post(remove_url(invoice, foreign_position)).status_code == 404
    assert client.post(remove_url(foreign, foreign_position)).status_code == 404
    assert client.get(add_url(foreign)).status_code == 404
    # A position of another invoice of the same organisation is not on this one.
    top_up = create_top_up(org, pilot, D("10"))
    assert client.post(remove_url(invoice, top_up.positions.get())).status_code == 404
    assert foreign.positions.count() == 1 and top_up.positions.count() == 1
