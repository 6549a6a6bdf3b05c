"""The money maths of an invoice, in one pure function (no Django, no database).

CHF totals are rounded to 0.05 (the smallest coin); the difference to the exact sum is kept so
that accounting can book it. In prepaid mode the member's credit covers part of the total and only
the rest is due; the amount due is itself a multiple of 0.05.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal  # exact sum of the positions (0.01)
    total: Decimal  # rounded to 0.05
    rounding_difference: Decimal  # total - subtotal
    credit_applied: Decimal  # part of the total the credit covers (>= 0)
    amount_due: Decimal  # total - credit_applied, a multiple of 0.05


def invoice_totals(amounts: Iterable[Decimal], credit_available: Decimal | None = None) -> Totals:
    """Totals of an invoice from its position amounts.

    `credit_available` is how much prepaid credit may be applied (None or <= 0: none, as in
    post-paid mode). The credit never exceeds the total, and never makes the amount due negative.
    """
    subtotal = to_cents(sum((Decimal(a) for a in amounts), ZERO))
    total = round_chf(subtotal)
    credit = Decimal(credit_available or 0)
    if total <= 0 or credit <= 0:
        applied = ZERO
    else:
        # The amount due is rounded up to 0.05 so that the credit applied never exceeds the credit.
        due = max(ZERO, total - credit)
        steps = (due / FIVE_CENTS).to_integral_value(rounding="ROUND_CEILING")
        due = (steps * FIVE_CENTS).quantize(CENT)
        applied = total - due
    return Totals(
        subtotal=subtotal,
        total=total,
        rounding_difference=total - subtotal,
        credit_applied=applied.quantize(CENT),
        amount_due=(total - applied).quantize(CENT),
    )
