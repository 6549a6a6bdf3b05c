"""Issue 13, item 3: a "Manage members" user may not book credit (403), yet a charge edited to
quantity -1000 x 10 and signed off raised the member's balance by 10,000. Every way that user has
to a charge is walked here: credit comes only from deposits, paid top-ups and corrections booked by
"Manage invoicing" (with a reason); charges never go below zero; a sign-off moves no money."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from aeroledger.billing.models import Charge, ChargeType, CreditEntry, CreditKind, credit_balance
from aeroledger.billing.runs import billing_run
from aeroledger.billing.tests.invariants import club_violations
from aeroledger.tenancy.testing import PASSWORD, make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


def test_a_members_manager_cannot_create_credit_by_any_path(client):
    org = make_org("club")
    boss = make_staff(org, "boss")
    make_staff(org, "desk", perms=("members",))
    aircraft, aerodrome = make_fleet(org)
    pilot = make_member(org, "1")
    CreditEntry.objects.create(
        organisation=org, member=pilot, kind=CreditKind.DEPOSIT, amount=D("500"), created_by=boss
    )
    flight = make_flight(org, aircraft, pilot, minutes=60, landings=[(aerodrome, 1)])
    charge = flight.charges.get(charge_type=ChargeType.AIRCRAFT_TIME)
    assert client.login(username="desk", password=PASSWORD)

    # The charge cannot be edited below zero, in either field (the form names the field).
    url = reverse("flights:charge_edit", args=["club", charge.pk])
    for data, field in (({"quantity": "-1000", "unit_price": "10"}, "quantity"),
                        ({"quantity": "1000", "unit_price": "-10"}, "unit_price")):  # fmt: skip
        response = client.post(url, {"text": "credit please", **data})
        assert response.status_code == 200 and field in response.context["form"].errors
    charge.refresh_from_db()
    assert charge.amount == D("252.00")
    # Nor below the form: the database refuses a negative charge.
    for field in ("quantity", "unit_price"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Charge.objects.filter(pk=charge.pk).update(**{field: D("-1000")})

    # Booking credit, adding a position (of any price) are not theirs.
    entry = {"kind": "correction", "date": "2026-10-31", "amount": "10000", "reason": "because"}
    assert (
        client.post(reverse("billing:credit_entry_create", args=["club", pilot.pk]), entry).status_code == 403
    )
    assert billing_run(org, "2026-10") == (None, [])  # nothing signed off yet: nothing to bill

    # Signing off moves no money; the billing run's approval uses the credit, never adds to it.
    before = credit_balance(pilot)
    assert client.post(reverse("flights:sign_off", args=["club", flight.pk])).status_code == 302
    assert credit_balance(pilot) == before
    assert (
        client.post(url, {"text": "x", "quantity": "-1000", "unit_price": "10"}).status_code == 302
    )  # locked
    _run, [invoice] = billing_run(org, "2026-10", user=boss, approve=True)
    position_url = reverse("billing:position_create", args=["club", invoice.pk])
    assert (
        client.post(position_url, {"text": "x", "quantity": "1", "unit_price": "-10000"}).status_code == 403
    )
    assert credit_balance(pilot) == before - invoice.credit_applied <= before
    assert not CreditEntry.objects.filter(amount__gt=0).exclude(kind=CreditKind.DEPOSIT).exists()
    assert club_violations(org, signed={flight.pk}) == []


def test_a_manual_position_cannot_be_negative_either(client):
    org = make_org("club")
    boss = make_staff(org, "boss")
    pilot = make_member(org, "1")
    Charge(organisation=org, member=pilot, charge_type=ChargeType.MANUAL, date=date(2026, 10, 1), text="Fee",
           quantity=D("1"), unit_price=D("50")).save()  # fmt: skip
    _run, [draft] = billing_run(org, "2026-10", user=boss)
    assert client.login(username="boss", password=PASSWORD)
    url = reverse("billing:position_create", args=["club", draft.pk])
    response = client.post(url, {"text": "refund?", "quantity": "1", "unit_price": "-100"})
    assert response.status_code == 200 and "unit_price" in response.context["form"].errors
    assert draft.positions.count() == 1
