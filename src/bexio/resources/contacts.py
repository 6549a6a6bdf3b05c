"""Contacts and the lists a contact refers to: groups, salutations, titles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bexio import models as m
from bexio.resources.base import CRUDMixin, success


class Contacts(CRUDMixin):
    """`DELETE` archives a contact; `restore` brings it back. `show_archived=True` on list/get.
    Contacts have no `api_reference`: match them by your stored id, `nr` or `mail`."""

    path = "/2.0/contact"
    model = m.Contact
    create_model = m.ContactCreate
    update_model = m.ContactUpdate
    search_fields = frozenset(
        "id name_1 name_2 nr address mail mail_second postcode city country_id contact_group_ids "
        "contact_type_id updated_at user_id phone_fixed phone_mobile fax".split()
    )

    def restore(self, id: int) -> bool:
        return success(self._client.request("PATCH", self._url(id, "restore")))

    def bulk_create(self, contacts: Sequence[m.ContactCreate | Mapping[str, Any]]) -> list[m.Contact]:
        body = [self._body(c, m.ContactCreate) for c in contacts]
        return self._parse_many(self._client.request("POST", self._url("_bulk_create"), json=body))


class ContactGroups(CRUDMixin):
    path = "/2.0/contact_group"
    model = m.ContactGroup
    create_model = update_model = m.ContactGroupCreate
    search_fields = frozenset({"name"})


class Salutations(CRUDMixin):
    """Salutations such as "Herr" and "Frau" (`Contact.salutation_id`)."""

    path = "/2.0/salutation"
    model = m.Salutation
    create_model = update_model = m.SalutationCreate
    search_fields = frozenset({"name"})


class Titles(CRUDMixin):
    """Titles such as "Dr." (`Contact.title_id`, sent as `titel_id`)."""

    path = "/2.0/title"
    model = m.Title
    create_model = update_model = m.TitleCreate
    search_fields = frozenset({"name"})
