"""The journal: a company's double-entry bookings, as `GET /3.0/accounting/journal` shows them.

A line is what bexio documents: `id, ref_id, ref_uuid, ref_class, date ("2026-11-30T00:00:00+01:00",
midnight in Zurich), debit_account_id, credit_account_id, description, amount, currency_id,
currency_factor, base_currency_id, base_currency_amount` (numbers are JSON numbers). Documents book
with `ref_class` "KbInvoice" (ref_id = the invoice id) and "KbClientAccountEntry" (a payment; ref_id =
the payment id); manual entries carry no reference (ref_class null), as in real bexio exports. A line
of a compound manual entry has one side only (the other account id is null).

History is never rewritten for documents: a cancelled invoice or a deleted payment gets reversing
lines (debit and credit swapped, description "Storno: ..."). Manual entries are edited and deleted in
place, as bexio edits and deletes them. Amounts are stored as decimal strings, CHF base currency.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

from flask import Blueprint, request

from .clock import midnight
from .context import company, store
from .decimals import json_number, to_decimal
from .listing import paginate
from .responses import ApiError, respond
from .scopes import claim

bp = Blueprint("journal", __name__)
claim("/3.0/accounting", "accounting")  # the journal, manual entries and the years

KIND = "journal"
BASE_CURRENCY = 1  # CHF
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def book(
    date: str,
    debit: int | None,
    credit: int | None,
    amount: Decimal,
    description: str,
    *,
    ref: tuple = (None, None, None),
    currency_id: int = BASE_CURRENCY,
    currency_factor: Decimal = Decimal(1),
) -> int | None:
    """Add one line (inside the caller's transaction); a negative amount books the other way round,
    a zero amount books nothing. `ref`: (ref_class, ref_id, ref_uuid). Returns the line id."""
    if amount == 0:
        return None
    if amount < 0:
        debit, credit, amount = credit, debit, -amount
    ref_class, ref_id, ref_uuid = ref
    line = {
        "id": store().next_id(KIND, company()),
        "ref_id": ref_id,
        "ref_uuid": ref_uuid,
        "ref_class": ref_class,
        "date": date[:10],
        "debit_account_id": debit,
        "credit_account_id": credit,
        "description": description,
        "amount": str(amount),
        "currency_id": currency_id,
        "currency_factor": str(currency_factor),
    }
    store().put(KIND, company(), line["id"], line)
    return line["id"]


def reverse(ids: list[int], date: str | None = None) -> list[int]:
    """Reversing lines for `ids` (on `date`, or each on the reversed line's own date)."""
    out = []
    for id_ in ids:
        line = store().get(KIND, company(), id_)
        if line is None:
            continue
        new = book(
            date or line["date"],
            line["credit_account_id"],
            line["debit_account_id"],
            to_decimal(line["amount"]),
            f"Storno: {line['description']}",
            ref=(line["ref_class"], line["ref_id"], line["ref_uuid"]),
            currency_id=line["currency_id"],
            currency_factor=to_decimal(line["currency_factor"]),
        )
        out.append(new)
    return out


def remove(ids: list[int]) -> None:
    for id_ in ids:
        store().delete(KIND, company(), id_)


def lines() -> list[dict]:
    """Every line of the company, by date then id."""
    return sorted(store().all(KIND, company()), key=lambda line: (line["date"], line["id"]))


def render(line: dict) -> dict:
    amount = to_decimal(line["amount"])
    factor = to_decimal(line["currency_factor"])
    return {
        "id": line["id"],
        "ref_id": line["ref_id"],
        "ref_uuid": line["ref_uuid"],
        "ref_class": line["ref_class"],
        "date": midnight(line["date"]),
        "debit_account_id": line["debit_account_id"],
        "credit_account_id": line["credit_account_id"],
        "description": line["description"],
        "amount": json_number(amount),
        "currency_id": line["currency_id"],
        "currency_factor": json_number(factor),
        "base_currency_id": BASE_CURRENCY,
        "base_currency_amount": json_number((amount * factor).quantize(Decimal("0.01"))),
    }


def balances() -> dict[int, tuple[Decimal, Decimal]]:
    """account id -> (debit total, credit total) in the base currency."""
    totals: dict[int, list] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in store().all(KIND, company()):
        amount = to_decimal(line["amount"]) * to_decimal(line["currency_factor"])
        if line["debit_account_id"] is not None:
            totals[line["debit_account_id"]][0] += amount
        if line["credit_account_id"] is not None:
            totals[line["credit_account_id"]][1] += amount
    return {k: (v[0], v[1]) for k, v in totals.items()}


@bp.get("/3.0/accounting/journal")
def journal():
    """`from`, `to` (dates, inclusive), `account_uuid` (either side), `limit` (max 2000), `offset`."""
    start, end, uuid = (request.args.get(k) for k in ("from", "to", "account_uuid"))
    for value in (start, end):
        if value is not None and not DATE.match(value):
            raise ApiError(400, "Parameters are invalid")
    if uuid is not None and not UUID.match(uuid):
        raise ApiError(400, "Parameters are invalid")
    found = lines()
    if start:
        found = [line for line in found if line["date"] >= start]
    if end:
        found = [line for line in found if line["date"] <= end]
    if uuid:
        ids = {a["id"] for a in store().all("account", company()) if a.get("uuid") == uuid.lower()}
        found = [line for line in found if {line["debit_account_id"], line["credit_account_id"]} & ids]
    return respond([render(line) for line in paginate(found)])
