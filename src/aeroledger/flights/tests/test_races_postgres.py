"""Issue 13, item 4, on PostgreSQL: a flight edit racing its sign-off (two requests at the same moment)
un-signed the flight (the generic form page saved a copy read before the sign-off) and left the
sign-off's debit behind; signing off again debited twice. Now the form page locks the row and reads
it afresh, and a sign-off moves no money: the credit pays when the billing run's invoice is approved.
"""

from decimal import Decimal as D

import pytest
from django.test import Client
from django.urls import reverse

from aeroledger.billing.models import Charge, CreditEntry, CreditKind, InvoicePosition
from aeroledger.billing.runs import billing_run
from aeroledger.billing.tests.invariants import charge_violations, credit_violations, flight_violations
from aeroledger.billing.tests.race import race, raised
from aeroledger.flights.models import Flight
from aeroledger.tenancy.testing import make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 24


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_flight_edit_racing_its_sign_off_never_un_signs_it_nor_bills_twice():
    org = make_org("club")
    boss = make_staff(org, "boss")
    desk = make_staff(org, "desk", perms=("members",))
    aircraft, aerodrome = make_fleet(org)
    pilot = make_member(org, "1")
    CreditEntry.objects.create(
        organisation=org, member=pilot, kind=CreditKind.DEPOSIT, amount=D("2000"), created_by=boss
    )
    editor, signer = logged_in(desk), logged_in(desk)
    signed = set()
    for n in range(ROUNDS):
        flight = make_flight(org, aircraft, pilot, minutes=60, landings=[(aerodrome, 1)])
        edit = {
            "date": "2026-10-15",
            "aircraft": aircraft.pk,
            "pilot": pilot.pk,
            "block_minutes": "90",
            f"landings_{aerodrome.pk}": "2",
        }
        results = race(
            lambda flight=flight: editor.post(reverse("flights:edit", args=["club", flight.pk]), edit),
            lambda flight=flight: signer.post(reverse("flights:sign_off", args=["club", flight.pk])),
            delays=[0.002 * (n % 12)],  # the edit 0 ... 22 ms after the sign-off
        )
        assert not raised(results), results
        assert [r.status_code for r in results] == [302, 302]
        signed.add(flight.pk)
        flight.refresh_from_db()
        assert flight.signed_off_at is not None, f"round {n}: the edit un-signed the flight"
        assert flight_violations(org, signed=signed, flights=[flight.pk]) == [], f"round {n}"
        minutes = {c.quantity for c in flight.charges.filter(charge_type="aircraft_time")}
        assert minutes in ({60}, {90}), f"round {n}: charges {minutes}"
    assert not CreditEntry.objects.exclude(kind=CreditKind.DEPOSIT).exists()  # sign-off moves no money
    # A second sign-off is refused; the billing run bills every charge exactly once.
    assert signer.post(reverse("flights:sign_off", args=["club", flight.pk])).status_code == 302
    assert Flight.objects.filter(signed_off_at__isnull=True).count() == 0
    billing_run(org, "2026-10", approve=True)
    assert not Charge.objects.filter(invoice__isnull=True).exists()
    assert InvoicePosition.objects.count() == Charge.objects.count() == ROUNDS * 2
    assert charge_violations(org) + credit_violations(org) == []


def test_a_charge_edit_racing_the_flight_edit_that_replaces_its_charges_is_told_so():
    """A flight edit replaces the flight's charges; a charge of it edited at the same moment was
    loaded before and then no longer existed when the page locked it: a 500."""
    org = make_org("club")
    desk = make_staff(org, "desk", perms=("members",))
    aircraft, aerodrome = make_fleet(org)
    pilot = make_member(org, "1")
    flight_desk, charge_desk = logged_in(desk), logged_in(desk)
    for n in range(ROUNDS):
        flight = make_flight(org, aircraft, pilot, minutes=60, landings=[(aerodrome, 1)])
        charge = flight.charges.get(charge_type="aircraft_time")
        edit = {
            "date": "2026-10-15",
            "aircraft": aircraft.pk,
            "pilot": pilot.pk,
            "block_minutes": "75",
            f"landings_{aerodrome.pk}": "1",
        }
        results = race(
            lambda flight=flight: flight_desk.post(reverse("flights:edit", args=["club", flight.pk]), edit),
            lambda charge=charge: charge_desk.post(
                reverse("flights:charge_edit", args=["club", charge.pk]),
                {"text": "adjusted", "quantity": "50", "unit_price": "4.20"},
            ),
            delays=[0.002 * (n % 12)],
        )
        assert not raised(results), f"round {n}: {results}"
        assert [r.status_code for r in results] in ([302, 302], [302, 404]), f"round {n}"
        assert flight_violations(org, flights=[flight.pk]) == [], f"round {n}"
