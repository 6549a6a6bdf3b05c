"""Manual entries (`/3.0/accounting/manual_entries`, scope `accounting`), as bexio documents them:
list, create (201), update (PUT, 200), delete, `next_ref_nr`. bexio documents no "show one manual
entry" operation, so there is none here (GET /3.0/accounting/manual_entries/{id} is 404).

Types: `manual_single_entry` (one line with both accounts), `manual_group_entry` (several such
lines under one reference), `manual_compound_entry` (lines with one account each; the debit lines'
total must equal the credit lines' total). A line: `debit_account_id`, `credit_account_id`, `tax_id`,
`tax_account_id`, `description`, `amount` (> 0, at most 6 decimals), `currency_id` (default CHF),
`currency_factor` (default 1). With a `tax_id` the amount is gross: the account on the taxed side
(`tax_account_id`; by default the credit account for a sales tax, the debit account for an input tax)
takes the net amount and the tax's account the VAT (gross * rate / (100 + rate), to the cent), on
the same side. Entries dated in a closed business year are refused (and locked once there).
Validation errors are 422 in bexio's error shape.
"""

from __future__ import annotations

import re
from datetime import date as Date
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint

from . import journal
from .context import company, get_or_404, store, user_id
from .decimals import json_number, parse_decimal, to_decimal
from .listing import paginate
from .responses import ApiError, invalid, json_body, respond, success

bp = Blueprint("manual_entries", __name__)

KIND = "manual_entry"
TYPES = ("manual_single_entry", "manual_compound_entry", "manual_group_entry")
SINGLE, COMPOUND, GROUP = TYPES
BASE = "/3.0/accounting/manual_entries"
CLOSED = ("closed", "locked")


def business_year_status(day: str) -> str | None:
    for year in store().all("business_year", company()):
        if year["start"] <= day <= year["end"]:
            return year["status"]
    return None


def _taxed_side(tax: dict, line: dict) -> str:
    """Which side carries the tax: the side of tax_account_id, else credit for sales taxes."""
    wanted = line.get("tax_account_id")
    if wanted is not None:
        return "debit" if wanted == line["debit_account_id"] else "credit"
    preferred = "debit" if str(tax.get("type", "")).startswith("pre_") else "credit"
    other = "credit" if preferred == "debit" else "debit"
    return preferred if line[f"{preferred}_account_id"] is not None else other


def _line(raw, n: int, entry_type: str, errors: list[str]) -> dict:
    """One validated line (errors appended; a malformed number raises at once)."""
    where = f"entries[{n}]"
    if not isinstance(raw, dict):
        raise invalid(f"{where}: Each entry must be an object.")
    amount, _ = parse_decimal(raw.get("amount"), f"{where}.amount", required=True)
    factor, _ = parse_decimal(raw.get("currency_factor"), f"{where}.currency_factor", default="1")
    line = {
        "id": raw.get("id"),
        "debit_account_id": raw.get("debit_account_id"),
        "credit_account_id": raw.get("credit_account_id"),
        "tax_id": raw.get("tax_id"),
        "tax_account_id": raw.get("tax_account_id"),
        "description": raw.get("description") or "",
        "amount": amount,
        "currency_id": raw.get("currency_id") or journal.BASE_CURRENCY,
        "currency_factor": factor,
    }
    if amount <= 0:
        errors.append(f"{where}.amount: This value should be greater than 0.")
    if factor <= 0:
        errors.append(f"{where}.currency_factor: This value should be greater than 0.")
    if not isinstance(line["description"], str) or len(line["description"]) > 255:
        errors.append(f"{where}.description: This value is too long.")
    sides = [s for s in ("debit", "credit") if line[f"{s}_account_id"] is not None]
    if entry_type == COMPOUND and len(sides) != 1:
        errors.append(f"{where}: A line of a compound entry has either a debit or a credit account.")
    if entry_type != COMPOUND and len(sides) != 2:
        errors.append(f"{where}: A line of a {entry_type} needs a debit and a credit account.")
    if len(sides) == 2 and line["debit_account_id"] == line["credit_account_id"]:
        errors.append(f"{where}.credit_account_id: Debit and credit account must differ.")
    for side in sides:
        account = store().get("account", company(), line[f"{side}_account_id"])
        if account is None or not account.get("is_active", True):
            errors.append(f"{where}.{side}_account_id: This value is not valid.")
    if store().get("currency", company(), line["currency_id"]) is None:
        errors.append(f"{where}.currency_id: This value is not valid.")
    if line["tax_id"] is not None:
        tax = store().get("tax", company(), line["tax_id"])
        if tax is None or not tax["is_active"]:
            errors.append(f"{where}.tax_id: This value is not valid.")
        elif line["tax_account_id"] is not None and line["tax_account_id"] not in (
            line["debit_account_id"],
            line["credit_account_id"],
        ):
            errors.append(
                f"{where}.tax_account_id: The tax account must be the line's debit or credit account."
            )
        elif sides:
            line["tax_account_id"] = line[f"{_taxed_side(tax, line)}_account_id"]
    else:
        line["tax_account_id"] = None
    return line


