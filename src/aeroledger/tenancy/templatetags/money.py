"""`{{ amount|chf }}` -> 1'234.50 (Swiss style, whatever the interface language)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()


def format_chf(value, places: int = 2) -> str:
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    quantum = Decimal(1).scaleb(-places)
    number = number.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    whole, _, fraction = f"{abs(number):f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = "'".join(groups)
    return f"{sign}{text}.{fraction}" if places else f"{sign}{text}"


@register.filter
def chf(value):
    """Format a Decimal amount Swiss style: 1234.5 -> 1'234.50, -3.2 -> -3.20."""
    return format_chf(value)


@register.filter
def price(value):
    """A unit price with up to four decimals, at least two: 4.2 -> 4.20, 1.125 -> 1.125."""
    if value is None or value == "":
        return ""
    text = format_chf(value, 4)
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


@register.filter
def qty(value):
    """A quantity without useless decimals: 45.0000 -> 45, 1.5000 -> 1.5."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


class Tally:
    def __init__(self, count: int, total: Decimal):
        self.count, self.sum = count, total


@register.simple_tag
def tally(rows, field, **match):
    """Count and sum of `field` over the rows matching `match`, for the words of a confirmation:

        {% tally invoices "total" status="draft" as drafts %}{{ drafts.count }} {{ drafts.sum|chf }}

    `rows` is a list or a queryset the page shows anyway (iterated once, its cache reused).
    """
    count, total = 0, Decimal("0")
    for row in rows:
        if all(getattr(row, key) == value for key, value in match.items()):
            count += 1
            total += getattr(row, field) or 0
    return Tally(count, total)
