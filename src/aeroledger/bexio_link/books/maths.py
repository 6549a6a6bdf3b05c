"""How bexio's journal books what Aeroledger sends: the maths the reconciliation predicts with.

Every effect is "credit minus debit" per ledger account (a revenue, VAT or liability account grows
on its credit side), in CHF to the cent.

- An issued invoice books, per priced position, the debtors account against the position's account
  for the net amount and against the tax's account for the VAT. Aeroledger sends prices including
  VAT, so VAT = gross x rate / (100 + rate), rounded half up to 0.01 per position, and net = gross -
  VAT. The rest to the invoice total (the 0.05 rounding) goes to bexio's rounding account, which the
  reconciliation does not compare.
- A manual entry line with a tax is gross: the taxed side (the line's `tax_account_id` when bexio
  names it, else the credit side for a sales tax) takes the net amount and the tax's account the
  VAT, on the same side, with the same rounding. A line without a tax books its amount as it is.

bexio's journal carries no tax code on a line: revenue per VAT code is therefore compared through
each revenue account (net) and each VAT account (tax), while Aeroledger's own split per VAT code
comes from its positions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_included(gross: Decimal, rate: Decimal | None) -> Decimal:
    """The VAT inside a gross amount at `rate` percent, to the cent (0 without a rate)."""
    if not rate:
        return ZERO
    return cents(Decimal(gross) * Decimal(rate) / (100 + Decimal(rate)))


@dataclass(frozen=True)
class Tax:
    """What the maths needs of a bexio tax: its rate and the account its VAT is booked to."""

    rate: Decimal | None
    account_id: int | None


Effects = dict[int, Decimal]


def add(into: Effects, other: Effects, sign: int = 1) -> Effects:
    for account, amount in other.items():
        into[account] = into.get(account, ZERO) + sign * amount
    return into


def invoice_position(amount: Decimal, account_id: int | None, tax: Tax | None) -> Effects:
    """The effect of one invoiced position (gross `amount`, VAT included) on revenue and VAT."""
    out: Effects = defaultdict(lambda: ZERO)
    vat = vat_included(amount, tax.rate if tax else None)
    if account_id is not None:
        out[account_id] += cents(amount) - vat
    if vat and tax and tax.account_id is not None:
        out[tax.account_id] += vat
    return dict(out)


def manual_line(
    *,
    amount: Decimal,
    debit: int | None,
    credit: int | None,
    tax: Tax | None = None,
    tax_account_id: int | None = None,
) -> Effects:
    """The effect of one manual entry line (gross `amount`) on every account it touches."""
    out: Effects = defaultdict(lambda: ZERO)
    gross = cents(amount)
    vat = vat_included(gross, tax.rate if tax else None)
    if not vat or tax is None or tax.account_id is None:
        if debit is not None:
            out[debit] -= gross
        if credit is not None:
            out[credit] += gross
        return dict(out)
    taxed_debit = tax_account_id == debit if tax_account_id is not None else credit is None
    if debit is not None:
        out[debit] -= gross - vat
    if credit is not None:
        out[credit] += gross - vat
    if taxed_debit:  # the VAT goes on the debit side: tax account debited, the credit side in full
        out[tax.account_id] -= vat
        if credit is not None:
            out[credit] += vat
    else:
        out[tax.account_id] += vat
        if debit is not None:
            out[debit] -= vat
    return dict(out)
