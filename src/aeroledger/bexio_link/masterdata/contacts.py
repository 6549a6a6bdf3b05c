"""Members -> bexio contacts. Aeroledger is master of the fields listed in `contact_fields`.

Matching, never duplicating: the stored contact id, then the member number in bexio's `nr`, then
the e-mail address (exactly one match; several are left for a person to link by hand). An edit
sends only the fields Aeroledger owns; contact groups set in bexio are kept. A hash of the owned
fields as last sent tells whether a member changed since, so an unchanged member costs no request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.bexio_link.connection.clients import client_for
from aeroledger.members.models import MemberKind
from bexio import Criterion, errors
from bexio.models import ContactCreate, ContactGroupCreate, ContactType, ContactUpdate

from .mapping import Mapping, mapping_for
from .models import BexioRecord, ContactLink, InvoiceSettings, Kind, LinkState
from .validation import known_link

log = logging.getLogger(__name__)

BULK_CHUNK = 100  # contacts per POST /2.0/contact/_bulk_create


# Transfer threads may reach the same unlinked member (or the not-yet-created contact group) at
# once; both would find no match and both create. One lock per key serialises that in the process;
# across processes the transfer's organisation lease already lets one worker at a time sync an org.
_locks: defaultdict[tuple, threading.Lock] = defaultdict(threading.Lock)
_locks_guard = threading.Lock()


def _lock_for(*key) -> threading.Lock:
    with _locks_guard:
        return _locks[key]


class ContactSyncError(Exception):
    """The contact cannot be synchronised; the message says why, for people."""


class ContactConflict(ContactSyncError):
    """Several bexio contacts match the member: a person must link one by hand."""

    def __init__(self, member, candidates: list[dict]):
        self.member = member
        self.candidates = candidates
        super().__init__(
            _("Several bexio contacts match member %(name)s: link one by hand (Bexio > Contacts).")
            % {"name": f"{member.number} {member.display_name}"}
        )


# --- The fields Aeroledger owns ------------------------------------------------------------------


def contact_fields(member, mapping: Mapping) -> dict:
    """The bexio contact as Aeroledger wants it (bexio's input names), without contact groups.

    The structured address QR-bills need: street_name and house_number apart, postcode, city,
    country. `salutation_id`/`title_id` only when bexio knows the member's (see below).
    """

    company = member.kind == MemberKind.COMPANY
    street = (member.street or "").strip()
    fields = {
        "contact_type_id": int(ContactType.COMPANY if company else ContactType.PERSON),
        "nr": member.number,
        "name_1": (member.company_name if company else member.last_name)
        or member.display_name
        or member.number,
        "name_2": None if company else (member.first_name or None),
        # bexio requires street_name when house number or addition are given.
        "street_name": street or None,
        "house_number": (member.house_number or None) if street else None,
        "address_addition": (member.address_addition or None) if street else None,
        "postcode": member.postcode or None,
        "city": member.city or None,
        "country_id": mapping.country_id(member.country),
        "language_id": mapping.language_id(member.language),
        "mail": member.email or None,
        "phone_fixed": member.phone or None,
        "phone_mobile": member.mobile or None,
        "user_id": mapping.user_id,
        "owner_id": mapping.owner_id,
    }
    # Salutation and title ("Sehr geehrter Herr Dr. Keller"): sent when bexio knows the member's;
    # otherwise left out, so the contact keeps what it has in bexio (`contact_warnings` names them).
    for name, value in (
        ("salutation_id", mapping.salutation_id(member)),
        ("title_id", mapping.title_id(member)),
    ):
        if value is not None:
            fields[name] = value
    return fields


OWNED_FIELDS = (
    "contact_type_id", "nr", "name_1", "name_2", "salutation_id", "title_id", "street_name",
    "house_number", "address_addition", "postcode", "city", "country_id", "language_id", "mail",
    "phone_fixed", "phone_mobile", "user_id", "owner_id",
)  # fmt: skip


def fields_hash(fields: dict, group_id: int | None) -> str:
    payload = json.dumps({**fields, "contact_group": group_id}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def normalised(value):
    if value in ("", None):
        return None
    return str(value).strip()


def differs(contact, fields: dict, group_id: int | None) -> bool:
    """Whether the bexio contact (typed `Contact`) differs from what Aeroledger owns."""
    for name, wanted in fields.items():
        if normalised(getattr(contact, name, None)) != normalised(wanted):
            return True
    return group_id is not None and group_id not in (contact.contact_group_ids or [])


def merged_groups(contact, group_id: int | None) -> list[int]:
    groups = list(contact.contact_group_ids or []) if contact is not None else []
    if group_id is not None and group_id not in groups:
        groups.append(group_id)
    return groups


def candidate_of(contact) -> dict:
    return {
        "id": contact.id,
        "nr": contact.nr,
        "name": " ".join(p for p in (contact.name_2, contact.name_1) if p),
        "mail": contact.mail,
        "city": " ".join(p for p in (contact.postcode, contact.city) if p),
    }


# --- Preconditions -------------------------------------------------------------------------------


def check_ready(mapping: Mapping) -> None:
    user = mapping.user
    if user is None or not user.is_active:
        raise ContactSyncError(_("Choose the bexio user who owns contacts on the mapping page first."))


def ensure_contact_group(client, mapping: Mapping, *, dry_run: bool = False, report=None) -> int | None:
    """The id of the contact group members get; created in bexio when it does not exist yet."""
    if mapping.contact_group_id:
        return mapping.contact_group_id
    with _lock_for("group", mapping.org.pk):
        if InvoiceSettings.objects.filter(organisation=mapping.org, contact_group__isnull=False).exists():
            mapping.settings = InvoiceSettings.objects.get(organisation=mapping.org)
            mapping.master._by_kind = None
            if mapping.contact_group_id:
                return mapping.contact_group_id
        return _ensure_contact_group(client, mapping, dry_run=dry_run, report=report)


def _ensure_contact_group(client, mapping: Mapping, *, dry_run: bool, report) -> int | None:
    name = (mapping.settings.contact_group_name or "Aeroledger").strip()
    found = [g for g in client.contact_groups.search([Criterion.eq("name", name)]) if g.name == name]
    if found:
        group = found[0]
    elif dry_run:
        return None
    else:
        group = client.contact_groups.create(ContactGroupCreate(name=name))
        if report is not None:
            report.group_created = True
    record, _created = BexioRecord.objects.update_or_create(
        organisation=mapping.org,
        kind=Kind.CONTACT_GROUP,
        bexio_id=group.id,
        defaults={
            "name": group.name or name,
            "data": {"id": group.id, "name": group.name or name},
            "is_active": True,
        },
    )
    if not dry_run:
        settings_row, _created = InvoiceSettings.objects.get_or_create(organisation=mapping.org)
        settings_row.contact_group = record
        settings_row.save(update_fields=["contact_group", "updated_at"])
        mapping.settings = settings_row
        mapping.master._by_kind = None
    return group.id


# --- One member ----------------------------------------------------------------------------------


def save_link(member, *, bexio_id, matched_by, synced_hash, link=None) -> ContactLink:
    link = (
        link
        or ContactLink.objects.filter(member=member).first()
        or ContactLink(organisation_id=member.organisation_id, member=member)
    )
    link.state = LinkState.LINKED
    link.bexio_id = bexio_id
    if matched_by:
        link.matched_by = matched_by
    link.synced_hash = synced_hash
    link.synced_at = timezone.now()
    link.candidates = []
    link.error = ""
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            link.save()
    except IntegrityError:
        # Linked to another member at this very moment (the unique constraint decides the race).
        holder = ContactLink.objects.filter(organisation_id=member.organisation_id, bexio_id=bexio_id).first()
        if holder is not None and holder.member_id != member.pk:
            raise ContactSyncError(_("This bexio contact is already linked to another member.")) from None
        if holder is not None:  # the same link, saved by another process at this moment
            return holder
        raise
    return link


def save_conflict(member, candidates: list[dict]) -> ContactLink:
    link = ContactLink.objects.filter(member=member).first() or ContactLink(
        organisation_id=member.organisation_id, member=member
    )
    link.state, link.bexio_id, link.synced_hash, link.candidates = LinkState.CONFLICT, None, "", candidates
    link.save()
    return link


def linked_elsewhere(org, member) -> set[int]:
    return set(
        ContactLink.objects.filter(organisation=org, bexio_id__isnull=False)
        .exclude(member=member)
        .values_list("bexio_id", flat=True)
    )


def ensure_contact(client, member, *, mapping: Mapping | None = None) -> int:
    """Create or update `member`'s bexio contact and return its id.

    Costs no request when the member is linked and unchanged since the last sync. Raises
    `ContactConflict` when several bexio contacts match and nobody has chosen one yet, and
    `ContactSyncError` when the mapping is not ready (no owner user).
    """
    org = member.organisation
    mapping = mapping or mapping_for(org)
    check_ready(mapping)
    known = known_link(member)  # loaded with the member (select_related "bexio_link"), or False
    if known and known.is_linked and client is not None and mapping.contact_group_id:
        # Linked and unchanged (the common case of a transfer): no request, no query.
        fields = contact_fields(member, mapping)
        if known.synced_hash == fields_hash(fields, mapping.contact_group_id):
            return known.bexio_id
    client = client if client is not None else client_for(org)
    group_id = ensure_contact_group(client, mapping)
    with _lock_for("member", member.pk):
        # Read again under the lock: another thread may have just linked (or created) the contact.
        return _ensure_contact(client, member, mapping, group_id)


def _ensure_contact(client, member, mapping: Mapping, group_id: int | None) -> int:
    org = member.organisation
    fields = contact_fields(member, mapping)
    wanted_hash = fields_hash(fields, group_id)
    link = ContactLink.objects.filter(member=member).first()

    if link is not None and link.is_linked:
        if link.synced_hash == wanted_hash:
            return link.bexio_id
        try:
            current = client.contacts.get(link.bexio_id)
        except errors.NotFoundError:
            log.warning("bexio contact %s of member %s is gone; matching again", link.bexio_id, member.pk)
            link.bexio_id, link.synced_hash = None, ""
            link.save(update_fields=["bexio_id", "synced_hash", "updated_at"])
        else:
            if differs(current, fields, group_id):
                edit_contact(client, link.bexio_id, fields, current, group_id)
            save_link(member, bexio_id=link.bexio_id, matched_by="", synced_hash=wanted_hash, link=link)
            return link.bexio_id
    elif link is not None and link.state == LinkState.CONFLICT:
        raise ContactConflict(member, link.candidates)

    taken = linked_elsewhere(org, member)
    matches, how = [], ""
    if member.number:
        matches = [
            c for c in client.contacts.search([Criterion.eq("nr", member.number)]) if c.id not in taken
        ]
        how = "nr"
    if not matches and member.email:
        matches = [
            c
            for c in client.contacts.search([Criterion.eq("mail", member.email)])
            if c.id not in taken and (c.mail or "").strip().lower() == member.email.strip().lower()
        ]
        how = "mail"
    if len(matches) > 1:
        candidates = [candidate_of(c) for c in matches]
        save_conflict(member, candidates)
        raise ContactConflict(member, candidates)
    if len(matches) == 1:
        contact = matches[0]
        if differs(contact, fields, group_id):
            edit_contact(client, contact.id, fields, contact, group_id)
        save_link(member, bexio_id=contact.id, matched_by=how, synced_hash=wanted_hash, link=link)
        return contact.id
    created = client.contacts.create(ContactCreate(**fields, contact_group_ids=merged_groups(None, group_id)))
    save_link(member, bexio_id=created.id, matched_by="created", synced_hash=wanted_hash, link=link)
    return created.id


def edit_contact(client, contact_id: int, fields: dict, current, group_id: int | None) -> None:
    """Overwrite only the owned fields (and add our group, keeping the others)."""
    client.contacts.update(
        contact_id, ContactUpdate(**fields, contact_group_ids=merged_groups(current, group_id))
    )
