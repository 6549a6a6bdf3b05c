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
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

from aeroledger.bexio_link.connection.clients import client_for
from aeroledger.members.models import Member, MemberKind, salutation_word
from bexio import Criterion, errors
from bexio.models import ContactCreate, ContactGroupCreate, ContactUpdate

from .mapping import Mapping, mapping_for
from .master import name_key
from .models import BexioRecord, ContactLink, InvoiceSettings, Kind, LinkState, MasterDataRefresh
from .validation import known_link

log = logging.getLogger(__name__)

BULK_CHUNK = 100  # contacts per POST /2.0/contact/_bulk_create
PERSON, COMPANY = 2, 1  # bexio contact_type_id


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
        "contact_type_id": COMPANY if company else PERSON,
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


def _norm(value):
    if value in ("", None):
        return None
    return str(value).strip()


def differs(contact, fields: dict, group_id: int | None) -> bool:
    """Whether the bexio contact (typed `Contact`) differs from what Aeroledger owns."""
    for name, wanted in fields.items():
        if _norm(getattr(contact, name, None)) != _norm(wanted):
            return True
    return group_id is not None and group_id not in (contact.contact_group_ids or [])


def _merged_groups(contact, group_id: int | None) -> list[int]:
    groups = list(contact.contact_group_ids or []) if contact is not None else []
    if group_id is not None and group_id not in groups:
        groups.append(group_id)
    return groups


def _candidate(contact) -> dict:
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


def _save_link(member, *, bexio_id, matched_by, synced_hash, link=None) -> ContactLink:
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


def _save_conflict(member, candidates: list[dict]) -> ContactLink:
    link = ContactLink.objects.filter(member=member).first() or ContactLink(
        organisation_id=member.organisation_id, member=member
    )
    link.state, link.bexio_id, link.synced_hash, link.candidates = LinkState.CONFLICT, None, "", candidates
    link.save()
    return link


def _linked_elsewhere(org, member) -> set[int]:
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
                _edit(client, link.bexio_id, fields, current, group_id)
            _save_link(member, bexio_id=link.bexio_id, matched_by="", synced_hash=wanted_hash, link=link)
            return link.bexio_id
    elif link is not None and link.state == LinkState.CONFLICT:
        raise ContactConflict(member, link.candidates)

    taken = _linked_elsewhere(org, member)
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
        candidates = [_candidate(c) for c in matches]
        _save_conflict(member, candidates)
        raise ContactConflict(member, candidates)
    if len(matches) == 1:
        contact = matches[0]
        if differs(contact, fields, group_id):
            _edit(client, contact.id, fields, contact, group_id)
        _save_link(member, bexio_id=contact.id, matched_by=how, synced_hash=wanted_hash, link=link)
        return contact.id
    created = client.contacts.create(
        ContactCreate(**fields, contact_group_ids=_merged_groups(None, group_id))
    )
    _save_link(member, bexio_id=created.id, matched_by="created", synced_hash=wanted_hash, link=link)
    return created.id


def _edit(client, contact_id: int, fields: dict, current, group_id: int | None) -> None:
    """Overwrite only the owned fields (and add our group, keeping the others)."""
    client.contacts.update(
        contact_id, ContactUpdate(**fields, contact_group_ids=_merged_groups(current, group_id))
    )


# --- Linking by hand: only candidates, shown field by field, confirmed -----------------------------

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
    taken = _linked_elsewhere(member.organisation, member)
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
            lambda c: _norm(c.nr) == _norm(member.number))  # fmt: skip
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
        info = _candidate(contact)
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
        return str(_("Company") if value == COMPANY else _("Person"))
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
        if _norm(current) != _norm(new):
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
    if bexio_id in _linked_elsewhere(org, member):
        raise ContactSyncError(_("This bexio contact is already linked to another member."))
    if client is not None:
        try:
            client.contacts.get(bexio_id)
        except errors.NotFoundError:
            raise ContactSyncError(_("There is no bexio contact with this id.")) from None
    # An empty hash makes the next sync send the owned fields once.
    return _save_link(member, bexio_id=bexio_id, matched_by="hand", synced_hash="")


def unlink(member) -> None:
    ContactLink.objects.filter(member=member).delete()


# --- A whole club --------------------------------------------------------------------------------


@dataclass
class SyncReport:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    matched: list = field(default_factory=list)
    unchanged: int = 0
    conflicts: list = field(default_factory=list)  # (member, candidates)
    errors: list = field(default_factory=list)  # (member or None, message)
    group_created: bool = False
    dry_run: bool = False

    def summary(self) -> dict:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "matched": len(self.matched),
            "unchanged": self.unchanged,
            "conflicts": len(self.conflicts),
            "errors": len(self.errors),
        }


def members_to_sync(org):
    """Active members and whoever pays for them (a payer may be archived yet still billed)."""

    active = Member.objects.filter(organisation=org, is_active=True)
    payer_ids = active.exclude(invoice_to__isnull=True).values_list("invoice_to_id", flat=True)
    return (
        Member.objects.filter(organisation=org)
        .filter(Q(is_active=True) | Q(pk__in=list(payer_ids)))
        .order_by("number")
    )


