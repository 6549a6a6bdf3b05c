"""Contacts and the lists a contact refers to: groups, salutations, titles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bexio.models import (
    Contact,
    ContactCreate,
    ContactGroup,
    ContactGroupCreate,
    ContactUpdate,
    Salutation,
    SalutationCreate,
    Title,
    TitleCreate,
)
from bexio.resources.base import (
    CreateMixin,
    DeleteMixin,
    GetMixin,
    ListMixin,
    Resource,
    SearchMixin,
    UpdateMixin,
    success,
)


class _Crud(ListMixin, SearchMixin, GetMixin, CreateMixin, UpdateMixin, DeleteMixin, Resource):
    """Every 2.0 operation: list, search, show, create, edit (POST), delete."""


class Contacts(_Crud):
    """`DELETE` archives a contact; `restore` brings it back. `show_archived=True` on list/get."""

    path = "/2.0/contact"
    model = Contact
    create_model = ContactCreate
    update_model = ContactUpdate

    def restore(self, id: int) -> bool:
        return success(self._client.request("PATCH", self._url(id, "restore")))

    def bulk_create(self, contacts: Sequence[ContactCreate | Mapping[str, Any]]) -> list[Contact]:
        body = [self._body(c, ContactCreate) for c in contacts]
        return self._parse_many(self._client.request("POST", self._url("_bulk_create"), json=body))


class ContactGroups(_Crud):
    path = "/2.0/contact_group"
    model = ContactGroup
    create_model = update_model = ContactGroupCreate


class Salutations(_Crud):
    path = "/2.0/salutation"
    model = Salutation
    create_model = update_model = SalutationCreate


class Titles(_Crud):
    path = "/2.0/title"
    model = Title
    create_model = update_model = TitleCreate
