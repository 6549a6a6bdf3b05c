"""Small factories for tests of every app: an organisation with staff, members, a fleet, flights."""

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model

from .models import BillingMode, Membership, Organisation, StaffProfile

PASSWORD = "test-password"


def make_org(slug: str = "club", *, prepaid: bool = True, bexio: bool = False, **fields) -> Organisation:
    fields.setdefault("name", f"Club {slug}")
    return Organisation.objects.create(
        slug=slug,
        billing_mode=BillingMode.PREPAID if prepaid else BillingMode.POSTPAID,
        bexio_option=bexio,
        **fields,
    )


def make_staff(
    org: Organisation, username: str, *, perms=("settings", "invoicing", "members"), language="en"
):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    StaffProfile.objects.create(user=user, language=language)
    Membership.objects.create(
        user=user,
        organisation=org,
        manage_settings="settings" in perms,
        manage_invoicing="invoicing" in perms,
        manage_members="members" in perms,
    )
    return user


def make_member(org: Organisation, number: str = "100", **fields):
    from aeroledger.members.models import Member  # noqa: PLC0415 - test factories; tenancy must not import upward at load

    fields.setdefault("first_name", "Anna")
    fields.setdefault("last_name", f"Muster{number}")
    fields.setdefault("city", "Bern")
    fields.setdefault("postcode", "3000")
    return Member.objects.create(organisation=org, number=number, **fields)


def make_fleet(org: Organisation):
    from aeroledger.flights.models import Aerodrome, Aircraft  # noqa: PLC0415 - as above

    aircraft = Aircraft.objects.create(
        organisation=org,
        registration="HB-ABC",
        type_name="Cessna 172",
        price_per_minute=Decimal("4.20"),
        instruction_price_per_minute=Decimal("1.50"),
    )
    aerodrome = Aerodrome.objects.create(
        organisation=org, icao="LSZG", name="Grenchen", landing_fee=Decimal("22.50")
    )
    return aircraft, aerodrome


def make_flight(org, aircraft, pilot, *, minutes=60, landings=(), instructor=None, on=None, sign_off_by=None):
    from aeroledger.flights.models import Flight, Landing  # noqa: PLC0415 - as above

    flight = Flight.objects.create(
        organisation=org,
        date=on or date(2026, 10, 15),
        aircraft=aircraft,
        pilot=pilot,
        instructor=instructor,
        block_minutes=minutes,
    )
    for aerodrome, count in landings:
        Landing.objects.create(flight=flight, aerodrome=aerodrome, count=count)
    flight.rebuild_charges()
    if sign_off_by is not None:
        flight.sign_off(sign_off_by)
    return flight


def shoot(page, name: str) -> None:
    """Screenshots of a browser test's page at 1280 and 390 px into $AEROLEDGER_SHOTS (if set)."""
    folder = os.environ.get("AEROLEDGER_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