def _salutations_imported(mapping: Mapping) -> bool:
    """Whether bexio's salutations and titles are here (a refresh before they were imported has none)."""
    master = mapping.master
    if master.all(Kind.SALUTATION, active_only=False) or master.all(Kind.TITLE, active_only=False):
        return True
    done = MasterDataRefresh.objects.filter(organisation=mapping.org, ok=True).order_by("-started_at", "-id")
    summary = (done.values_list("summary", flat=True).first() or {}).get(Kind.SALUTATION)
    return isinstance(summary, dict) and not summary.get("skipped")  # imported: bexio has none


def contact_warnings(mapping: Mapping) -> list[str]:
    """Salutations and titles of members that bexio does not know, each once with how many members
    have it. Not blockers: those contacts are sent without them until bexio has them (a person adds
    them there and refreshes the master data). One grouped query, whatever the number of members."""
    if mapping.master.is_empty:
        return []
    groups = list(
        members_to_sync(mapping.org)
        .exclude(kind=MemberKind.COMPANY)
        .filter(Q(salutation__gt="") | Q(title__gt=""))
        .order_by()
        .values_list("salutation", "language", "title")
        .annotate(n=Count("id"))
    )
    if not groups:
        return []
    salutations = [(s, language, n) for s, language, _title, n in groups if s]
    titles: dict[str, int] = {}
    for _s, _language, title, n in groups:
        if title:
            titles[title] = titles.get(title, 0) + n
    titles = sorted(titles.items(), key=lambda row: -row[1])
    if not _salutations_imported(mapping):
        return [
            _("bexio's salutations and titles have not been imported yet: refresh the master data "
              "(Refresh from bexio), then the contacts are sent with them.")
        ]  # fmt: skip
    language = (translation.get_language() or "de")[:2]
    warnings = []
    unknown_salutations: dict[str, int] = {}
    for salutation, member_language, n in salutations:
        probe = Member(kind=MemberKind.PERSON, salutation=salutation, language=member_language)
        if mapping.salutation_id(probe) is None:
            unknown_salutations[salutation] = unknown_salutations.get(salutation, 0) + n
    for salutation, n in sorted(unknown_salutations.items(), key=lambda kv: -kv[1]):
        warnings.append(
            ngettext(
                "%(count)s member has the salutation “%(name)s”, which bexio does not know: add it in "
                "bexio under Settings > Contacts > Salutations, then refresh the master data.",
                "%(count)s members have the salutation “%(name)s”, which bexio does not know: add it "
                "in bexio under Settings > Contacts > Salutations, then refresh the master data.",
                n,
            )
            % {"count": n, "name": salutation_word(salutation, language)}
        )
    unknown_titles: dict[str, list] = {}  # name key -> [count, the spelling most members have]
    for title, n in titles:
        if mapping.master.named_id(Kind.TITLE, title) is None:
            entry = unknown_titles.setdefault(name_key(title), [0, " ".join(title.split())])
            entry[0] += n
    for n, title in sorted(unknown_titles.values(), key=lambda entry: -entry[0]):
        warnings.append(
            ngettext(
                "%(count)s member has the title “%(name)s”, which bexio does not know: add it in bexio "
                "under Settings > Contacts > Titles, then refresh the master data.",
                "%(count)s members have the title “%(name)s”, which bexio does not know: add it in "
                "bexio under Settings > Contacts > Titles, then refresh the master data.",
                n,
            )
            % {"count": n, "name": title}
        )
    return warnings


