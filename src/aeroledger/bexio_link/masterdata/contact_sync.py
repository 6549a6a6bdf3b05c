"""A whole club's members to bexio contacts at once (`aeroledger bexio_sync_contacts`, the Sync all
button): matched in memory from one paged read, created in bulk, edited only when changed; and the
warnings the contacts page shows before a sync."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aeroledger.bexio_link.connection.clients import client_for
from aeroledger.members.models import Member, MemberKind, salutation_word
from bexio import errors
from bexio.models import ContactCreate

from .contacts import (
    BULK_CHUNK,
    candidate_of,
    check_ready,
    contact_fields,
    differs,
    edit_contact,
    ensure_contact_group,
    fields_hash,
    merged_groups,
    save_conflict,
    save_link,
)
from .mapping import Mapping, mapping_for
from .master import name_key
from .models import ContactLink, Kind, LinkState, MasterDataRefresh

log = logging.getLogger(__name__)


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
                        edit_contact(client, current.id, fields, current, group_id)
                    report.updated.append(member)
                else:
                    report.unchanged += 1
                if not dry_run:
                    save_link(member, bexio_id=current.id, matched_by="", synced_hash=wanted, link=link)
                continue
            matches, how = _free(by_nr.get(str(member.number).strip(), []), taken), "nr"
            if not matches and member.email:
                matches, how = _free(by_mail.get(member.email.strip().lower(), []), taken), "mail"
            if len(matches) > 1:
                candidates = [candidate_of(c) for c in matches]
                report.conflicts.append((member, candidates))
                if not dry_run:
                    save_conflict(member, candidates)
                continue
            if len(matches) == 1:
                contact = matches[0]
                if link is not None and link.state == LinkState.CONFLICT and how == "mail":
                    # Was ambiguous before and one candidate is left: still a person's choice.
                    report.conflicts.append((member, link.candidates))
                    continue
                if differs(contact, fields, group_id) and not dry_run:
                    edit_contact(client, contact.id, fields, contact, group_id)
                report.matched.append(member)
                taken.add(contact.id)
                if not dry_run:
                    save_link(member, bexio_id=contact.id, matched_by=how, synced_hash=wanted, link=link)
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
        ContactCreate(**fields, contact_group_ids=merged_groups(None, group_id))
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
                    ContactCreate(**fields, contact_group_ids=merged_groups(None, group_id))
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
            save_link(member, bexio_id=bexio_id, matched_by="created", synced_hash=wanted, link=link)
    except IntegrityError:
        report.errors.append((member, _("The created bexio contact is already linked to another member.")))
        return
    report.created.append(member)
