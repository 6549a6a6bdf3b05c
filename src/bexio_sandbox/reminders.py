"""Invoice reminders: `/2.0/kb_invoice/{id}/kb_reminder[/{rid}]` (list, search, show, create 201 = the
next level "N. Mahnung", only for open invoices (else 400), delete (only the most recent), send,
mark_as_sent, mark_as_unsent, pdf)."""

from __future__ import annotations

from flask import Blueprint, request

from .clock import plus_days, today
from .context import company, store
from .decimals import fixed4
from .documents import load, pdf_envelope, send_errors
from .listing import order, paginate, search
from .payments import OPEN, PARTIAL
from .pdf import invoice_pdf as make_pdf
from .responses import ApiError, invalid, json_body, not_found, respond, success

bp = Blueprint("reminders", __name__)

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
            "remaining_price": fixed4(inv["total_remaining_payments"]),
            "received_total": fixed4(inv["total_received_payments"]),
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
    rem = _reminder(id_, rid)
    inv = load(id_)
    label = rem["title"]
    data = make_pdf(inv, store(), company(), request.args.get("logopaper", "1") != "0", label=label)
    return respond(pdf_envelope(f"{inv['document_nr']}-{rem['reminder_level']}", data))
