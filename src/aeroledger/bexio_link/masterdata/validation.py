"""Whether an invoice (and its member) can be transferred to bexio now, and why not."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aeroledger.members.models import Member, MemberKind

from .mapping import Mapping, mapping_for
from .models import ContactLink, LinkState

# Address fields bexio (and the QR bill) needs on the paying contact.
REQUIRED_ADDRESS = (
    ("street", "street"),
    ("postcode", "postcode"),
    ("city", "city"),
    ("country", "country"),
)


def member_problems(member, mapping: Mapping) -> list[str]:
    """What keeps `member` from becoming a complete bexio contact."""
    labels = {
        "street": _("street"),
        "postcode": _("postcode"),
        "city": _("city"),
        "country": _("country"),
    }
    name = f"{member.number} {member.display_name}".strip()
    reasons = []
    if member.kind == MemberKind.COMPANY and not member.company_name:
        reasons.append(_("Member %(name)s has no company name.") % {"name": name})
    if member.kind != MemberKind.COMPANY and not member.last_name:
        reasons.append(_("Member %(name)s has no last name.") % {"name": name})
    missing = [
        str(labels[key]) for key, attr in REQUIRED_ADDRESS if not (getattr(member, attr) or "").strip()
    ]
    if missing:
        reasons.append(
            _("Member %(name)s is missing address fields bexio needs: %(fields)s.")
            % {"name": name, "fields": ", ".join(missing)}
        )
    if member.country and not mapping.master.is_empty and mapping.country_id(member.country) is None:
        reasons.append(
            _("The country %(country)s of member %(name)s does not exist in bexio.")
            % {"country": member.country, "name": name}
        )
    link = known_link(member)
    if link is False:
        link = ContactLink.objects.filter(member=member).first()
    if link is not None and link.state == LinkState.CONFLICT:
        reasons.append(
            _("Several bexio contacts match member %(name)s: link one by hand (Bexio > Contacts).")
            % {"name": name}
        )
    return reasons


def known_link(member):
    """The member's ContactLink when already loaded (select_related "bexio_link"): the link or
    None (no link); False when it was not loaded (the caller reads it)."""
    related = Member.bexio_link.related
    if not related.is_cached(member):
        return False
    return related.get_cached_value(member)


def invoice_positions(invoice) -> list:
    """The invoice's positions in order (pos, id), with aircraft and aerodrome; the prefetched ones
    when the caller loaded them (`prefetch_related("positions")`)."""
    prefetched = getattr(invoice, "_prefetched_objects_cache", {}).get("positions")
    if prefetched is not None:
        return sorted(prefetched, key=lambda p: (p.pos, p.pk))
    return list(invoice.positions.select_related("aircraft", "aerodrome").order_by("pos", "id"))


def validate_invoice(invoice, mapping: Mapping | None = None, *, positions=None) -> list[str]:
    """Every reason why `invoice` cannot be transferred to bexio now; empty means it can.

    Pass `mapping` (from `mapping_for`) when validating many invoices of one organisation, and
    `positions` (`invoice_positions(invoice)`) when the caller has them already.
    """
    mapping = mapping or mapping_for(invoice.organisation)
    reasons = list(mapping.problems())
    if (getattr(invoice, "currency", None) or invoice.organisation.currency) != invoice.organisation.currency:
        reasons.append(_("The invoice currency differs from the organisation's currency."))
    reasons += member_problems(invoice.member, mapping)
    if positions is None:
        positions = invoice_positions(invoice)
    if not positions:
        reasons.append(_("The invoice has no positions."))
    for position in positions:
        label = ""
        if position.aircraft_id:
            label = position.aircraft.registration
        elif position.aerodrome_id:
            label = position.aerodrome.icao
        reasons += mapping.position_problems(
            position.charge_type, position.aircraft_id, position.aerodrome_id, label=label
        )
    return list(dict.fromkeys(reasons))
