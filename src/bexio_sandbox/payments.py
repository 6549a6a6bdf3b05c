"""Invoice payments: `/2.0/kb_invoice/{id}/payment[/{pid}]` (list, show, create 201, delete). A payment
needs an open invoice (8, 16, 31), moves it to 16 (partially paid) or 9 (paid), and is booked bank ->
debtors (books.py); deleting one reverses that booking and the status."""

from __future__ import annotations

from flask import Blueprint

from . import books
from .clock import today
from .context import company, store
from .decimals import fixed6, parse_decimal, to_decimal
from .document_maths import compute
from .documents import load, save
from .listing import paginate
from .responses import ApiError, invalid, json_body, not_found, respond, success

bp = Blueprint("payments", __name__)

OPEN, PAID, PARTIAL = 8, 9, 16  # kb_item_status_id


def render_payment(pay: dict, fresh: bool) -> dict:
    out = {k: v for k, v in pay.items() if not k.startswith("_")}
    raw = pay.get("_raw")
    out["value"] = raw if fresh and raw is not None else fixed6(pay["value"])
    return out


def _status_after_payments(inv: dict) -> None:
    compute(inv)
    if inv["kb_item_status_id"] not in (OPEN, PARTIAL, PAID, 31):
        return
    remaining = to_decimal(inv["total_remaining_payments"])
    if not inv["payments"]:
        inv["kb_item_status_id"] = OPEN
    elif remaining <= 0:
        inv["kb_item_status_id"] = PAID
    else:
        inv["kb_item_status_id"] = PARTIAL


@bp.get("/2.0/kb_invoice/<int:id_>/payment")
def payment_list(id_):
    return respond(paginate([render_payment(p, False) for p in load(id_)["payments"]]))


@bp.get("/2.0/kb_invoice/<int:id_>/payment/<int:pid>")
def payment_show(id_, pid):
    pay = next((p for p in load(id_)["payments"] if p["id"] == pid), None)
    if pay is None:
        raise not_found()
    return respond(render_payment(pay, False), etag=True)


@bp.post("/2.0/kb_invoice/<int:id_>/payment")
def payment_create(id_):
    data = json_body()
    value, raw = parse_decimal(data.get("value"), "value", required=True)
    if value <= 0:
        raise invalid("value: This value should be greater than 0.")
    date = data.get("date") or today()
    bank = data.get("bank_account_id")
    if bank is not None and store().get("bank_account", company(), bank) is None:
        raise invalid("bank_account_id: This value is not valid.")
    if data.get("payment_service_id") not in (None, 1, 2, 3):
        raise invalid("payment_service_id: The value you selected is not a valid choice.")
    with store().tx():
        inv = load(id_)
        if inv["kb_item_status_id"] not in (OPEN, PARTIAL, 31):
            raise ApiError(422, "Payments can only be added to open invoices.")
        pay = add_payment(inv, value, raw, date, bank, data.get("payment_service_id"))
        save(inv)
    return respond(render_payment(pay, True), 201, etag=True)


def add_payment(inv: dict, value, raw, date, bank_account_id, payment_service_id=None) -> dict:
    """Append a received payment (API and office) and update the invoice's status."""
    pay = {
        "id": store().next_id("payment", company()),
        "date": str(date)[:10],
        "value": str(value),
        "bank_account_id": bank_account_id,
        "title": "Zahlungseingang",
        "payment_service_id": payment_service_id,
        "is_client_account_redemption": False,
        "is_cash_discount": False,
        "kb_invoice_id": inv["id"],
        "kb_credit_voucher_id": None,
        "kb_credit_voucher_text": "",
        "kb_bill_id": None,
        "_raw": raw,
    }
    inv["payments"].append(pay)
    books.book_payment(inv, pay)
    _status_after_payments(inv)
    return pay


@bp.delete("/2.0/kb_invoice/<int:id_>/payment/<int:pid>")
def payment_delete(id_, pid):
    with store().tx():
        inv = load(id_)
        pay = next((p for p in inv["payments"] if p["id"] == pid), None)
        if pay is None:
            raise not_found()
        inv["payments"].remove(pay)
        books.unbook_payment(pay)
        _status_after_payments(inv)
        save(inv)
    return success()
