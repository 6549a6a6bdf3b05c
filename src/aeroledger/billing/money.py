"""The money maths of an invoice, in pure functions (no Django, no database).

CHF amounts due are rounded to 0.05 (the smallest coin); the difference to the exact sum is kept so
that accounting can book it. In prepaid mode the member's credit pays the charges first, oldest
first (`settle`): what credit pays is used exactly, to the cent (no cash changes hands, so nothing
is rounded), and only the rest is due, as a multiple of 0.05. The credit used never exceeds the
credit available.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
FIVE_CENTS = Decimal("0.05")
ZERO = Decimal("0.00")


def to_cents(value: Decimal) -> Decimal:
    """Round an amount to 0.01 (half up), e.g. a position's quantity times unit price."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def round_chf(value: Decimal) -> Decimal:
    """Round to 0.05 (half up, away from zero for negatives): 1.02 -> 1.00, 1.025 -> 1.05."""
    value = Decimal(value)
    steps = (abs(value) / FIVE_CENTS).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    result = (steps * FIVE_CENTS).quantize(CENT)
    return -result if value < 0 else result


def position_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return to_cents(Decimal(quantity) * Decimal(unit_price))


def ceil_chf(value: Decimal) -> Decimal:
    """Round up to the next 0.05: 50.01 -> 50.05 (a due amount that never uses more credit than there is)."""
    steps = (Decimal(value) / FIVE_CENTS).to_integral_value(rounding=ROUND_CEILING)
    return (steps * FIVE_CENTS).quantize(CENT)


@dataclass(frozen=True)
class Settlement:
    """How an invoice's positions are paid: from credit (per position) and the rest due."""

    subtotal: Decimal  # exact sum of the positions (0.01)
    covered: tuple[Decimal, ...]  # per position, in the order given: the part paid from credit
    credit_used: Decimal  # sum of `covered`, exact to the cent, never more than the credit
    amount_due: Decimal  # what the member is invoiced: a multiple of 0.05 (0 when credit pays it all)
    rounding_difference: Decimal  # amount_due - (subtotal - credit_used)

    @property
    def total(self) -> Decimal:
        return self.credit_used + self.amount_due

    def due_part(self, index: int, amount: Decimal) -> Decimal:
        """The part of position `index` (of `amount`) that is invoiced."""
        return Decimal(amount) - self.covered[index]


def settle(amounts: Sequence[Decimal], credit: Decimal | None = None) -> Settlement:
    """Pay the positions (`amounts`, oldest first) from `credit`; the rest is due.

    Credit covers whole positions in order and the first position it cannot pay in full in part.
    When credit covers only part, the amount due is the rest rounded *up* to 0.05 and the credit
    used is lowered by that difference, so the positions left to invoice add up to exactly the
    amount due (no rounding on the invoice) and the credit used never exceeds the credit. Without
    credit (post-paid, or none left) the amount due is the sum rounded to 0.05 as usual.
    """
    amounts = [to_cents(Decimal(a)) for a in amounts]
    subtotal = to_cents(sum(amounts, ZERO))
    available = Decimal(credit or 0)
    if subtotal <= 0 or available <= 0:
        used = ZERO
    elif available >= subtotal:
        used = subtotal
    else:
        due = ceil_chf(subtotal - available)
        used = subtotal - due if due <= subtotal else ZERO
    covered, left = [], used
    for amount in amounts:
        part = min(max(amount, ZERO), left)
        covered.append(part)
        left -= part
    rest = subtotal - used
    amount_due = round_chf(rest)
    return Settlement(
        subtotal=subtotal,
        covered=tuple(covered),
        credit_used=used,
        amount_due=amount_due,
        rounding_difference=amount_due - rest,
    )


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # exact sum of the positions (0.01)
    total: Decimal  # rounded to 0.05
    rounding_difference: Decimal  # total - subtotal
    credit_applied: Decimal  # part of the total the credit covers (>= 0)
    amount_due: Decimal  # total - credit_applied, a multiple of 0.05


def invoice_totals(amounts: Iterable[Decimal], credit_available: Decimal | None = None) -> Totals:
    """Totals of an invoice from its position amounts (see `settle`).

    `credit_available` is how much prepaid credit may be used (None or <= 0: none, as in post-paid
    mode). total = credit applied + amount due.
    """
    s = settle(list(amounts), credit_available)
    return Totals(
        subtotal=s.subtotal,
        total=s.total,
        rounding_difference=s.rounding_difference,
        credit_applied=s.credit_used,
        amount_due=s.amount_due,
    )