def validate(data: dict) -> dict:
    """The entry a create/update body describes, or 422 listing every problem."""
    errors = []
    entry_type = data.get("type")
    if entry_type not in TYPES:
        raise invalid(f"type: The value you selected is not a valid choice ({', '.join(TYPES)}).")
    day = str(data.get("date") or "")
    try:
        Date.fromisoformat(day)
    except ValueError:
        errors.append("date: This value is not a valid date.")
    else:
        status = business_year_status(day)
        if status is None:
            errors.append("date: There is no business year for this date.")
        elif status in CLOSED:
            errors.append("date: The business year of this date is closed.")
    reference = data.get("reference_nr")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 80):
        errors.append("reference_nr: This value is too long. It should have 80 characters or less.")
    raw_lines = data.get("entries")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise invalid(*errors, "entries: This value should not be blank.")
    lines = [_line(raw, n, entry_type, errors) for n, raw in enumerate(raw_lines)]
    if entry_type == SINGLE and len(lines) != 1:
        errors.append("entries: A single entry has exactly one line.")
    if entry_type == COMPOUND and not errors:
        debit = sum((x["amount"] * x["currency_factor"] for x in lines if x["debit_account_id"]), Decimal(0))
        credit = sum(
            (x["amount"] * x["currency_factor"] for x in lines if x["credit_account_id"]), Decimal(0)
        )
        if debit != credit:
            errors.append(
                f"entries: The debit lines ({debit:f}) and the credit lines ({credit:f}) must balance."
            )
    if errors:
        raise invalid(*errors)
    return {"type": entry_type, "date": day, "reference_nr": reference or "", "entries": lines}


