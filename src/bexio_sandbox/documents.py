"""A kb document (invoice, quote, order, delivery) as stored and as answered: load and save (with its
maths), build a new one from a request, apply edits, render it in bexio's field order, and change its
status (an invoice's bookings follow: books.py). The routes are document_routes.py."""

from __future__ import annotations

import base64

from . import books
from .clock import now_v2, plus_days, today
from .context import company, get_or_404, store
from .decimals import fixed4, fixed6, shortest
from .doctypes import EDITABLE, INVOICE, REFS, DocType
from .document_maths import compute
from .positions import add_position, built_positions, render_position
from .responses import ApiError, invalid


def load(id_, kind: str = "kb_invoice") -> dict:
    return get_or_404(kind, id_)


def save(inv: dict, kind: str = "kb_invoice") -> dict:
    inv["updated_at"] = now_v2()
    compute(inv)
    store().put(kind, company(), inv["id"], inv)
    return inv


def render(inv: dict, mode: str = "read", positions: bool = True, dt: DocType = INVOICE) -> dict:
    """mode: read (normalised), create/copy (computed values in short form), edit."""
    short = mode in ("create", "copy", "edit")
    pay6 = mode != "create" and mode != "copy"
    out = {}
    for key in dt.fields:
        if key in ("total_gross", "total_net", "total"):
            out[key] = shortest(inv[key]) if short else fixed6(inv[key])
        elif key in ("total_taxes", "total_remaining_payments"):
            out[key] = fixed4(inv[key])
        elif key == "total_received_payments":
            out[key] = fixed6(inv[key]) if pay6 else shortest(inv[key])
        elif key == "total_credit_vouchers":
            out[key] = fixed6(0) if pay6 else "0"
        elif key == "positions":
            if positions:
                pmode = {"create": "create", "copy": "copy", "edit": "read"}.get(mode, "read")
                out[key] = [render_position(p, pmode) for p in inv["positions"]]
        elif key == "network_link":
            out[key] = inv.get("network_link", "")
        else:
            out[key] = inv.get(key)
    return out


def contact_address(contact: dict) -> str:
    name = (
        contact["name_1"]
        if contact["contact_type_id"] == 1
        else " ".join(x for x in (contact.get("name_2"), contact["name_1"]) if x)
    )
    lines = [name]
    if contact.get("address"):
        lines.append(contact["address"])
    place = " ".join(x for x in (contact.get("postcode"), contact.get("city")) if x)
    if place:
        lines.append(place)
    country = store().get("country", company(), contact["country_id"]) if contact.get("country_id") else None
    if country:
        lines.append(country["name"])
    return "\n".join(lines)


def _check_refs(doc: dict) -> list[str]:
    errors = []
    for key, kind in REFS:
        if doc.get(key) is not None and store().get(kind, company(), doc[key]) is None:
            errors.append(f"{key}: This value is not valid.")
    return errors


def apply_fields(inv: dict, data: dict, dt: DocType = INVOICE) -> None:
    errors = []
    if "document_nr" in data and data["document_nr"] not in (None, ""):
        errors.append("document_nr: The document number can not be set while automatic numbering is active.")
    for key in (*EDITABLE, *dt.extra_editable):
        if key in data:
            inv["project_id" if key == "pr_project_id" else key] = data[key]
    for key in ("is_valid_from", dt.valid_to):
        if key and isinstance(inv.get(key), str):
            inv[key] = inv[key][:10]
    if inv.get("contact_id") in (None, ""):
        errors.append("contact_id: This value should not be blank.")
    else:
        contact = store().get("contact", company(), inv["contact_id"])
        if contact is None:
            errors.append("contact_id: The contact does not exist.")
        else:
            inv["contact_address"] = data.get("contact_address_manual") or contact_address(contact)
            inv["_contact_name"] = contact["name_1"]
            if "delivery_address_type" in inv:
                inv["delivery_address"] = inv["contact_address"]
    if (
        inv.get("contact_sub_id") is not None
        and store().get("contact", company(), inv["contact_sub_id"]) is None
    ):
        errors.append("contact_sub_id: The contact does not exist.")
    if inv.get("user_id") in (None, ""):
        errors.append("user_id: This value should not be blank.")
    if inv.get("mwst_type") not in (0, 1, 2):
        errors.append("mwst_type: The value you selected is not a valid choice.")
    if inv.get("api_reference") is not None and (
        not isinstance(inv["api_reference"], str) or len(inv["api_reference"]) > 255
    ):
        errors.append("api_reference: This value is not valid.")
    errors += _check_refs(inv)
    if errors:
        raise invalid(*errors)


