"""The bexio parts of the invoicing pages (hook panels from bexio_link): transfer buttons and
checkboxes on the list, bexio's document number, PDF link and failure message on the invoice page;
only with the bexio option."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from aeroledger.bexio_link.transfer.models import InvoiceLink, ItemKind, ItemStatus, OutboxItem
from aeroledger.billing.models import Invoice, InvoicePosition
from aeroledger.tenancy.testing import PASSWORD, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


def _invoice(org, number, *, approve_by=None):
    member = make_member(org, number, street="Weg", house_number="1", country="CH")
    invoice = Invoice.objects.create(
        organisation=org,
        member=member,
        date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        title="November",
        number=f"2026-{number}",
    )
    InvoicePosition.objects.create(
        invoice=invoice,
        pos=1,
        charge_type="manual",
        text="Beitrag",
        quantity=Decimal(1),
        unit_price=Decimal(50),
    )
    invoice.recalculate()
    invoice.save()
    if approve_by is not None:
        invoice.approve(approve_by)
    return invoice


@pytest.fixture
def web():
    """The browser's side (the module's `client` is the bexio client)."""
    return Client()


@pytest.fixture
def club():
    org = make_org("club", bexio=True)
    boss = make_staff(org, "boss")
    make_staff(org, "reader", perms=("members",))
    return org, boss


def _write(invoice, status, **fields):
    return OutboxItem.objects.create(
        organisation=invoice.organisation, kind=ItemKind.INVOICE, key=str(invoice.uuid), invoice=invoice,
        label=invoice.number, status=status, **fields,
    )  # fmt: skip


def _list(web, org):
    return web.get(reverse("billing:invoices", args=[org.slug])).text


def test_the_list_offers_approved_untransferred_invoices_for_the_transfer(web, club):
    org, boss = club
    draft = _invoice(org, "1")
    approved = _invoice(org, "2", approve_by=boss)
    failed = _invoice(org, "3", approve_by=boss)
    done = _invoice(org, "4", approve_by=boss)
    _write(failed, ItemStatus.FAILED)
    _write(done, ItemStatus.DONE, bexio_id=42, bexio_ref="RE-00042")
    InvoiceLink.objects.create(organisation=org, invoice=done, bexio_id=42, document_nr="RE-00042")
    web.login(username="boss", password=PASSWORD)
    page = _list(web, org)
    start = reverse("bexio_transfer:start", args=[org.slug])
    assert f'action="{start}"' in page
    assert "Transfer selected to bexio" in page and "Transfer all approved to bexio" in page
    assert reverse("bexio_transfer:preview", args=[org.slug]) in page
    assert f'name="invoice_ids" value="{approved.pk}"' in page
    assert f'name="invoice_ids" value="{failed.pk}"' in page  # a failed transfer may be started again
    assert f'name="invoice_ids" value="{draft.pk}"' not in page
    assert f'name="invoice_ids" value="{done.pk}"' not in page
    assert "RE-00042" in page


def test_transfer_buttons_need_manage_invoicing(web, club):
    org, boss = club
    _invoice(org, "2", approve_by=boss)
    web.login(username="reader", password=PASSWORD)
    page = _list(web, org)
    assert "Transfer selected to bexio" not in page and "Transfer all approved to bexio" not in page
    assert 'name="invoice_ids"' not in page
    assert reverse("bexio_transfer:preview", args=[org.slug]) in page


def test_without_the_bexio_option_nothing_of_bexio_shows(web):
    org = make_org("plain")
    boss = make_staff(org, "boss")
    invoice = _invoice(org, "2", approve_by=boss)
    web.login(username="boss", password=PASSWORD)
    page = _list(web, org)
    assert "bexio" not in page.lower().replace("transferred to bexio", "")
    assert 'name="invoice_ids"' not in page
    detail = web.get(reverse("billing:invoice", args=[org.slug, invoice.pk])).text
    assert 'id="bexio-state"' not in detail


def test_the_invoice_page_shows_bexio_number_status_and_pdf(web, club):
    org, boss = club
    invoice = _invoice(org, "2", approve_by=boss)
    web.login(username="boss", password=PASSWORD)
    url = reverse("billing:invoice", args=[org.slug, invoice.pk])
    assert 'id="bexio-state"' not in web.get(url).text  # not transferred: nothing to show
    _write(invoice, ItemStatus.DONE, bexio_id=17, bexio_ref="RE-00017")
    InvoiceLink.objects.create(
        organisation=org, invoice=invoice, bexio_id=17, document_nr="RE-00017", bexio_status=8
    )
    page = web.get(url).text
    assert "RE-00017" in page and "Open" in page
    assert reverse("bexio_transfer:invoice_pdf", args=[org.slug, invoice.pk]) in page
    assert reverse("bexio_transfer:invoice", args=[org.slug, invoice.pk]) in page


def test_the_invoice_page_shows_bexios_failure_verbatim_and_what_to_do(web, club):
    org, boss = club
    invoice = _invoice(org, "2", approve_by=boss)
    _write(
        invoice,
        ItemStatus.FAILED,
        last_error_status=422,
        last_error="The field 'bank_account_id' is invalid <b>",
    )
    web.login(username="boss", password=PASSWORD)
    page = web.get(reverse("billing:invoice", args=[org.slug, invoice.pk])).text
    assert "The field &#x27;bank_account_id&#x27; is invalid &lt;b&gt;" in page  # verbatim, escaped
    assert "422" in page
    assert "fix what bexio reports (mapping, contact or the document), then retry" in page
    assert reverse("bexio_transfer:invoice_pdf", args=[org.slug, invoice.pk]) not in page  # not in bexio


def test_the_invoice_page_speaks_german(web, club):
    from aeroledger.tenancy.models import StaffProfile

    org, boss = club
    StaffProfile.objects.filter(user=boss).update(language="de")
    invoice = _invoice(org, "2", approve_by=boss)
    _write(invoice, ItemStatus.DONE, bexio_id=5, bexio_ref="RE-00005")
    InvoiceLink.objects.create(organisation=org, invoice=invoice, bexio_id=5, document_nr="RE-00005")
    web.login(username="boss", password=PASSWORD)
    assert "PDF von bexio" in web.get(reverse("billing:invoice", args=[org.slug, invoice.pk])).text
    assert "Ausgewählte an bexio übertragen" in _list(web, org)