def sync_contacts(org, client=None, *, dry_run: bool = False, members=None) -> SyncReport:
    """Bring every member's bexio contact up to date, with as few requests as possible.

    Linked and unchanged members cost nothing. Otherwise one paged listing of bexio's contacts is
    matched in memory (stored id, nr, e-mail), changed contacts are edited one by one (bexio has
    no bulk edit) and new ones created with `_bulk_create` in chunks of `BULK_CHUNK`.
    """
    client = client if client is not None else client_for(org)
    mapping = mapping_for(org)
    check_ready(mapping)
    report = SyncReport(dry_run=dry_run)
    group_id = ensure_contact_group(client, mapping, dry_run=dry_run, report=report)

    members = list(members if members is not None else members_to_sync(org))
    links = {link.member_id: link for link in ContactLink.objects.filter(organisation=org)}
    todo = []  # (member, link, fields, hash)
    for member in members:
        fields = contact_fields(member, mapping)
        wanted = fields_hash(fields, group_id)
        link = links.get(member.pk)
        if link is not None and link.is_linked and link.synced_hash == wanted:
            report.unchanged += 1
            continue
        todo.append((member, link, fields, wanted))
    if not todo:
        return report

    contacts = list(client.contacts.iter())
    by_id = {c.id: c for c in contacts}
    by_nr: dict[str, list] = {}
    by_mail: dict[str, list] = {}
    for c in contacts:
        if c.nr:
            by_nr.setdefault(str(c.nr).strip(), []).append(c)
        if c.mail:
            by_mail.setdefault(c.mail.strip().lower(), []).append(c)
    taken = set(
        ContactLink.objects.filter(organisation=org, bexio_id__isnull=False).values_list(
            "bexio_id", flat=True
        )
    )

    to_create = []  # (member, link, fields, hash)
    for member, link, fields, wanted in todo:
        try:
            if link is not None and link.is_linked:
                current = by_id.get(link.bexio_id)
                if current is None:  # deleted or archived in bexio: never recreate silently
                    report.errors.append((member, _("The linked bexio contact %(id)s no longer exists.")
                                          % {"id": link.bexio_id}))  # fmt: skip
                    continue
                if differs(current, fields, group_id):
                    if not dry_run:
                        _edit(client, current.id, fields, current, group_id)
                    report.updated.append(member)
                else:
                    report.unchanged += 1
                if not dry_run:
                    _save_link(member, bexio_id=current.id, matched_by="", synced_hash=wanted, link=link)
                continue
            matches, how = _free(by_nr.get(str(member.number).strip(), []), taken), "nr"
            if not matches and member.email:
                matches, how = _free(by_mail.get(member.email.strip().lower(), []), taken), "mail"
            if len(matches) > 1:
                candidates = [_candidate(c) for c in matches]
                report.conflicts.append((member, candidates))
                if not dry_run:
                    _save_conflict(member, candidates)
                continue
            if len(matches) == 1:
                contact = matches[0]
                if link is not None and link.state == LinkState.CONFLICT and how == "mail":
                    # Was ambiguous before and one candidate is left: still a person's choice.
                    report.conflicts.append((member, link.candidates))
                    continue
                if differs(contact, fields, group_id) and not dry_run:
                    _edit(client, contact.id, fields, contact, group_id)
                report.matched.append(member)
                taken.add(contact.id)
                if not dry_run:
                    _save_link(member, bexio_id=contact.id, matched_by=how, synced_hash=wanted, link=link)
                continue
            if link is not None and link.state == LinkState.CONFLICT:
                report.conflicts.append((member, link.candidates))
                continue
            to_create.append((member, link, fields, wanted))
        except errors.BexioError as exc:
            report.errors.append((member, str(exc)))

    if dry_run:
        report.created = [m for m, *_rest in to_create]
        return report
    for start in range(0, len(to_create), BULK_CHUNK):
        _create_chunk(client, to_create[start : start + BULK_CHUNK], group_id, report)
    return report


def _free(contacts: list, taken: set[int]) -> list:
    """Contacts not yet linked to a member."""
    return [c for c in contacts if c.id not in taken]


def _create_chunk(client, chunk, group_id, report: SyncReport) -> None:
    bodies = [
        ContactCreate(**fields, contact_group_ids=_merged_groups(None, group_id))
        for _m, _l, fields, _h in chunk
    ]
    try:
        created = client.contacts.bulk_create(bodies)
    except (errors.NotFoundError, errors.BadRequestError, errors.UnprocessableError) as exc:
        # No bulk endpoint (or it refused the batch): one by one, so one bad member does not stop the rest.
        log.info("bulk create refused (%s); creating %d contacts one by one", exc, len(chunk))
        for member, link, fields, wanted in chunk:
            try:
                contact = client.contacts.create(
                    ContactCreate(**fields, contact_group_ids=_merged_groups(None, group_id))
                )
            except errors.BexioError as single_exc:
                report.errors.append((member, str(single_exc)))
                continue
            _link_created(member, link, contact.id, wanted, report)
        return
    except (errors.ServerError, errors.NetworkError) as exc:
        # bexio may have saved some or all of them: never retry blindly. They carry the member
        # number in `nr`, so the next sync matches them instead of creating them again.
        log.warning("bulk create of %d contacts failed: %s", len(chunk), exc)
        message = _("bexio did not confirm the creation (%(error)s); the next sync matches it by number.")
        for member, *_rest in chunk:
            report.errors.append((member, message % {"error": exc}))
        return
    by_nr = {str(c.nr).strip(): c for c in created if c.nr}
    for index, (member, link, _fields, wanted) in enumerate(chunk):
        contact = by_nr.get(str(member.number).strip())
        if contact is None and len(created) == len(chunk):
            contact = created[index]  # same order as sent
        if contact is None:
            report.errors.append((member, _("bexio did not return the created contact; run the sync again.")))
            continue
        _link_created(member, link, contact.id, wanted, report)


def _link_created(member, link, bexio_id, wanted, report) -> None:
    try:
        with transaction.atomic():
            _save_link(member, bexio_id=bexio_id, matched_by="created", synced_hash=wanted, link=link)
    except IntegrityError:
        report.errors.append((member, _("The created bexio contact is already linked to another member.")))
        return
    report.created.append(member)
