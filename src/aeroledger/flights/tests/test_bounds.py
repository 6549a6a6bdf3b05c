"""Issue 13: charges and flights within bounds. A "Manage members" user edited a charge to
quantity -1000 and signed it off, which raised the member's credit by 10,000; flights with 10^12
landings or 99,999,999,999 minutes were saved and their pages answered 500."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from aeroledger.billing.models import CreditEntry, credit_balance
from aeroledger.billing.runs import billing_run
from aeroledger.flights.models import Flight, Landing
from aeroledger.tenancy.testing import PASSWORD, make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def club(client):
    org = make_org("club")
    make_staff(org, "members", perms=("members",))
    aircraft, aerodrome = make_fleet(org)
    pilot = make_member(org, "1")
    assert client.login(username="members", password=PASSWORD)
    return org, aircraft, aerodrome, pilot


@pytest.mark.parametrize(
    "quantity, unit_price, field, message",
    [
        ("-1000", "10", "quantity", "The quantity must be from 0 to 10'000."),
        ("60", "-10", "unit_price", "The unit price must be from 0 to 10'000 CHF."),
        ("100000", "1", "quantity", "The quantity must be from 0 to 10'000."),
        ("1", "99999999", "unit_price", "The unit price must be from 0 to 10'000 CHF."),
    ],
)
def test_a_charge_cannot_be_edited_into_credit_or_an_absurd_amount(
    client, club, quantity, unit_price, field, message
):
    org, aircraft, aerodrome, pilot = club
    flight = make_flight(org, aircraft, pilot, minutes=60)
    charge = flight.charges.get()
    before = charge.amount
    url = reverse("flights:charge_edit", args=["club", charge.pk])
    response = client.post(url, {"text": "x", "quantity": quantity, "unit_price": unit_price})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    charge.refresh_from_db()
    assert charge.amount == before
    # Signed off as it is and billed: the credit pays it, the balance only goes down.
    client.post(reverse("flights:sign_off", args=["club", flight.pk]))
    CreditEntry.objects.create(organisation=org, member=pilot, kind="deposit", amount=before)
    _run, [invoice] = billing_run(org, f"{flight.date:%Y-%m}", approve=True)
    assert invoice.credit_applied == before and credit_balance(pilot) == 0
    assert not CreditEntry.objects.filter(amount__gt=0).exclude(kind="deposit").exists()


def test_a_charge_of_zero_and_the_bounds_themselves_are_fine(client, club):
    org, aircraft, aerodrome, pilot = club
    charge = make_flight(org, aircraft, pilot, minutes=60).charges.get()
    url = reverse("flights:charge_edit", args=["club", charge.pk])
    assert client.post(url, {"text": "free", "quantity": "0", "unit_price": "3"}).status_code == 302
    charge.refresh_from_db()
    assert charge.amount == D("0.00")
    assert client.post(url, {"text": "max", "quantity": "10000", "unit_price": "10000"}).status_code == 302
    charge.refresh_from_db()
    assert charge.amount == D("100000000.00")


def flight_data(aircraft, pilot, aerodrome, *, minutes="60", landings="1"):
    return {
        "date": "2026-10-03",
        "aircraft": aircraft.pk,
        "pilot": pilot.pk,
        "block_minutes": minutes,
        f"landings_{aerodrome.pk}": landings,
    }


@pytest.mark.parametrize(
    "minutes, landings, field",
    [
        ("99999999999", "1", "block_minutes"),
        ("1441", "1", "block_minutes"),
        ("60", "1000000000000", "landings"),
        ("60", "100", "landings"),
        ("60", "-1", "landings"),
    ],
)
def test_absurd_flights_are_refused_with_the_field_named(client, club, minutes, landings, field):
    org, aircraft, aerodrome, pilot = club
    response = client.post(
        reverse("flights:create", args=["club"]),
        flight_data(aircraft, pilot, aerodrome, minutes=minutes, landings=landings),
    )
    assert response.status_code == 200
    name = "block_minutes" if field == "block_minutes" else f"landings_{aerodrome.pk}"
    expected = (
        "Block minutes must be a whole number from 1 to 1'440."
        if field == "block_minutes"
        else f"Landings at {aerodrome.icao}: a whole number from 0 to 99."
    )
    assert response.context["form"].errors[name] == [expected]
    assert not Flight.objects.exists()


def test_a_flight_at_the_bounds_is_saved_and_its_pages_render(client, club):
    org, aircraft, aerodrome, pilot = club
    response = client.post(
        reverse("flights:create", args=["club"]),
        flight_data(aircraft, pilot, aerodrome, minutes="1440", landings="99"),
    )
    assert response.status_code == 302
    flight = Flight.objects.get()
    assert Landing.objects.get().count == 99
    for url in (reverse("flights:detail", args=["club", flight.pk]), reverse("flights:list", args=["club"])):
        assert client.get(url).status_code == 200


def test_tariffs_are_bounded(client, club):
    org, aircraft, aerodrome, pilot = club
    url = reverse("flights:aircraft_edit", args=["club", aircraft.pk])
    data = {"registration": aircraft.registration, "type_name": "C172", "price_per_minute": "-1",
            "instruction_price_per_minute": "20000", "is_active": "on"}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["price_per_minute"] == ["The price must be from 0 to 10'000 CHF."]
    assert errors["instruction_price_per_minute"] == ["The price must be from 0 to 10'000 CHF."]
