"""Master data: contact groups, salutations, titles, countries, languages, units, payment types,
users, company profile, articles, bank accounts, taxes, accounts, account groups, currencies."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AliasChoices, Field

from bexio.models.base import BexioInput, BexioModel
from bexio.models.enums import AccountType, TaxType, lenient
from bexio.models.types import IsoDateTime


class ContactGroup(BexioModel):
    name: str | None = None


class ContactGroupCreate(BexioInput):
    name: str


class Salutation(BexioModel):
    name: str | None = None


class SalutationCreate(BexioInput):
    name: str


class Title(BexioModel):
    name: str | None = None


class TitleCreate(BexioInput):
    name: str


class Country(BexioModel):
    name: str | None = None
    name_short: str | None = None
    # Read as iso_3166_alpha2, written as iso3166_alpha2: accept both spellings.
    iso_3166_alpha2: str | None = Field(
        default=None, validation_alias=AliasChoices("iso_3166_alpha2", "iso3166_alpha2")
    )


class CountryCreate(BexioInput):
    name: str
    name_short: str
    iso_3166_alpha2: str = Field(serialization_alias="iso3166_alpha2")


class Language(BexioModel):
    name: str | None = None
    decimal_point: str | None = None
    thousands_separator: str | None = None
    date_format_id: int | None = None
    date_format: str | None = None
    iso_639_1: str | None = None


class Unit(BexioModel):
    name: str | None = None


class PaymentType(BexioModel):
    name: str | None = None


class User(BexioModel):
    salutation_type: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    is_superadmin: bool | None = None
    is_accountant: bool | None = None


class CompanyProfile(BexioModel):
    name: str | None = None
    address: str | None = None
    address_nr: str | None = None
    postcode: str | None = None
    city: str | None = None
    country_id: int | None = None
    country_name: str | None = None
    legal_form: str | None = None
    mail: str | None = None
    phone_fixed: str | None = None
    url: str | None = None
    ust_id_nr: str | None = None
    mwst_nr: str | None = None
    trade_register_nr: str | None = None
    has_own_logo: bool | None = None
    logo_base64: str | None = Field(default=None, repr=False)


class Article(BexioModel):
    user_id: int | None = None
    article_type_id: int | None = None
    contact_id: int | None = None
    intern_code: str | None = None
    intern_name: str | None = None
    intern_description: str | None = None
    purchase_price: Decimal | None = None
    sale_price: Decimal | None = None
    purchase_total: Decimal | None = None
    sale_total: Decimal | None = None
    currency_id: int | None = None
    tax_income_id: int | None = None
    tax_id: int | None = None
    tax_expense_id: int | None = None
    unit_id: int | None = None
    is_stock: bool | None = None
    stock_nr: Decimal | None = None
    stock_available_nr: Decimal | None = None
    remarks: str | None = None
    article_group_id: int | None = None
    account_id: int | None = None
    expense_account_id: int | None = None


class BankAccount(BexioModel):
    uuid: str | None = None
    name: str | None = None
    owner: str | None = None
    owner_address: str | None = None
    owner_house_number: str | None = None
    owner_zip: str | None = None
    owner_city: str | None = None
    owner_country_code: str | None = None
    bc_nr: str | None = None
    bank_name: str | None = None
    bank_account_nr: str | None = None
    iban_nr: str | None = None
    currency_id: int | None = None
    account_id: int | None = None  # the ledger account (an asset account) of this bank account
    remarks: str | None = None
    is_esr: bool | None = None
    invoice_mode: str | None = None
    qr_invoice_iban: str | None = None
    type: str | None = None
    bank_nr: str | None = None


class Tax(BexioModel):
    uuid: str | None = None
    name: str | None = None
    code: str | None = None
    digit: str | None = None
    type: lenient(TaxType, str | None) = None  # a TaxType, or bexio's string if new to us
    account_id: int | None = None  # the ledger account the tax is booked to
    tax_settlement_type: str | None = None
    value: Decimal | None = None
    net_tax_value: Decimal | None = None
    start_year: int | None = None
    end_year: int | None = None
    start_month: int | None = None
    end_month: int | None = None
    is_active: bool | None = None
    display_name: str | None = None


class Account(BexioModel):
    uuid: str | None = None
    account_no: str | None = None
    name: str | None = None
    account_type: lenient(AccountType, int | None) = None  # an AccountType (or an unknown int)
    tax_id: int | None = None
    fibu_account_group_id: int | None = Field(
        default=None, validation_alias=AliasChoices("fibu_account_group_id", "account_group_id")
    )
    is_active: bool | None = None
    is_locked: bool | None = None


class AccountGroup(BexioModel):
    account_no: str | None = None
    name: str | None = None
    parent_fibu_account_group_id: int | None = None
    is_active: bool | None = None
    is_locked: bool | None = None


class Currency(BexioModel):
    name: str | None = None
    round_factor: Decimal | None = None


class ExchangeRate(BexioModel):
    factor_nr: Decimal | None = None
    exchange_currency: Currency | None = None
    ratio: Decimal | None = None
    source: str | None = None
    exchange_rate_date: str | None = None
    updated_at: IsoDateTime | None = None
