"""The invoice, member and credit-account lists: filters, totals of the filtered rows, name order."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aeroledger.tenancy.testing import make_member

from .conftest import entry, invoice, payment, write

pytestmark = pytest.mark.django_db


def get(client, name, org, **params):
    response = client.get(reverse(name, args=[org.slug]), params)
    assert response.status_code == 200
    return response


def test_invoice_totals_are_those_of_the_filtered_rows(client, club):
    org, m = club
    invoice(org, m["Muster"], "1", status="draft", due="10.00", total="15.00")
    invoice(org, m["Muster"], "2", status="approved", due="20.00")
    paid_part = invoice(org, m["Brunner"], "3", status="partially_paid", due="40.00")
    payment(paid_part, "15.00")
    invoice(org, m["Bärtschi"], "4", status="paid", due="80.00")
    invoice(org, m["Müller"], "5", status="cancelled", due="160.00")

    everything = get(client, "billing:invoices", org).context["totals"]
    assert (everything.count, everything.total, everything.due) == (5, Decimal("315.00"), Decimal("310.00"))
    assert everything.open == Decimal("45.00")  # 20 approved + 40 - 15 partially paid

    owed = get(client, "billing:invoices", org, show="owed")
    assert {i.number for i in owed.context["page"]} == {"2", "3"}
    assert owed.context["totals"].open == Decimal("45.00")
    open_amounts = {i.number: i.open_amount for i in owed.context["page"]}
    assert open_amounts == {"2": Decimal("20.00"), "3": Decimal("25.00")}
    assert "45.00" in owed.text and "2 invoices" in owed.text

    drafts = get(client, "billing:invoices", org, status="draft").context["totals"]
    assert (drafts.count, drafts.total, drafts.open) == (1, Decimal("15.00"), Decimal("0.00"))

    of_muster = get(client, "billing:invoices", org, member=m["Muster"].pk)
    assert {i.number for i in of_muster.context["page"]} == {"1", "2"}
    assert "Invoices of Anna Muster" in of_muster.text


def test_invoices_sort_by_member_name_like_a_phone_book(client, club):
    org, m = club
    for n, name in enumerate(["Muster", "Müller", "Mueller", "Brunner", "Bärtschi"]):
        invoice(org, m[name], str(n))
    page = get(client, "billing:invoices", org, sort="name").context["page"]
    assert [i.member.last_name for i in page] == ["Bärtschi", "Brunner", "Mueller", "Müller", "Muster"]
    found = get(client, "billing:invoices", org, q="bärtschi").context["page"]
    assert [i.member.last_name for i in found] == ["Bärtschi"]


def test_the_bexio_filter_comes_from_the_integration(client, club):
    org, m = club
    waiting = invoice(org, m["Muster"], "1")
    failed = invoice(org, m["Brunner"], "2")
    done = invoice(org, m["Bärtschi"], "3", status="transferred")
    write(failed, "failed")
    write(done, "done", "RE-00003")
    numbers = {
        value: {i.number for i in get(client, "billing:invoices", org, bexio=value).context["page"]}
        for value in ("waiting", "failed", "transferred")
    }
    assert numbers == {"waiting": {waiting.number}, "failed": {failed.number}, "transferred": {done.number}}
    page = get(client, "billing:invoices", org).text
    assert "RE-00003" in page and 'name="bexio"' in page
    org.bexio_option = False
    org.save()
    page = get(client, "billing:invoices", org).text
    assert 'name="bexio"' not in page and "RE-00003" not in page and "bexio-transfer-form" not in page


def test_credit_accounts_filter_below_zero_and_threshold_with_totals(client, club):
    org, m = club
    org.low_balance_threshold = Decimal("100.00")
    org.save()
    entry(org, m["Muster"], "-30.00", kind="usage")
    entry(org, m["Brunner"], "50.00")
    entry(org, m["Bärtschi"], "500.00")
    make_member(org, "9", last_name="Paid", invoice_to=m["Bärtschi"])  # no account of their own
    every = get(client, "billing:credit_accounts", org)
    assert every.context["page"].paginator.count == 5  # Müller and Mueller have no entries: 0
    assert every.context["balance_total"] == Decimal("520.00")
    below_zero = get(client, "billing:credit_accounts", org, balance="negative")
    assert [a.last_name for a in below_zero.context["page"]] == ["Muster"]
    assert below_zero.context["balance_total"] == Decimal("-30.00")
    low = get(client, "billing:credit_accounts", org, balance="low")
    assert [a.last_name for a in low.context["page"]] == ["Brunner", "Muster"]
    assert low.context["balance_total"] == Decimal("20.00")
    legacy = get(client, "billing:credit_accounts", org, negative="1")
    assert [a.last_name for a in legacy.context["page"]] == ["Muster"]
    by_balance = get(client, "billing:credit_accounts", org, sort="balance").context["page"]
    assert [a.last_name for a in by_balance][:2] == ["Muster", "Mueller"]


def test_member_list_shows_balances_and_their_total(client, club):
    org, m = club
    entry(org, m["Muster"], "-30.00", kind="usage")
    entry(org, m["Brunner"], "50.00")
    response = get(client, "members:list", org)
    assert response.context["balance_total"] == Decimal("20.00")
    assert "5 members" in response.text and "-30.00" in response.text
    by_number = get(client, "members:list", org, sort="number").context["page"]
    assert [x.number for x in by_number] == ["1", "2", "3", "4", "5"]
    archived = get(client, "members:list", org, show="archived")
    assert archived.context["balance_total"] == Decimal("0.00") and "No members found." in archived.text