def journal_lines(line: dict) -> list[tuple[int | None, int | None, Decimal]]:
    """(debit, credit, amount) the journal gets for one line: net and VAT split on the taxed side."""
    debit, credit, gross = line["debit_account_id"], line["credit_account_id"], line["amount"]
    tax = store().get("tax", company(), line["tax_id"]) if line["tax_id"] is not None else None
    rate = to_decimal(tax["value"]) if tax else Decimal(0)
    if not rate:
        return [(debit, credit, gross)]
    vat = (gross * rate / (100 + rate)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    if line["tax_account_id"] == debit:
        return [(debit, credit, gross - vat), (tax["account_id"], credit, vat)]
    return [(debit, credit, gross - vat), (debit, tax["account_id"], vat)]


def _post(entry: dict) -> None:
    ids = []
    for line in entry["entries"]:
        for debit, credit, amount in journal_lines(line):
            ids.append(
                journal.book(
                    entry["date"],
                    debit,
                    credit,
                    amount,
                    line["description"],
                    currency_id=line["currency_id"],
                    currency_factor=line["currency_factor"],
                )
            )
    entry["_journal"] = [i for i in ids if i is not None]


def _store(entry: dict, by_user: int, previous: dict | None = None) -> dict:
    """Number the lines (keeping the ids of lines the update names), post to the journal, save."""
    known = {x["id"]: x for x in (previous or {}).get("entries", ())}
    for line in entry["entries"]:
        old = known.get(line["id"])
        if old is None:
            line["id"] = store().next_id("manual_entry_line", company())
        line["created_by_user_id"] = old["created_by_user_id"] if old else by_user
        line["edited_by_user_id"] = by_user
    entry["created_by_user_id"] = previous["created_by_user_id"] if previous else by_user
    entry["edited_by_user_id"] = by_user
    if previous:
        journal.remove(previous.get("_journal", []))
    _post(entry)
    for line in entry["entries"]:  # stored as decimal strings
        line["amount"], line["currency_factor"] = str(line["amount"]), str(line["currency_factor"])
    return store().put(KIND, company(), entry["id"], entry)


def create_entry(data: dict, by_user: int) -> dict:
    """Validate, store and post a new manual entry (API and office; inside the caller's transaction)."""
    entry = validate(data)
    entry["id"] = store().next_id(KIND, company())
    return _store(entry, by_user)


def render(entry: dict) -> dict:
    locked = business_year_status(entry["date"]) in CLOSED
    return {
        "id": entry["id"],
        "type": entry["type"],
        "date": entry["date"],
        "reference_nr": entry["reference_nr"],
        "created_by_user_id": entry["created_by_user_id"],
        "edited_by_user_id": entry["edited_by_user_id"],
        "entries": [
            {
                "id": x["id"],
                "date": entry["date"],
                "debit_account_id": x["debit_account_id"],
                "credit_account_id": x["credit_account_id"],
                "tax_id": x["tax_id"],
                "tax_account_id": x["tax_account_id"],
                "description": x["description"],
                "amount": json_number(x["amount"]),
                "currency_id": x["currency_id"],
                "base_currency_id": journal.BASE_CURRENCY,
                "currency_factor": json_number(x["currency_factor"]),
                "base_currency_amount": json_number(
                    (to_decimal(x["amount"]) * to_decimal(x["currency_factor"])).quantize(Decimal("0.01"))
                ),
                "created_by_user_id": x["created_by_user_id"],
                "edited_by_user_id": x["edited_by_user_id"],
            }
            for x in entry["entries"]
        ],
        "is_locked": locked,
        "locked_info": "closed_business_year" if locked else "none",
    }


def _entry(id_) -> dict:
    return get_or_404(KIND, id_)


def _unlocked(entry: dict) -> dict:
    if business_year_status(entry["date"]) in CLOSED:
        raise ApiError(422, "The manual entry is locked: its business year is closed.")
    return entry


def next_reference(entries: list[dict]) -> str:
    """The last entry's reference with its trailing number counted up ("BA-22" -> "BA-23"), else n + 1."""
    for entry in sorted(entries, key=lambda e: e["id"], reverse=True):
        match = re.search(r"(\d+)$", entry["reference_nr"] or "")
        if match:
            digits = match.group(1)
            return entry["reference_nr"][: match.start()] + str(int(digits) + 1).zfill(len(digits))
    return str(len(entries) + 1)


@bp.get(BASE)
def entry_list():
    return respond([render(e) for e in paginate(store().all(KIND, company()))])


@bp.post(BASE)
def entry_create():
    data = json_body()
    with store().tx():
        entry = create_entry(data, user_id())
    return respond(render(entry), 201)


@bp.put(f"{BASE}/<int:id_>")
def entry_update(id_):
    data = json_body()
    with store().tx():
        previous = _unlocked(_entry(id_))
        entry = validate({"type": previous["type"], **data})
        entry["id"] = id_
        entry = _store(entry, user_id(), previous)
    return respond(render(entry))


@bp.delete(f"{BASE}/<int:id_>")
def entry_delete(id_):
    with store().tx():
        entry = _unlocked(_entry(id_))
        journal.remove(entry.get("_journal", []))
        store().delete(KIND, company(), id_)
    return success()


@bp.get(f"{BASE}/next_ref_nr")
def next_ref_nr():
    return respond({"next_ref_nr": next_reference(store().all(KIND, company()))})
