"""The bounds of what people may enter, in one place: forms, CSV imports, URL parameters and models.

A value outside them is refused with a message that names the field, never saved and never a 500.
Money is never created by input: quantities and prices are at least 0 (a correction of credit is
a separate, permissioned credit entry with a reason) and at most a figure no club ever bills.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

# --- Flights ---------------------------------------------------------------------------------------
MAX_BLOCK_MINUTES = 24 * 60  # one flight, one day
MAX_LANDINGS = 99  # landings of one flight at one aerodrome (circuits included)

# --- Charges and tariffs (CHF) -----------------------------------------------------------------------
MAX_QUANTITY = Decimal("10000")  # minutes, landings or items of one charge
MAX_UNIT_PRICE = Decimal("10000")  # CHF per minute, per landing or per item
# => one charge is at most CHF 100,000,000, which fits the amount column (12 digits, 2 decimals).
MAX_CREDIT_ENTRY = Decimal("1000000")  # one deposit, refund, correction or top-up booked by hand

# --- Dates -------------------------------------------------------------------------------------------
FIRST_YEAR, LAST_YEAR = 1900, 2100  # flights, billing periods, filters

# --- Database ids ------------------------------------------------------------------------------------
MAX_ID = 2**63 - 1  # BigAutoField; a larger number is no id (SQLite would raise OverflowError)


@deconstructible
class RangeValidator:
    """`low <= value <= high`, else `message` (with %(low)s and %(high)s, formatted the Swiss way).

    One message for both bounds, naming the field: "The quantity must be from 0 to 10'000."
    """

    def __init__(self, low, high, message):
        self.low, self.high, self.message = low, high, message

    def __call__(self, value) -> None:
        if value is None:
            return
        if not self.low <= value <= self.high:
            raise ValidationError(
                self.message,
                code="range",
                params={"low": number_format(self.low, force_grouping=True),
                        "high": number_format(self.high, force_grouping=True)},
            )  # fmt: skip

    def __eq__(self, other) -> bool:
        return isinstance(other, RangeValidator) and (self.low, self.high, str(self.message)) == (
            other.low,
            other.high,
            str(other.message),
        )


QUANTITY_RANGE = RangeValidator(
    Decimal("0"), MAX_QUANTITY, _("The quantity must be from %(low)s to %(high)s.")
)
UNIT_PRICE_RANGE = RangeValidator(
    Decimal("0"), MAX_UNIT_PRICE, _("The unit price must be from %(low)s to %(high)s CHF.")
)
TARIFF_RANGE = RangeValidator(
    Decimal("0"), MAX_UNIT_PRICE, _("The price must be from %(low)s to %(high)s CHF.")
)
BLOCK_MINUTES_RANGE = RangeValidator(
    1, MAX_BLOCK_MINUTES, _("Block minutes must be a whole number from %(low)s to %(high)s.")
)
LANDINGS_RANGE = RangeValidator(
    1, MAX_LANDINGS, _("The number of landings must be from %(low)s to %(high)s.")
)


def validate_year(value: date) -> None:
    """A date a club's books can hold (years FIRST_YEAR to LAST_YEAR)."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(
            _("The date must be in the years %(first)s to %(last)s."),
            code="year",
            params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )
