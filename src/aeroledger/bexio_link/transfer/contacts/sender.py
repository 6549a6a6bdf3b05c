"""The outbox sender of contacts: a linked member's changed data reaches their bexio contact once.

One item per state of the data (key `member:<id>:<hash of the fields>`), so an edit and the next
one are two writes, and saving a member twice without a change is one. send is masterdata's
`ensure_contact`, which looks the contact up (link, number, e-mail) before it would ever create
one: a lost answer cannot make a second contact. find: nothing to do when the link already carries
this state.
"""

from __future__ import annotations

from types import SimpleNamespace

from aeroledger.bexio_link.masterdata.contacts import (
    ContactSyncError,
    contact_fields,
    ensure_contact,
    fields_hash,
)
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.bexio_link.masterdata.models import ContactLink
from aeroledger.members.models import Member

from ..models import ItemKind, OutboxItem
from ..outbox import enqueue
from ..outbox.db import db_section
from ..outbox.senders import Blocked, OrgState, Sender, register


def contact_key(member: Member, mapping) -> str:
    fields = contact_fields(member, mapping)
    return f"member:{member.pk}:{fields_hash(fields, mapping.contact_group_id)[:16]}"


def queue_contact_update(member: Member) -> OutboxItem | None:
    """Queue the write of a linked member's current data (nothing when that state is queued or sent)."""
    if not ContactLink.objects.filter(member=member, bexio_id__isnull=False).exists():
        return None  # not in bexio yet: its first invoice creates (or matches) the contact
    mapping = mapping_for(member.organisation)
    item = enqueue.add(
        member.organisation,
        ItemKind.CONTACT,
        contact_key(member, mapping),
        label=f"{member.number} {member.display_name}",
        member=member,
    )
    enqueue.wake(member.organisation)
    return item


@register
class ContactSender(Sender):
    kind = ItemKind.CONTACT

    def load(self, items: list[OutboxItem]) -> None:
        members = Member.objects.select_related("organisation", "bexio_link").in_bulk(
            [i.member_id for i in items]
        )
        for item in items:
            item.member = members.get(item.member_id)

    def find(self, item: OutboxItem, client, org: OrgState):
        link = ContactLink.objects.filter(member_id=item.member_id, bexio_id__isnull=False).first()
        mapping = org.get("mapping", lambda: mapping_for(org.org))
        fields = contact_fields(item.member, mapping)
        if link is not None and link.synced_hash == fields_hash(fields, mapping.contact_group_id):
            return SimpleNamespace(id=link.bexio_id)
        return None

    def send(self, item: OutboxItem, client, org: OrgState):
        with db_section():
            try:
                contact_id = ensure_contact(
                    client, item.member, mapping=org.get("mapping", lambda: mapping_for(org.org))
                )
            except ContactSyncError as exc:
                raise Blocked(str(exc)) from None
        return SimpleNamespace(id=contact_id)
