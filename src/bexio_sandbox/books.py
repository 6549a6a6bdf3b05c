"""What invoices and payments book, as bexio books them (VAT "agreed": at issue).

Issuing an invoice books, per priced position (after discounts), the debtors account (1100) against the
position's account for the net amount and against the tax's account (2200) for the VAT:
- `mwst_type` 0, `mwst_is_net` false (prices include VAT, what Aeroledger sends):
  VAT = gross * rate / (100 + rate), rounded to 0.01; net = gross - VAT;
- `mwst_type` 0, `mwst_is_net` true: VAT = net * rate / 100, rounded to 0.01;
- `mwst_type` 1 or 2, or a 0 % tax: no VAT line.
What is left to the invoice total (the CHF 0.05 rounding, and cents of VAT rounding) goes to the rounding
account (6945), so the debtors account always carries exactly the invoice total. A position without an
account books to 3200.

A payment books the bank account's ledger account (1020 for the demo bank) against the debtors.
Reversals (see journal.py): cancel books reversing lines on the day of the cancellation; revert_issue
and deleting a payment undo a mistake and reverse on the original lines' dates, so that period nets out.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from . import chart, journal
from .clock import today
from .context import company, store
from .decimals import to_decimal
from .document_maths import position_shares

CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def invoice_lines(inv: dict) -> list[tuple[int, int, Decimal, str]]:
    """(debit, credit, amount, description) of an invoice's bookings; debit is always the debtors."""
    nr = inv["document_nr"]
    out = []
    booked = Decimal(0)
    for p, share in position_shares(inv):
        amount = _cents(share)
        account = p.get("account_id") or chart.DEFAULT_REVENUE
        rate = (
            to_decimal(p["_tax_rate"])
            if inv["mwst_type"] == 0 and p.get("_tax_rate") is not None
            else Decimal(0)
        )
        if rate and inv["mwst_is_net"]:
            net, vat = amount, _cents(amount * rate / 100)
        elif rate:
            vat = _cents(amount * rate / (100 + rate))
            net = amount - vat
        else:
            net, vat = amount, Decimal(0)
        text = (p.get("text") or "").splitlines()[0][:200] if p.get("text") else ""
        out.append((chart.DEBTORS, account, net, f"{nr} {text}".strip()))
        if vat:
            tax = store().get("tax", company(), p["tax_id"]) or {"account_id": 105, "code": ""}
            out.append((chart.DEBTORS, tax["account_id"], vat, f"{nr} MWST {tax['code']} {rate:f}%"))
        booked += net + vat
    rest = to_decimal(inv["total"]) - booked
    if rest:
        out.append((chart.DEBTORS, chart.ROUNDING, rest, f"{nr} Rundungsdifferenz"))
    return out


def book_invoice(inv: dict) -> None:
    """Issue: book the invoice (inside the caller's transaction); its line ids go to `_booked`."""
    inv.setdefault("_uuid", str(uuid.uuid4()))
    ref = ("KbInvoice", inv["id"], inv["_uuid"])
    ids = [
        journal.book(
            inv["is_valid_from"], debit, credit, amount, text, ref=ref, currency_id=inv["currency_id"]
        )
        for debit, credit, amount, text in invoice_lines(inv)
    ]
    inv["_booked"] = [i for i in ids if i is not None]


def unbook_invoice(inv: dict, *, cancel: bool) -> None:
    """Cancel (reversal today) or revert_issue (reversal on the original dates)."""
    journal.reverse(inv.get("_booked") or [], today() if cancel else None)
    inv["_booked"] = []


def on_status(inv: dict, old: int, new: int) -> None:
    """The bookings an invoice status change makes: 7 -> 8 issue, 8 -> 7 revert, -> 19 cancel."""
    if old == 7 and new != 7:
        book_invoice(inv)
    elif new == 7 and old != 7:
        unbook_invoice(inv, cancel=False)
    elif new == 19 and old != 19:
        unbook_invoice(inv, cancel=True)


def book_payment(inv: dict, pay: dict) -> None:
    bank = store().get("bank_account", company(), pay.get("bank_account_id") or 1) or {}
    pay.setdefault("_uuid", str(uuid.uuid4()))
    line = journal.book(
        pay["date"],
        bank.get("account_id") or chart.BANK,
        chart.DEBTORS,
        to_decimal(pay["value"]),
        f"{inv['document_nr']} Zahlungseingang",
        ref=("KbClientAccountEntry", pay["id"], pay["_uuid"]),
        currency_id=inv["currency_id"],
    )
    pay["_booked"] = [line] if line else []


def unbook_payment(pay: dict) -> None:
    journal.reverse(pay.get("_booked") or [])
    pay["_booked"] = []
