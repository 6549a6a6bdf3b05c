"""mapping_for / validate_invoice: transfers are blocked, with the reason, while anything is missing."""

import pytest

from ..mapping import mapping_for
from ..master import MasterData
from ..models import BexioRecord, ChargeMapping, InvoiceSettings, Kind
from ..refresh import refresh_master_data
from ..validation import validate_invoice

pytestmark = pytest.mark.django_db


def article(org, code):
    return next(r for r in MasterData(org).all(Kind.ARTICLE) if r.data["intern_code"] == code)


def test_nothing_imported_blocks_and_explains(invoice):
    reasons = validate_invoice(invoice)
    assert any("not been imported" in r for r in reasons)
    assert any("bank account" in r for r in reasons)
    assert any("Aircraft time (HB-KFA) is not mapped" in r for r in reasons)
    assert any("Landing fee (LSZR) is not mapped" in r for r in reasons)


def test_complete_mapping_passes_and_gives_targets(org, bx, invoice):
    refresh_master_data(org, bx)
    master = MasterData(org)
    InvoiceSettings.objects.create(
        organisation=org, user=master.all(Kind.USER)[0], bank_account=master.bank_accounts()[0]
    )
    ChargeMapping.objects.create(
        organisation=org, charge_type="aircraft_time", article=article(org, "FLZ-HBCQA")
    )
    assert validate_invoice(invoice) == ["Landing fee (LSZR) is not mapped to a bexio article or account."]
    account = next(r for r in master.all(Kind.ACCOUNT) if r.data["account_no"] == "3200")
    tax = master.sales_taxes()[0]
    ChargeMapping.objects.create(organisation=org, charge_type="landing_fee", account=account, tax=tax)
    assert validate_invoice(invoice) == []

    mapping = mapping_for(org)
    target = mapping.target_for("aircraft_time", invoice.positions.get(pos=1).aircraft_id)
    assert target.article_id == article(org, "FLZ-HBCQA").bexio_id and target.tax_id and target.unit_id
    assert target.article_id is not None
    custom = mapping.target_for("landing_fee", aerodrome_id=invoice.positions.get(pos=2).aerodrome_id)
    assert (custom.article_id, custom.account_id, custom.tax_id) == (None, account.bexio_id, tax.bexio_id)
    assert mapping.bank_account_id and mapping.user_id and mapping.currency_id
    assert mapping.language_id("fr") and mapping.payment_terms_days == 30 and not mapping.issue_automatically


def test_inactive_tax_address_and_currency_are_reported(org, bx, invoice):
    refresh_master_data(org, bx)
    master = MasterData(org)
    InvoiceSettings.objects.create(
        organisation=org, user=master.all(Kind.USER)[0], bank_account=master.bank_accounts()[0]
    )
    tax = master.sales_taxes()[0]
    account = next(r for r in master.all(Kind.ACCOUNT) if r.data["account_no"] == "3200")
    ChargeMapping.objects.create(organisation=org, charge_type="aircraft_time", account=account, tax=tax)
    ChargeMapping.objects.create(organisation=org, charge_type="landing_fee", account=account, tax=tax)
    assert validate_invoice(invoice) == []
    BexioRecord.objects.filter(pk=tax.pk).update(is_active=False)  # as a refresh does when bexio drops it
    m = invoice.member
    m.street, m.postcode = "", ""
    m.save()
    org.currency = "XYZ"
    org.save()
    invoice.refresh_from_db()
    reasons = validate_invoice(invoice)
    assert any("is inactive in bexio" in r for r in reasons)
    assert any("missing address fields bexio needs: street, postcode" in r for r in reasons)
    assert any("currency XYZ does not exist in bexio" in r for r in reasons)
