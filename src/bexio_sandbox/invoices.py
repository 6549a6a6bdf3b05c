"""kb_invoice specifics: payments and reminders (`/2.0/kb_invoice/{id}/payment`, `…/kb_reminder`).
The invoice itself (list, show, create, actions, positions, PDF) is the generic kb document in
`documents.py`."""

from __future__ import annotations

from flask import Blueprint, g, request

from . import books
from .common import (
    ApiError,
    D,
    company,
    dec,
    f4,
    f6,
    invalid,
    json_body,
    not_found,
    order,
    paginate,
    plus_days,
    respond,
    search,
    success,
    today,
)
from .documents import compute, load, pdf_envelope, save, send_errors, store

bp = Blueprint("invoices", __name__)

DRAFT, OPEN, PAID, PARTIAL, CANCELLED = 7, 8, 9, 16, 19


# payments -----------------------------------------------------------------------------------------
def render_payment(pay: dict, fresh: bool) -> dict:
    out = {k: v for k, v in pay.items() if not k.startswith("_")}
    raw = pay.get("_raw")
    out["value"] = raw if fresh and raw is not None else f6(pay["value"])
    return out


def _status_after_payments(inv: dict) -> None:
    compute(inv)
    if inv["kb_item_status_id"] not in (OPEN, PARTIAL, PAID, 31):
        return
    remaining = D(inv["total_remaining_payments"])
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
    value, raw = dec(data.get("value"), "value", required=True)
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


# reminders ----------------------------------------------------------------------------------------
REMINDER_SEARCH = ("title", "reminder_level", "is_sent", "is_valid_from", "is_valid_to")
REMINDER_PERIOD_DAYS = 14
REMINDER_FIELDS = (
    "id",
    "kb_invoice_id",
    "title",
    "is_valid_from",
    "is_valid_to",
    "reminder_period_in_days",
    "reminder_level",
    "show_positions",
    "remaining_price",
    "received_total",
    "is_sent",
    "header",
    "footer",
)


def _reminders(id_) -> list[dict]:
    load(id_)  # 404 for an unknown invoice
    return sorted(
        (r for r in store().all("kb_reminder", company()) if r["kb_invoice_id"] == id_), key=lambda r: r["id"]
    )


def _reminder(id_, rid) -> dict:
    rem = next((r for r in _reminders(id_) if r["id"] == rid), None)
    if rem is None:
        raise not_found()
    return rem


def _put_reminder(rem: dict) -> dict:
    return store().put("kb_reminder", company(), rem["id"], rem)


@bp.get("/2.0/kb_invoice/<int:id_>/kb_reminder")
def reminder_list(id_):
    return respond(paginate(order(_reminders(id_), ("id", "reminder_level", "is_valid_from"))))


@bp.post("/2.0/kb_invoice/<int:id_>/kb_reminder/search")
def reminder_search(id_):
    found = search(_reminders(id_), REMINDER_SEARCH)
    return respond(paginate(order(found, ("id", "reminder_level", "is_valid_from"))))


@bp.get("/2.0/kb_invoice/<int:id_>/kb_reminder/<int:rid>")
def reminder_show(id_, rid):
    return respond(_reminder(id_, rid))


@bp.post("/2.0/kb_invoice/<int:id_>/kb_reminder")
def reminder_create(id_):
    """The next reminder level for an issued, unpaid invoice (400 otherwise, as documented)."""
    with store().tx():
        inv = load(id_)
        if inv["kb_item_status_id"] not in (OPEN, PARTIAL, 31):
            raise ApiError(400, "Reminders can only be created for open invoices.")
        level = len(_reminders(id_)) + 1
        start = today()
        rem = {
            "id": store().next_id("kb_reminder", company()),
            "kb_invoice_id": id_,
            "title": f"{level}. Mahnung",
            "is_valid_from": start,
            "is_valid_to": plus_days(start, REMINDER_PERIOD_DAYS),
            "reminder_period_in_days": REMINDER_PERIOD_DAYS,
            "reminder_level": level,
            "show_positions": True,
            "remaining_price": f4(inv["total_remaining_payments"]),
            "received_total": f4(inv["total_received_payments"]),
            "is_sent": False,
            "header": None,
            "footer": None,
        }
        _put_reminder(rem)
    return respond(rem, 201)


@bp.delete("/2.0/kb_invoice/<int:id_>/kb_reminder/<int:rid>")
def reminder_delete(id_, rid):
    """bexio deletes only the most recent reminder."""
    with store().tx():
        rem = _reminder(id_, rid)
        if rem["id"] != _reminders(id_)[-1]["id"]:
            raise ApiError(422, "Only the most recent reminder can be deleted.")
        store().delete("kb_reminder", company(), rid)
    return success()


def _set_sent(id_, rid, sent: bool):
    with store().tx():
        rem = _reminder(id_, rid)
        rem["is_sent"] = sent
        _put_reminder(rem)
    return success()


@bp.post("/2.0/kb_invoice/<int:id_>/kb_reminder/<int:rid>/mark_as_sent")
def reminder_mark_as_sent(id_, rid):
    return _set_sent(id_, rid, True)


@bp.post("/2.0/kb_invoice/<int:id_>/kb_reminder/<int:rid>/mark_as_unsent")
def reminder_mark_as_unsent(id_, rid):
    return _set_sent(id_, rid, False)


@bp.post("/2.0/kb_invoice/<int:id_>/kb_reminder/<int:rid>/send")
def reminder_send(id_, rid):
    errors = send_errors(json_body())
    if errors:
        raise invalid(*errors)
    return _set_sent(id_, rid, True)


@bp.get("/2.0/kb_invoice/<int:id_>/kb_reminder/<int:rid>/pdf")
def reminder_pdf(id_, rid):
    from .pdf import invoice_pdf as make_pdf

    rem = _reminder(id_, rid)
    inv = load(id_)
    label = rem["title"]
    data = make_pdf(inv, store(), company(), request.args.get("logopaper", "1") != "0", label=label)
    return respond(pdf_envelope(f"{inv['document_nr']}-{rem['reminder_level']}", data))


def user_id_default() -> int:
    return g.claims["user_id"]
