"""The overview: what needs the treasurer today; every number is the count of the list it links to."""

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from aeroledger.bexio_link.connection.models import BexioConnection, Status
from aeroledger.bexio_link.connection.scopes import required_for
from aeroledger.bexio_link.transfer.models import SyncState
from aeroledger.billing.models import BillingRun
from aeroledger.tenancy.testing import make_fleet, make_flight, make_org, make_staff

from .conftest import entry, invoice, payment, write

pytestmark = pytest.mark.django_db


def figures(html: str) -> dict:
    """{figure id: (value text, link)} of the overview."""
    found = {}
    pattern = r'<(?:a|div) class="figure[^"]*" id="figure-([\w-]+)"(?: href="([^"]*)")?>(.*?)</(?:a|div)>'
    for match in re.finditer(pattern, html, re.S):
        value = re.search(r'<span class="value[^"]*">(.*?)</span>', match.group(3), re.S).group(1).strip()
        found[match.group(1)] = (value, match.group(2))
    return found


def seed(org, m):
    org.low_balance_threshold = Decimal("100.00")
    org.save()
    invoice(org, m["Muster"], "1", status="draft", due="10.00")
    invoice(org, m["Muster"], "2", status="draft", due="20.00")
    waiting = invoice(org, m["Brunner"], "3", status="approved", due="40.00")
    failed = invoice(org, m["Bärtschi"], "4", status="approved", due="80.00")
    write(failed, "failed")
    opened = invoice(org, m["Müller"], "5", status="partially_paid", due="160.00")
    write(opened, "done")
    payment(opened, "60.00")
    entry(org, m["Muster"], "-30.00", kind="usage")
    entry(org, m["Brunner"], "50.00")
    entry(org, m["Bärtschi"], "500.00")
    aircraft, _aerodrome = make_fleet(org)
    make_flight(org, aircraft, m["Muster"])
    run = BillingRun.objects.create(organisation=org, period_start="2026-10-01", period_end="2026-10-31")
    waiting.run = run
    waiting.save()
    return waiting


def test_every_figure_counts_what_its_list_shows(client, club):
    org, m = club
    seed(org, m)
    page = client.get(reverse("org_home", args=[org.slug]))
    assert page.status_code == 200
    shown = figures(page.text)
    assert shown["owed"][0] == "CHF 220.00"  # 40 + 80 + 160 - 60 paid
    assert shown["drafts"][0] == "2"
    # Müller's invoice payment is no credit: Muster (-30) and Brunner (50) are below 100.
    assert shown["below-zero"][0] == "1" and shown["below-threshold"][0] == "2"
    assert shown["flights"][0] == "1"
    assert shown["bexio-waiting"][0] == "1" and shown["bexio-failed"][0] == "1"
    assert shown["last-run"][0] == "October 2026"
    # Follow each link: the list shows as many rows (and, for money, the same amount).
    expected = {"owed": 3, "drafts": 2, "below-zero": 1, "below-threshold": 2, "flights": 1,
                "bexio-waiting": 1, "bexio-failed": 1}  # fmt: skip
    for figure, count in expected.items():
        url = shown[figure][1]
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.context["page"].paginator.count == count, (figure, url)
        value = shown[figure][0]
        assert value.endswith(str(count)) or value.startswith("CHF"), figure
    owed_list = client.get(shown["owed"][1])
    assert owed_list.context["totals"].open == Decimal("220.00")
    assert resolve(urlsplit(shown["last-run"][1]).path).url_name == "run"


def test_bexio_state_comes_from_its_panel(client, club):
    org, m = club
    seed(org, m)
    page = figures(client.get(reverse("org_home", args=[org.slug])).text)
    assert page["bexio-connection"][0] == "Not connected"
    BexioConnection.objects.create(
        organisation=org, status=Status.CONNECTED, access_token_enc="x", refresh_token_enc="y",
        granted_scopes=sorted(required_for(org)),
        obtained_at=timezone.now(), company_name="Flugschule Demo AG",
    )  # fmt: skip
    SyncState.objects.create(organisation=org, last_ok_at=timezone.now())
    html = client.get(reverse("org_home", args=[org.slug])).text
    assert figures(html)["bexio-connection"][0] == "Connected" and "Flugschule Demo AG" in html
    BexioConnection.objects.filter(organisation=org).update(status=Status.RECONNECT_NEEDED)
    assert figures(client.get(reverse("org_home", args=[org.slug])).text)["bexio-connection"][0] == (
        "Reconnect needed"
    )
    org.bexio_option = False
    org.save()
    html = client.get(reverse("org_home", args=[org.slug])).text
    assert "bexio" not in html.lower().replace("aeroledger", "")


def test_a_postpaid_club_has_no_credit_figures_and_a_reader_no_actions(client):
    org = make_org("post", prepaid=False)
    make_staff(org, "reader", perms=())
    client.login(username="reader", password="test-password")
    html = client.get(reverse("org_home", args=[org.slug])).text
    shown = figures(html)
    assert "below-zero" not in shown and "owed" in shown
    assert shown["last-run"][0] == "none yet"
    assert reverse("billing:run_create", args=[org.slug]) not in html
    assert reverse("org_settings", args=[org.slug]) not in html


def test_the_overview_costs_the_same_queries_whatever_the_size(client, club):
    org, m = club
    seed(org, m)
    url = reverse("org_home", args=[org.slug])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(30):
        invoice(org, m["Muster"], f"x{n}", status=["draft", "approved", "open"][n % 3])
        entry(org, m["Brunner"], "-10.00", kind="usage")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_settings_change_the_threshold(client, club):
    org, m = club
    entry(org, m["Brunner"], "150.00")
    url = reverse("org_settings", args=[org.slug])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["low_balance_threshold"] = "200.00"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    org.refresh_from_db()
    assert org.low_balance_threshold == Decimal("200.00")
    shown = figures(client.get(reverse("org_home", args=[org.slug])).text)
    assert shown["below-threshold"][0] == "1"
    assert parse_qs(urlsplit(shown["below-threshold"][1]).query) == {"balance": ["low"]}
