"""The flight log: filters by period (month or from/to), aircraft and pilot; paging keeps them."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aeroledger.flights import views
from aeroledger.flights.models import Aircraft
from aeroledger.tenancy.testing import PASSWORD, make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db

URL = reverse("flights:list", args=["club"])


@pytest.fixture
def club(client):
    org = make_org("club")
    boss = make_staff(org, "boss")
    make_staff(org, "reader", perms=())
    hb_abc, aerodrome = make_fleet(org)
    hb_xyz = Aircraft.objects.create(
        organisation=org,
        registration="HB-XYZ",
        type_name="Piper PA-28",
        price_per_minute=D("3.80"),
        instruction_price_per_minute=D("1.50"),
    )
    anna = make_member(org, "1", first_name="Anna", last_name="Alpha")
    bruno = make_member(org, "2", first_name="Bruno", last_name="Beta")
    flights = {
        "anna-sep": make_flight(org, hb_abc, anna, on=date(2026, 9, 30)),
        "anna-oct-1": make_flight(org, hb_abc, anna, on=date(2026, 10, 1), landings=[(aerodrome, 2)]),
        "bruno-oct-15": make_flight(org, hb_xyz, bruno, on=date(2026, 10, 15), instructor=anna),
        "anna-oct-31": make_flight(org, hb_xyz, anna, on=date(2026, 10, 31), sign_off_by=boss),
        "bruno-nov": make_flight(org, hb_abc, bruno, on=date(2026, 11, 1)),
    }
    other = make_org("other")
    other_aircraft, _ = make_fleet(other)
    make_flight(other, other_aircraft, make_member(other, "1"), on=date(2026, 10, 10))
    client.login(username="reader", password=PASSWORD)
    return {"flights": flights, "hb_abc": hb_abc, "hb_xyz": hb_xyz, "anna": anna, "bruno": bruno}


def shown(client, **params) -> set[str]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return {f.pk for f in response.context["page"]}


def keys(club, *names) -> set[int]:
    return {club["flights"][n].pk for n in names}


def test_no_filter_shows_all_flights_of_the_organisation(client, club):
    assert shown(client) == keys(club, *club["flights"])


def test_month_filter(client, club):
    assert shown(client, month="2026-10") == keys(club, "anna-oct-1", "bruno-oct-15", "anna-oct-31")
    assert shown(client, month="2026-09") == keys(club, "anna-sep")
    assert shown(client, month="2026-12") == set()


def test_from_to_filter(client, club):
    assert shown(client, start="2026-10-01", end="2026-10-15") == keys(club, "anna-oct-1", "bruno-oct-15")
    assert shown(client, start="2026-10-31") == keys(club, "anna-oct-31", "bruno-nov")
    assert shown(client, end="2026-09-30") == keys(club, "anna-sep")


def test_aircraft_and_pilot_filters(client, club):
    assert shown(client, aircraft=club["hb_xyz"].pk) == keys(club, "bruno-oct-15", "anna-oct-31")
    assert shown(client, pilot=club["bruno"].pk) == keys(club, "bruno-oct-15", "bruno-nov")
    # The pilot filter is about the pilot, not the instructor (Anna instructs Bruno's October flight).
    assert shown(client, pilot=club["anna"].pk) == keys(club, "anna-sep", "anna-oct-1", "anna-oct-31")


def test_filters_combine(client, club):
    both = shown(client, month="2026-10", aircraft=club["hb_abc"].pk, pilot=club["anna"].pk)
    assert both == keys(club, "anna-oct-1")
    assert shown(client, month="2026-10", state="signed") == keys(club, "anna-oct-31")
    assert shown(client, month="2026-10", q="HB-XYZ") == keys(club, "bruno-oct-15", "anna-oct-31")


def test_bad_filters_are_shown_and_left_out(client, club):
    response = client.get(URL, {"month": "10/2026", "pilot": club["bruno"].pk})
    assert response.status_code == 200
    assert "month" in response.context["form"].errors
    assert "Month must be a month from 1900 to 2100, e.g. 11.2026 (not &#x27;10/2026&#x27;)." in response.text
    assert {f.pk for f in response.context["page"]} == keys(club, "bruno-oct-15", "bruno-nov")
    reversed_range = client.get(URL, {"start": "2026-10-31", "end": "2026-10-01"})
    assert "end" in reversed_range.context["form"].errors


@pytest.mark.parametrize(
    "params, field",
    [
        ({"month": "0000-01"}, "month"),  # issue 13: was a 500 (year 0)
        ({"month": "9999-12"}, "month"),
        ({"month": "２０２６-１０"}, "month"),  # full-width digits
        ({"start": "0001-01-01"}, "start"),
        ({"end": "9999-12-31"}, "end"),
        ({"pilot": "99999999999999999999"}, "pilot"),
        ({"aircraft": "²"}, "aircraft"),
    ],
)
def test_out_of_range_filters_are_field_errors_not_500(client, club, params, field):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert len(response.context["page"].object_list) == len(club["flights"])


def test_other_organisations_aircraft_and_members_are_not_choices(client, club):
    from aeroledger.members.models import Member

    foreign_pilot = Member.objects.get(organisation__slug="other")
    response = client.get(URL, {"pilot": foreign_pilot.pk})
    assert "pilot" in response.context["form"].errors
    assert shown(client, pilot=foreign_pilot.pk) == keys(club, *club["flights"])


def test_paging_keeps_the_filters(client, club, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    response = client.get(URL, {"month": "2026-10", "aircraft": club["hb_abc"].pk})
    assert response.context["page"].paginator.count == 1
    response = client.get(URL, {"month": "2026-10"})
    page = response.context["page"]
    assert page.paginator.num_pages == 2
    assert "month=2026-10&amp;page=2" in response.text
    second = client.get(URL, {"month": "2026-10", "page": 2})
    assert {f.pk for f in second.context["page"]} == keys(club, "anna-oct-1")
    # The form shows the filters it applied.
    assert 'value="2026-10"' in second.text


@pytest.mark.parametrize(
    "params", [{}, {"month": "2026-10"}, {"start": "2026-09-01", "end": "2026-11-30", "state": "open"}]
)
def test_query_count_does_not_depend_on_page_size(client, club, monkeypatch, params):
    org_aircraft, anna = club["hb_abc"], club["anna"]
    for day in range(1, 13):
        make_flight(anna.organisation, org_aircraft, anna, on=date(2026, 10, day), instructor=club["bruno"])

    def count(size: int) -> int:
        monkeypatch.setattr(views, "PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL, params)
        assert response.status_code == 200 and len(response.context["page"]) == size
        return len(ctx.captured_queries)

    assert count(2) == count(10)
