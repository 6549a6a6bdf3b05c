"""VAT included in an invoice, per rate, as the member reads it (prices include VAT).

The rate of each position comes from whoever knows it: the accounting integration's mapping,
through the hook "vat_rate" (a function position -> (rate in %, name), or None). Without it an
invoice shows no VAT breakdown. VAT included in a gross amount = gross x rate / (100 + rate),
rounded to the cent per rate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from aeroledger.tenancy import hooks

CENT = Decimal("0.01")


@dataclass(frozen=True)
class VatLine:
    rate: Decimal  # percent, e.g. 8.1
    name: str
    gross: Decimal  # amount including VAT
    vat: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.vat


def included_vat(gross: Decimal, rate: Decimal) -> Decimal:
    return (Decimal(gross) * Decimal(rate) / (Decimal(100) + Decimal(rate))).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def vat_lines(parts, rate_of) -> list[VatLine]:
    """`parts`: (position, gross amount) pairs; `rate_of(position)` -> (rate, name) or None."""
    grouped: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
    for position, gross in parts:
        found = rate_of(position)
        if found is not None and gross:
            grouped[found] += Decimal(gross)
    return [
        VatLine(rate, name, gross, included_vat(gross, rate))
        for (rate, name), gross in sorted(grouped.items(), key=lambda kv: (-kv[0][0], kv[0][1]))
    ]


def breakdown(invoice, positions) -> dict | None:
    """VAT per rate of the whole invoice and of the part invoiced; None without a source of rates."""
    rate_of = hooks.first("vat_rate", invoice.organisation)
    if rate_of is None:
        return None
    return {
        "all": vat_lines([(p, p.amount) for p in positions], rate_of),
        "due": vat_lines([(p, p.amount - p.credit_covered) for p in positions], rate_of),
    }
