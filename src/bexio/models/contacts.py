"""Contacts."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from bexio.models.base import BexioInput, BexioModel
from bexio.models.types import IdList, LenientDate, OptionalRef, ZurichDateTime

COMPANY = 1
PERSON = 2


class _ContactDetails(BaseModel):
    """Fields with the same name and meaning when read and written."""

    name_2: str | None = None
    street_name: str | None = None
    house_number: str | None = None
    address_addition: str | None = None
    postcode: str | None = None
    city: str | None = None
    country_id: int | None = None
    mail: str | None = None
    mail_second: str | None = None
    phone_fixed: str | None = None
    phone_fixed_second: str | None = None
    phone_mobile: str | None = None
    fax: str | None = None
    url: str | None = None
    skype_name: str | None = None
    remarks: str | None = None
    language_id: int | None = None
    contact_group_ids: IdList | None = None
    contact_branch_ids: IdList | None = None


class Contact(BexioModel, _ContactDetails):
    nr: str | None = None
    contact_type_id: int | None = None
    name_1: str | None = None
    salutation_id: OptionalRef = None
    salutation_form: int | str | None = None
    title_id: OptionalRef = None
    birthday: LenientDate | None = None
    address: str | None = None  # deprecated and read-only: built by bexio from the street fields
    is_lead: bool | None = None
    user_id: int | None = None
    owner_id: int | None = None
    profile_image: str | None = Field(default=None, repr=False)
    updated_at: ZurichDateTime | None = None


class _ContactFields(BexioInput, _ContactDetails):
    nr: str | None = None
    salutation_id: OptionalRef = None
    salutation_form: int | None = None
    title_id: OptionalRef = Field(default=None, serialization_alias="titel_id")
    birthday: date | None = None


class ContactCreate(_ContactFields):
    """`POST /2.0/contact`. contact_type_id 1 = company, 2 = person (name_1 = last name)."""

    contact_type_id: int
    name_1: str
    user_id: int
    owner_id: int


class ContactUpdate(_ContactFields):
    """`POST /2.0/contact/{id}`: only the fields you set are sent."""

    contact_type_id: int | None = None
    name_1: str | None = None
    user_id: int | None = None
    owner_id: int | None = None