def new_document(data: dict, dt: DocType = INVOICE, positions: list[dict] | None = None) -> dict:
    """Validate and store a new document; `positions` (already built) replace `data["positions"]`."""
    inv = {
        "id": None,
        "document_nr": None,
        "title": None,
        "contact_id": None,
        "contact_sub_id": None,
        "user_id": None,
        "project_id": None,
        "logopaper_id": 1,
        "language_id": 1,
        "bank_account_id": 1,
        "currency_id": 1,
        "payment_type_id": 1,
        "header": None,
        "footer": None,
        "mwst_type": 0,
        "mwst_is_net": True,
        "show_position_taxes": False,
        "is_valid_from": today(),
        "contact_address": "",
        "kb_item_status_id": dt.created,
        "api_reference": None,
        "viewed_by_client_at": None,
        "template_slug": "",
        "positions": [],
        "network_link": "",
        **{k: (list(v) if isinstance(v, list) else v) for k, v in dt.defaults.items()},
    }
    if dt.valid_to:
        inv[dt.valid_to] = None
    apply_fields(inv, data, dt)
    if dt.valid_to and inv[dt.valid_to] is None:
        inv[dt.valid_to] = plus_days(inv["is_valid_from"], 30)
    user = store().get("user", company(), inv["user_id"]) or {"firstname": "", "lastname": ""}
    if inv["header"] is None:
        inv["header"] = dt.header.format(name=inv.get("_contact_name", ""))
    if inv["footer"] is None:
        inv["footer"] = dt.footer.format(firstname=user["firstname"], lastname=user["lastname"])
    built = built_positions(data, inv) if positions is None else positions
    inv["id"] = store().next_id(dt.kind, company())
    inv["document_nr"] = f"{dt.prefix}-{inv['id']:05d}"
    if dt is INVOICE:
        inv["esr_id"] = inv["qr_invoice_id"] = inv["id"]
    for p in built:
        add_position(inv, p)
    return save(inv, dt.kind)


def require(inv: dict, statuses: tuple[int, ...], action: str, dt: DocType = INVOICE) -> None:
    if inv["kb_item_status_id"] not in statuses:
        raise ApiError(422, f"The {dt.label} can not be {action} in its current status.")


def pdf_envelope(document_nr: str, data: bytes) -> dict:
    return {
        "name": f"{document_nr.lower()}.pdf",
        "size": len(data),
        "mime": "application/pdf",
        "content": base64.b64encode(data).decode(),
    }


def mark_sent(inv: dict, dt: DocType) -> None:
    """Marking a draft as sent issues it (as in bexio's web office); issued documents keep their status."""
    issue = dt.actions.get("issue")
    if issue and inv["kb_item_status_id"] == dt.created:
        set_status(inv, issue[1], dt)
    inv["sent"] = True


def set_status(inv: dict, new: int, dt: DocType = INVOICE) -> None:
    """Every status change of a document goes through here: an invoice's bookings follow its status."""
    old = inv["kb_item_status_id"]
    inv["kb_item_status_id"] = new
    if dt is INVOICE:
        books.on_status(inv, old, new)


def send_errors(data: dict) -> list[str]:
    """Validation of a send body (documents and reminders)."""
    required = ("recipient_email", "subject", "message")
    errors = [f"{k}: This value should not be blank." for k in required if not data.get(k)]
    if data.get("message") and "[Network Link]" not in data["message"]:
        errors.append("message: The message must contain [Network Link].")
    return errors


def source_fields(src: dict, target: DocType) -> dict:
    """The fields a copy or a converted document takes over from `src`: fresh dates, texts, reference."""
    fields = {k: src.get("project_id" if k == "pr_project_id" else k) for k in EDITABLE}
    fields.update({k: src.get(k) for k in target.extra_editable if k in src})
    fields.update({"api_reference": None, "is_valid_from": today(), "viewed_by_client_at": None})
    fields.update({"header": None, "footer": None})
    if target.valid_to:
        fields[target.valid_to] = None
    return fields
