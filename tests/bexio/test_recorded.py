"""Every recorded bexio answer for the resources this package covers parses into its model."""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from bexio import models as m
from bexio.models import BexioModel
from bexio.models.invoices import _Position

from .conftest import RECORDED, recorded

POSITION = TypeAdapter(m.Position)

# directory -> model for its object bodies; other shapes are handled by name below
BY_DIR = {
    "Accounts": m.Account,
    "BankAccounts": m.BankAccount,
    "CompanyProfiles": m.CompanyProfile,
    "ContactGroups": m.ContactGroup,
    "Contacts": m.Contact,
    "Countries": m.Country,
    "Currencies": m.Currency,
    "Invoices": m.Invoice,
    "Invoices/Payments": m.Payment,
    "Invoices/DefaultPositions": "position",
    "Invoices/SubPositions": "position",
    "ItemPositions": "position",
    "Items": m.Article,
    "Languages": m.Language,
    "PaymentTypes": m.PaymentType,
    "Salutations": m.Salutation,
    "Taxes": m.Tax,
    "Titles": m.Title,
    "Units": m.Unit,
    "Users": m.User,
}
NOT_OURS = {"OAuth", "OpenID"}  # auth is tested in test_auth.py


def _files():
    for path in sorted(RECORDED.rglob("*.json")):
        rel = path.relative_to(RECORDED).with_suffix("").as_posix()
        if rel.split("/")[0] not in NOT_OURS:
            yield rel


def _model_for(rel: str, body: object):
    directory, name = rel.rsplit("/", 1)
    if "invoice" in name and directory.startswith("Invoices/"):
        return m.Invoice  # "create-an-invoice-for-payment" lives beside the payments
    if name == "show-pdf":
        return m.Pdf
    if name.startswith("fetch-exchange-rates"):
        return m.ExchangeRate
    return BY_DIR[directory]


def _check_fields(model_cls, raw: dict, parsed: BexioModel) -> None:
    """A value bexio sent under a declared name must arrive (catches alias/name mistakes)."""
    for name, field in model_cls.model_fields.items():
        if raw.get(name) in (None, "", [], 0, "0") or name == "salutation_id":
            continue
        value = getattr(parsed, name)
        assert value is not None, f"{model_cls.__name__}.{name} lost {raw[name]!r}"
        if isinstance(value, Decimal):
            assert value == Decimal(str(raw[name])), name
        if isinstance(value, datetime):
            assert value.tzinfo is not None, name


def _parse_one(model_cls, raw):
    if model_cls == "position":
        parsed = POSITION.validate_python(raw)
        assert isinstance(parsed, _Position) and not isinstance(parsed, m.PositionOther)
        assert parsed.type == raw["type"]
        _check_fields(type(parsed), raw, parsed)
        return parsed
    parsed = model_cls.model_validate(raw)
    _check_fields(model_cls, raw, parsed)
    return parsed


@pytest.mark.parametrize("rel", list(_files()))
def test_recorded_body_parses(rel):
    status, _headers, body = recorded(rel)
    if isinstance(body, dict) and set(body) == {"success"}:
        assert body["success"] is True
        return
    if isinstance(body, dict) and "error_code" in body:
        assert status >= 400
        return
    if isinstance(body, list) and body and isinstance(body[0], str):
        assert rel.startswith("Currencies/") and "codes" in rel  # GET /3.0/currencies/codes
        return
    model_cls = _model_for(rel, body)
    items = body if isinstance(body, list) else [body]
    for raw in items:
        _parse_one(model_cls, raw)


def test_every_recorded_directory_is_classified():
    dirs = {p.parent.relative_to(RECORDED).as_posix() for p in RECORDED.rglob("*.json")}
    assert dirs - NOT_OURS - set(BY_DIR) == set()


def test_recorded_contact_hides_bexio_quirks():
    _, _, body = recorded("Contacts/fetch-a-contact")
    contact = m.Contact.model_validate(body)
    assert contact.salutation_id is None  # bexio sends 0
    assert contact.contact_group_ids == [1]
    assert contact.street_name == "Alte Jonastrasse" and contact.house_number == "24"
    # "2009-06-09 08:37:17" is Zurich local time (summer: UTC+2)
    assert contact.updated_at.utcoffset().total_seconds() == 7200
    assert contact.updated_at.isoformat() == "2009-06-09T08:37:17+02:00"


def test_recorded_invoice_positions_are_typed():
    _, headers, body = recorded("Invoices/fetch-an-invoice")
    invoice = m.Invoice.model_validate(body)
    assert [type(p).__name__ for p in invoice.positions] == ["PositionText", "PositionCustom"]
    custom = invoice.positions[1]
    assert custom.unit_price == Decimal("100") and custom.tax_value == Decimal("8.10")
    assert invoice.status is m.InvoiceStatus.CANCELLED
    assert invoice.project_id is None and invoice.total == Decimal("100")
    # The answer's Date header is 13:57:06 GMT; updated_at is Zurich local time.
    assert headers["Date"].endswith("13:57:06 GMT")
    assert invoice.updated_at.utcoffset().total_seconds() == 7200


def test_recorded_codes_become_enums():
    _, _, accounts = recorded("Accounts/fetch-a-list-of-accounts")
    by_no = {a.account_no: a for a in map(m.Account.model_validate, accounts)}
    assert by_no["1020"].account_type is m.AccountType.ASSETS
    assert by_no["2030"].account_type is m.AccountType.LIABILITIES
    assert by_no["3200"].account_type is m.AccountType.EARNINGS
    assert by_no["4200"].account_type is m.AccountType.EXPENDITURE
    assert by_no["9200"].account_type is m.AccountType.CLOSING
    assert by_no["3200"].uuid and by_no["3200"].fibu_account_group_id
    _, _, taxes = recorded("Taxes/fetch-a-list-of-taxes")
    types = {m.Tax.model_validate(t).type for t in taxes}
    assert types <= set(m.TaxType) and m.TaxType.SALES_TAX in types
    assert {t for t in types if t.is_sales} >= {m.TaxType.SALES_TAX, m.TaxType.OPTED_SALES_TAX}
    assert not m.TaxType.PRE_TAX_MATERIAL.is_sales
    _, _, tax = recorded("Taxes/fetch-a-tax")
    parsed = m.Tax.model_validate(tax)
    assert parsed.value == Decimal("0") and parsed.account_id == 111
    _, _, bank = recorded("BankAccounts/fetch-a-single-bank-account")
    assert m.BankAccount.model_validate(bank).account_id == 116


def test_recorded_country_iso_name():
    _, _, body = recorded("Countries/fetch-a-country")
    assert m.Country.model_validate(body).iso_3166_alpha2 == "EG"


def test_recorded_pdf_envelope_decodes():
    _, _, body = recorded("Invoices/show-pdf")
    pdf = m.Pdf.model_validate(body)
    assert base64.b64decode(pdf.content).startswith(b"%PDF")


def test_unknown_fields_and_position_types_do_not_break_parsing():
    _, _, body = recorded("Invoices/fetch-an-invoice")
    body = dict(body, brand_new_field={"x": 1})
    body["positions"] = [*body["positions"], {"id": 9, "type": "KbPositionHologram", "glow": True}]
    invoice = m.Invoice.model_validate(body)
    assert invoice.brand_new_field == {"x": 1}
    assert isinstance(invoice.positions[-1], m.PositionOther)


def test_the_recordings_are_there():
    """Without them every parametrised case above would silently vanish."""
    assert len(list(RECORDED.rglob("*.json"))) > 100, f"no recordings under {RECORDED} (set BEXIO_REFERENCE)"
