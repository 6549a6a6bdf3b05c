"""Linking a member to an existing bexio contact by hand: only candidates (same number, e-mail or
name), the changes shown field by field, confirmed; never a contact outside the group unasked."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from bexio import Criterion, errors
from bexio.models import ContactType

from .contacts import (
    ContactSyncError,
    candidate_of,
    contact_fields,
    ensure_contact,
    linked_elsewhere,
    normalised,
    save_link,
)
from .mapping import Mapping, mapping_for
from .models import ContactLink, Kind

log = logging.getLogger(__name__)


FIELD_LABELS = {
    "contact_type_id": _lazy("Kind"), "nr": _lazy("Number (nr)"), "name_1": _lazy("Name"),
    "name_2": _lazy("First name"), "street_name": _lazy("Street"), "house_number": _lazy("House number"),
    "address_addition": _lazy("Address addition"), "postcode": _lazy("Postcode"), "city": _lazy("City"),
    "country_id": _lazy("Country"), "language_id": _lazy("Language"), "mail": _lazy("E-mail"),
    "phone_fixed": _lazy("Phone"), "phone_mobile": _lazy("Mobile"), "user_id": _lazy("bexio user"),
    "owner_id": _lazy("Owner"), "salutation_id": _lazy("Salutation"), "title_id": _lazy("Title"),
}  # fmt: skip
_RECORD_KINDS = {
    "country_id": Kind.COUNTRY,
    "language_id": Kind.LANGUAGE,
    "user_id": Kind.USER,
    "owner_id": Kind.USER,
    "salutation_id": Kind.SALUTATION,
    "title_id": Kind.TITLE,
}


@dataclass
class LinkCandidate:
    """A bexio contact that may be the member: same number, same e-mail or same name."""

    id: int
    nr: str
    name: str
    mail: str
    city: str
    matched_by: list  # "number", "e-mail", "name" (translated)
    in_group: bool


@dataclass
class LinkPreview:
    """What linking `member` to bexio contact `contact` would overwrite there."""

    candidate: LinkCandidate
    changes: list  # (label, in bexio now, after linking)
    in_group: bool
    group_name: str

    @property
    def needs_group_confirmation(self) -> bool:
        return not self.in_group


def link_candidates(client, member, mapping: Mapping | None = None) -> list[LinkCandidate]:
    """The bexio contacts a person may link `member` to: same `nr`, same e-mail or same name (name_1,
    and name_2 for persons), not linked to another member. Three searches through `client`."""
    mapping = mapping or mapping_for(member.organisation)
    wanted = contact_fields(member, mapping)
    taken = linked_elsewhere(member.organisation, member)
    group_id = mapping.contact_group_id
    found: dict[int, tuple] = {}

    def add(contacts, reason, keep=lambda c: True):
        for c in contacts:
            if c.id in taken or not keep(c):
                continue
            contact, reasons = found.setdefault(c.id, (c, []))
            if reason not in reasons:
                reasons.append(reason)

    if member.number:
        add(client.contacts.search([Criterion.eq("nr", member.number)]), _("number"),
            lambda c: normalised(c.nr) == normalised(member.number))  # fmt: skip
    if member.email:
        mail = member.email.strip().lower()
        add(client.contacts.search([Criterion.eq("mail", member.email)]), _("e-mail"),
            lambda c: (c.mail or "").strip().lower() == mail)  # fmt: skip
    name_1, name_2 = wanted["name_1"], wanted["name_2"]
    if name_1:
        add(
            client.contacts.search([Criterion("name_1", "like", name_1)]),
            _("name"),
            lambda c: (
                (c.name_1 or "").strip().casefold() == name_1.strip().casefold()
                and (not name_2 or (c.name_2 or "").strip().casefold() == name_2.strip().casefold())
            ),
        )
    candidates = []
    for contact, reasons in found.values():
        info = candidate_of(contact)
        in_group = group_id is not None and group_id in (contact.contact_group_ids or [])
        candidates.append(
            LinkCandidate(
                id=contact.id,
                nr=info["nr"] or "",
                name=info["name"],
                mail=info["mail"] or "",
                city=info["city"],
                matched_by=reasons,
                in_group=in_group,
            )
        )
    return sorted(candidates, key=lambda c: (-len(c.matched_by), c.id))


def _shown(mapping: Mapping, name: str, value) -> str:
    """A contact field as a person reads it (ids of countries, languages, users by their name)."""
    if value in (None, ""):
        return ""
    if name == "contact_type_id":
        return str(_("Company") if value == ContactType.COMPANY else _("Person"))
    kind = _RECORD_KINDS.get(name)
    if kind is not None:
        record = mapping.master.get(kind, value)
        return record.name if record is not None and record.name else f"#{value}"
    return str(value)


def link_preview(client, member, bexio_id: int, mapping: Mapping | None = None) -> LinkPreview:
    """What linking would change in bexio contact `bexio_id`; ContactSyncError when it is no candidate."""
    mapping = mapping or mapping_for(member.organisation)
    candidate = next((c for c in link_candidates(client, member, mapping) if c.id == bexio_id), None)
    if candidate is None:
        raise ContactSyncError(
            _("bexio contact %(id)s is not offered for %(member)s (same number, e-mail or name, not "
              "linked to another member): choose one of the offered contacts.")
            % {"id": bexio_id, "member": member.display_name}
        )  # fmt: skip
    contact = client.contacts.get(bexio_id)
    changes = []
    for name, new in contact_fields(member, mapping).items():
        current = getattr(contact, name, None)
        if normalised(current) != normalised(new):
            changes.append(
                (FIELD_LABELS.get(name, name), _shown(mapping, name, current), _shown(mapping, name, new))
            )
    group = mapping.contact_group
    return LinkPreview(
        candidate=candidate,
        changes=changes,
        in_group=candidate.in_group,
        group_name=group.name if group is not None else (mapping.settings.contact_group_name or ""),
    )


def link_confirmed(client, member, bexio_id: int, *, outside_group_ok: bool = False) -> ContactLink:
    """Link `member` to the candidate `bexio_id` a person reviewed and confirmed, and write the
    member's data there. A contact outside the organisation's contact group is only overwritten with
    `outside_group_ok` (the person was told and ticked it)."""
    mapping = mapping_for(member.organisation)
    preview = link_preview(client, member, bexio_id, mapping)
    if preview.needs_group_confirmation and not outside_group_ok:
        raise ContactSyncError(
            _("bexio contact %(id)s is not in the contact group %(group)s: confirm it may be overwritten.")
            % {"id": bexio_id, "group": preview.group_name or "-"}
        )
    link = link_by_hand(member, bexio_id, client)
    ensure_contact(client, member, mapping=mapping)
    return link


def link_by_hand(member, bexio_id: int, client=None) -> ContactLink:
    """Store the link to `bexio_id` (the next sync overwrites its owned fields). The pages call
    `link_confirmed`, which lets a person choose only a candidate and see the changes first."""
    org = member.organisation
    if bexio_id in linked_elsewhere(org, member):
        raise ContactSyncError(_("This bexio contact is already linked to another member."))
    if client is not None:
        try:
            client.contacts.get(bexio_id)
        except errors.NotFoundError:
            raise ContactSyncError(_("There is no bexio contact with this id.")) from None
    # An empty hash makes the next sync send the owned fields once.
    return save_link(member, bexio_id=bexio_id, matched_by="hand", synced_hash="")


def unlink(member) -> None:
    ContactLink.objects.filter(member=member).delete()
