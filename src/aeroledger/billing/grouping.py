"""Invoice positions grouped by flight, as the invoice page and the statement show them."""

from datetime import date

from django.utils.translation import gettext as _


def position_groups(positions) -> list[tuple[str, list]]:
    """The positions grouped by flight ("24.10.2026 HB-CQA, 62 min"), then the others."""
    groups: dict = {}
    for position in positions:
        flight = position.charge.flight if position.charge_id and position.charge.flight_id else None
        if flight is not None:
            title = _("Flight %(date)s %(aircraft)s, %(minutes)s min") % {
                "date": f"{flight.date:%d.%m.%Y}",
                "aircraft": flight.aircraft.registration,
                "minutes": flight.block_minutes,
            }
            key = (0, flight.date, flight.pk)
        else:
            title, key = _("Other positions"), (1, None, None)
        groups.setdefault(key, (title, []))[1].append(position)
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[1] or date.min, k[2] or 0))]
