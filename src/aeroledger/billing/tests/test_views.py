from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from aeroledger.billing.models import CreditEntry, CreditKind, Invoice, InvoiceStatus
from aeroledger.billing.runs import billing_run
from aeroledger.tenancy.testing import PASSWORD, make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def club(client):
    org = make_org("club")
    boss = make_staff(org, "boss")
    make_staff(org, "flightdesk", perms=("members",))
    aircraft, aerodrome = make_fleet(org)
    pilot = make_member(org, "1", first_name="Paula", last_name="Pilot")
    make_flight(org, aircraft, pilot, minutes=30, sign_off_by=boss)
    return org, boss, pilot


def test_billing_run_from_the_web_and_approval(client, club):
    org, boss, pilot = club
    client.login(username="boss", password=PASSWORD)
    url = reverse("billing:run_create", args=["club"])
    preview = client.post(url, {"period": "10.2026"})
    assert preview.status_code == 200 and not Invoice.objects.exists()  # a preview writes nothing
    figures = preview.context["preview"]
    assert (figures.members, figures.charges, figures.total, figures.invoices) == (1, 1, D("126.00"), 1)
    html = preview.text
    assert "CHF 126.00" in html and 'name="action" value="create"' in html
    assert "31.10.2026" in html  # the period's end, in Swiss form
    response = client.post(url, {"period": "10.2026", "action": "create"})
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("billing:invoice", args=["club", invoice.pk])).text
    assert "126.00" in page and "Paula Pilot" in page
    client.post(reverse("billing:invoice_approve", args=["club", invoice.pk]))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED
    edit = client.get(reverse("billing:invoice_edit", args=["club", invoice.pk]))
    assert edit.status_code == 302  # approved: no editing here any more


def test_bad_period_is_a_form_error(client, club):
    client.login(username="boss", password=PASSWORD)
    response = client.post(reverse("billing:run_create", args=["club"]), {"period": "10/2026"})
    assert response.status_code == 200 and "period" in response.context["form"].errors


def test_approval_needs_manage_invoicing(client, club):
    org, boss, pilot = club
    _run, [invoice] = billing_run(org, "2026-10")
    client.login(username="flightdesk", password=PASSWORD)
    assert client.post(reverse("billing:invoice_approve", args=["club", invoice.pk])).status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT


def test_book_entries_and_statement(client, club):
    org, boss, pilot = club
    client.login(username="boss", password=PASSWORD)
    url = reverse("billing:credit_entry_create", args=["club", pilot.pk])
    client.post(url, {"kind": "deposit", "date": "2026-10-01", "amount": "500", "text": "Einzahlung"})
    missing_reason = client.post(
        url, {"kind": "correction", "date": "2026-10-20", "amount": "-10", "text": "x"}
    )
    assert "reason" in missing_reason.context["form"].errors
    client.post(
        url, {"kind": "correction", "date": "2026-10-20", "amount": "-10", "text": "x", "reason": "typo"}
    )
    # The signed-off flight (126) is not paid from credit before its invoice is approved.
    assert CreditEntry.objects.filter(member=pilot).balance() == D("490.00")  # 500 - 10
    too_much = client.post(url, {"kind": "refund", "date": "2026-10-21", "amount": "491", "text": "back"})
    assert "amount" in too_much.context["form"].errors
    client.post(url, {"kind": "refund", "date": "2026-10-21", "amount": "90", "text": "back"})
    assert CreditEntry.objects.get(kind=CreditKind.REFUND).amount == D("-90.00")
    statement = client.get(
        reverse("billing:statement", args=["club", pilot.pk]), {"start": "2026-10-16", "end": "2026-10-31"}
    )
    assert statement.context["opening"] == D("500.00")
    assert [e.kind for e, _running in statement.context["lines"]] == [
        CreditKind.CORRECTION,
        CreditKind.REFUND,
    ]
    assert "400.00" in statement.text
    accounts = client.get(reverse("billing:credit_accounts", args=["club"]))
    assert "400.00" in accounts.text


def test_top_up_from_the_web(client, club):
    org, boss, pilot = club
    client.login(username="boss", password=PASSWORD)
    response = client.post(reverse("billing:top_up", args=["club"]), {"member": pilot.pk, "amount": "250"})
    invoice = Invoice.objects.get(kind="top_up")
    assert response.status_code == 302 and invoice.amount_due == D("250.00")


def test_chf_filter():
    from aeroledger.tenancy.templatetags.money import chf, price, qty

    assert chf(D("1234.5")) == "1'234.50"
    assert chf(D("-1234567.891")) == "-1'234'567.89"
    assert chf(D("0")) == "0.00"
    assert chf(None) == ""
    assert price(D("4.2000")) == "4.20" and price(D("1.1250")) == "1.125"
    assert qty(D("45.0000")) == "45"


def test_approve_all_drafts_of_a_run(client, club):
    org, boss, pilot = club
    run, [invoice] = billing_run(org, "2026-10")
    client.login(username="boss", password=PASSWORD)
    client.post(reverse("billing:run_approve", args=["club", run.pk]))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.APPROVED


def test_a_statement_as_pdf_for_what_the_credit_paid(client, club):
    from aeroledger.billing.models import CreditEntry, CreditKind

    org, boss, pilot = club
    CreditEntry.objects.create(
        organisation=org, member=pilot, date=date(2026, 10, 1), kind=CreditKind.DEPOSIT, amount=D("500")
    )
    _run, [invoice] = billing_run(org, "2026-10")
    client.login(username="boss", password=PASSWORD)
    url = reverse("billing:invoice_statement_pdf", args=["club", invoice.pk])
    assert client.get(url).status_code == 404  # a draft has no statement yet
    invoice.approve(boss)
    invoice.refresh_from_db()
    assert invoice.is_statement and invoice.credit_applied == D("126.00")
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    page = client.get(reverse("billing:invoice", args=["club", invoice.pk])).text
    assert url in page
