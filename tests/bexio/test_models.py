"""Write models produce exactly bexio's input names; read models hide bexio's quirks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pydantic
import pytest

from bexio import Criterion
from bexio import models as m


def test_contact_create_uses_bexio_input_names():
    body = m.ContactCreate(
        contact_type_id=2,
        name_1="Muster",
        name_2="Hans",
        user_id=1,
        owner_id=1,
        title_id=2,
        salutation_id=0,
        birthday=date(1980, 5, 17),
        street_name="Flugplatzstrasse",
        house_number="7a",
        postcode="8302",
        city="Kloten",
        country_id=1,
        mail="hans@example.ch",
        language_id=1,
        contact_group_ids=[3, 5],
    ).to_bexio()
    assert body == {
        "contact_type_id": 2,
        "name_1": "Muster",
        "name_2": "Hans",
        "user_id": 1,
        "owner_id": 1,
        "titel_id": 2,
        "salutation_id": None,
        "birthday": "1980-05-17",
        "street_name": "Flugplatzstrasse",
        "house_number": "7a",
        "postcode": "8302",
        "city": "Kloten",
        "country_id": 1,
        "mail": "hans@example.ch",
        "language_id": 1,
        "contact_group_ids": "3,5",
    }


def test_contact_address_is_read_only():
    with pytest.raises(pydantic.ValidationError):
        m.ContactCreate(contact_type_id=1, name_1="x", user_id=1, owner_id=1, address="Weg 1")
    with pytest.raises(pydantic.ValidationError):
        m.ContactUpdate(address="Weg 1")


def test_update_sends_only_what_was_set_including_explicit_null():
    assert m.ContactUpdate(mail=None, city="Bern").to_bexio() == {"mail": None, "city": "Bern"}
    assert m.InvoiceUpdate(title="T", project_id=4).to_bexio() == {"title": "T", "pr_project_id": 4}
    assert "positions" not in m.InvoiceUpdate.model_fields


def test_invoice_create_with_inline_positions():
    body = m.InvoiceCreate(
        user_id=1,
        contact_id=12,
        title="Flugrechnung Mai",
        api_reference="5d8d5d1e-0c36-4a43-9f55-d2a2b3f0e2c7",
        mwst_type=0,
        mwst_is_net=False,
        is_valid_from=date(2026, 6, 1),
        is_valid_to=date(2026, 6, 30),
        bank_account_id=1,
        currency_id=1,
        positions=[
            m.PositionTextCreate(text="HB-KFA, 2026-05-03"),
            m.PositionCustomCreate(
                amount=Decimal("47"), unit_price=Decimal("4.85"), text="Flugzeit", account_id=95, tax_id=14
            ),
            m.PositionArticleCreate(article_id=3, amount="1", unit_price="20.00"),
            m.PositionSubtotalCreate(text="Total"),
            m.PositionDiscountCreate(text="Rabatt", is_percentual=True, value="5"),
            m.PositionPagebreakCreate(),
            m.PositionSubpositionCreate(text="Gruppe"),
        ],
    ).to_bexio()
    assert body["api_reference"] == "5d8d5d1e-0c36-4a43-9f55-d2a2b3f0e2c7"
    assert body["is_valid_from"] == "2026-06-01" and body["mwst_type"] == 0
    assert body["positions"] == [
        {"type": "KbPositionText", "text": "HB-KFA, 2026-05-03"},
        {"type": "KbPositionCustom", "amount": "47", "unit_price": "4.85", "text": "Flugzeit",
         "account_id": 95, "tax_id": 14},
        {"type": "KbPositionArticle", "article_id": 3, "amount": "1", "unit_price": "20.00"},
        {"type": "KbPositionSubtotal", "text": "Total"},
        {"type": "KbPositionDiscount", "text": "Rabatt", "is_percentual": True, "value": "5"},
        {"type": "KbPositionPagebreak", "pagebreak": True},
        {"type": "KbPositionSubposition", "text": "Gruppe"},
    ]  # fmt: skip


def test_decimals_are_strings_rounded_half_up_to_six_places():
    pos = m.PositionCustomCreate(
        amount=Decimal("0.0000005"), unit_price="1.23456749", discount_in_percent=2.5
    )
    body = pos.to_bexio(exclude={"type"})
    assert body == {"amount": "0.000001", "unit_price": "1.234567", "discount_in_percent": "2.5"}
    assert m.PaymentCreate(value=Decimal("1E+2")).to_bexio() == {"value": "100"}
    with pytest.raises(pydantic.ValidationError):
        m.PaymentCreate(value=Decimal("NaN"))


def test_country_and_copy_and_send_names():
    assert m.CountryCreate(name="Test", name_short="TC", iso_3166_alpha2="TC").to_bexio() == {
        "name": "Test",
        "name_short": "TC",
        "iso3166_alpha2": "TC",
    }
    assert m.InvoiceCopy(contact_id=1, title="Kopie").to_bexio() == {"contact_id": 1, "title": "Kopie"}
    send = m.InvoiceSend(recipient_email="a@b.ch", subject="R", message="[Network Link]", attach_pdf=True)
    assert send.to_bexio() == {
        "recipient_email": "a@b.ch",
        "subject": "R",
        "message": "[Network Link]",
        "attach_pdf": True,
    }


def test_payment_create():
    body = m.PaymentCreate(value="100.5", date=date(2026, 6, 18), bank_account_id=1).to_bexio()
    assert body == {"value": "100.5", "date": "2026-06-18", "bank_account_id": 1}


def test_v2_timestamps_are_zurich_time_v3_keep_offset():
    winter = m.Contact.model_validate({"id": 1, "updated_at": "2026-01-15 10:00:00"})
    assert winter.updated_at == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    summer = m.Invoice.model_validate({"id": 1, "updated_at": "2026-06-18 14:55:15"})
    assert summer.updated_at == datetime(2026, 6, 18, 12, 55, 15, tzinfo=UTC)
    rate = m.ExchangeRate.model_validate({"updated_at": "2017-04-28T19:58:58+00:00"})
    assert rate.updated_at == datetime(2017, 4, 28, 19, 58, 58, tzinfo=UTC)


def test_criterion_encodes_values_and_refuses_unknown_criteria():
    since = datetime(2026, 6, 18, 12, 55, 15, tzinfo=UTC)
    assert Criterion("updated_at", ">", since).to_bexio() == {
        "field": "updated_at",
        "value": "2026-06-18 14:55:15",
        "criteria": ">",
    }
    assert Criterion("kb_item_status_id", "in", [7, 8]).to_bexio()["value"] == ["7", "8"]
    assert Criterion("mail", "is_null").to_bexio() == {"field": "mail", "value": "", "criteria": "is_null"}
    assert Criterion("total", "greater_equal", Decimal("10.50")).to_bexio()["value"] == "10.50"
    for word in ("=", "!=", ">", ">=", "<", "<=", "like", "not_like", "equal", "not_equal", "greater_than",
                 "greater_equal", "less_than", "less_equal", "is_null", "not_null"):  # fmt: skip
        Criterion("name_1", word, "x")
    with pytest.raises(ValueError):
        Criterion("name_1", "==", "x")
    with pytest.raises(ValueError):
        Criterion("id", "in", 5)


def test_invoice_status_enum_and_unknown():
    assert m.Invoice(kb_item_status_id=16).status is m.InvoiceStatus.PARTIALLY_PAID
    assert m.Invoice(kb_item_status_id=99).status is None


def test_bank_account_numbers_stay_strings():
    acct = m.BankAccount.model_validate({"id": 1, "owner_zip": 4010, "bc_nr": "081223"})
    assert acct.owner_zip == "4010" and acct.bc_nr == "081223"


def test_invoice_status_helpers_and_lenient_ids():
    from bexio.models import Invoice, InvoiceStatus

    assert InvoiceStatus.of(7).is_draft and InvoiceStatus.of("7") is InvoiceStatus.DRAFT
    assert InvoiceStatus.of(None) is None and InvoiceStatus.of(42) is None
    assert [s for s in InvoiceStatus if s.is_open] == [
        InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.UNPAID
    ]  # fmt: skip
    assert {s for s in InvoiceStatus if s.is_settled} == {InvoiceStatus.PAID, InvoiceStatus.CANCELLED}
    assert Invoice.model_validate({"id": 1, "kb_item_status_id": 16}).status is InvoiceStatus.PARTIALLY_PAID
    unknown = Invoice.model_validate({"id": 1, "kb_item_status_id": 42})
    assert unknown.status is None and unknown.kb_item_status_id == 42  # kept, not an error


def test_position_types_name_their_endpoint_and_write_model():
    from bexio.models import POSITION_CREATE_MODELS, PositionCustomCreate, PositionType

    assert PositionType.CUSTOM == "KbPositionCustom" and PositionType.CUSTOM.kind == "custom"
    assert PositionType.of_kind("subposition") is PositionType.SUBPOSITION
    assert {t for t in PositionType if t.changes_total} == {
        PositionType.CUSTOM, PositionType.ARTICLE, PositionType.DISCOUNT
    }  # fmt: skip
    assert POSITION_CREATE_MODELS[PositionType.CUSTOM] is PositionCustomCreate
    assert set(POSITION_CREATE_MODELS) == set(PositionType)
    assert all(model.kind == t.kind for t, model in POSITION_CREATE_MODELS.items())
    with pytest.raises(ValueError):
        PositionType.of_kind("hologram")


def test_enums_are_what_bexio_sends():
    from bexio.models import ContactCreate, ContactType, InvoiceCreate, VatMode

    body = ContactCreate(
        contact_type_id=ContactType.PERSON, name_1="Muster", user_id=1, owner_id=1
    ).to_bexio()
    assert body["contact_type_id"] == 2
    assert InvoiceCreate(user_id=1, mwst_type=VatMode.EXEMPT).to_bexio() == {"user_id": 1, "mwst_type": 2}
    with pytest.raises(ValueError):
        InvoiceCreate(user_id=1, mwst_type=3)
