from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from aeroledger.billing.models import CreditEntry, pending_charges
from aeroledger.flights.imports import import_flights
from aeroledger.flights.models import Flight
from aeroledger.tenancy.testing import PASSWORD, make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def club():
    org = make_org("club")
    boss = make_staff(org, "boss")
    make_staff(org, "reader", perms=())
    aircraft, aerodrome = make_fleet(org)
    pilot = make_member(org, "1")
    teacher = make_member(org, "2")
    return org, boss, aircraft, aerodrome, pilot, teacher


def test_create_flight_with_landings_makes_charges(client, club):
    org, boss, aircraft, aerodrome, pilot, teacher = club
    client.login(username="boss", password=PASSWORD)
    response = client.post(
        reverse("flights:create", args=["club"]),
        {
            "date": "2026-10-03",
            "aircraft": aircraft.pk,
            "pilot": pilot.pk,
            "instructor": teacher.pk,
            "block_minutes": "50",
            f"landings_{aerodrome.pk}": "2",
        },
    )
    assert response.status_code == 302
    flight = Flight.objects.get()
    amounts = sorted(c.amount for c in flight.charges.all())
    assert amounts == [D("45.00"), D("75.00"), D("210.00")]


def test_adjust_charge_until_sign_off(client, club):
    org, boss, aircraft, aerodrome, pilot, _ = club
    flight = make_flight(org, aircraft, pilot, minutes=60)
    charge = flight.charges.get()
    client.login(username="boss", password=PASSWORD)
    url = reverse("flights:charge_edit", args=["club", charge.pk])
    client.post(url, {"text": "discount", "quantity": "60", "unit_price": "4.00"})
    charge.refresh_from_db()
    assert charge.amount == D("240.00")
    client.post(reverse("flights:sign_off", args=["club", flight.pk]))
    flight.refresh_from_db()
    assert flight.is_signed_off
    assert not CreditEntry.objects.exists()  # credit pays when the invoice is approved
    assert pending_charges(pilot) == D("240.00")
    client.post(url, {"text": "again", "quantity": "1", "unit_price": "1"})
    charge.refresh_from_db()
    assert charge.amount == D("240.00")
    assert client.get(reverse("flights:edit", args=["club", flight.pk])).status_code == 302


def test_reader_cannot_sign_off(client, club):
    org, boss, aircraft, aerodrome, pilot, _ = club
    flight = make_flight(org, aircraft, pilot)
    client.login(username="reader", password=PASSWORD)
    assert client.post(reverse("flights:sign_off", args=["club", flight.pk])).status_code == 403
    assert client.get(reverse("flights:detail", args=["club", flight.pk])).status_code == 200


GOOD = (
    "date;aircraft;pilot;instructor;block_minutes;landings;remarks\n"
    "03.10.2026;hb-abc;1;2;45;LSZG:2;Platzrunden\n"
    "2026-10-04;HB-ABC;2;;30;LSZG;\n"
)


def test_import_good_file(club):
    org, *_ = club
    plan = import_flights(org, GOOD)
    assert plan.ok, plan.errors
    assert plan.commit() == 2
    first = Flight.objects.get(remarks="Platzrunden")
    assert first.landings.get().count == 2
    assert first.charges.count() == 3
    assert not first.is_signed_off


def test_import_bad_rows_import_nothing(club, tmp_path, capsys):
    org, *_ = club
    bad = (
        "date,aircraft,pilot,instructor,block_minutes,landings\n"
        "32.10.2026,HB-ABC,1,,45,LSZG\n"  # row 2: date
        "03.10.2026,HB-XXX,1,,45,LSZG\n"  # row 3: aircraft
        "03.10.2026,HB-ABC,99,1,0,LSZZ:2\n"  # row 4: pilot, minutes, aerodrome
        "03.10.2026,HB-ABC,1,1,45,\n"  # row 5: instructor = pilot
        "03.10.2026,HB-ABC,1,,45,LSZG:2\n"  # row 6: fine
    )
    plan = import_flights(org, bad)
    found = {(e.row, e.column) for e in plan.errors}
    assert {
        (2, "date"),
        (3, "aircraft"),
        (4, "pilot"),
        (4, "block_minutes"),
        (4, "landings"),
        (5, "instructor"),
    } <= found
    assert 6 not in {e.row for e in plan.errors}
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="cp1252")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_flights", "--org", "club", str(path))
    assert "row 3, column aircraft" in capsys.readouterr().err
    assert not Flight.objects.exists()


def test_import_command(club, tmp_path, capsys):
    path = tmp_path / "good.csv"
    path.write_text(GOOD, encoding="utf-8")
    call_command("import_flights", "--org", "club", str(path))
    assert "Imported 2 flights" in capsys.readouterr().out


def test_aircraft_and_aerodrome_pages(client, club):
    org, boss, aircraft, aerodrome, *_ = club
    client.login(username="boss", password=PASSWORD)
    response = client.post(
        reverse("flights:aircraft_create", args=["club"]),
        {
            "registration": "hb-kfa",
            "type_name": "Aquila",
            "price_per_minute": "3.1",
            "instruction_price_per_minute": "1.5",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert "HB-KFA" in client.get(reverse("flights:aircraft", args=["club"])).text
    dup = client.post(
        reverse("flights:aerodrome_create", args=["club"]), {"icao": "lszg", "name": "x", "landing_fee": "1"}
    )
    assert dup.status_code == 200 and "icao" in dup.context["form"].errors
