"""The routes of the kb documents, one set per `DocType`: list, search, show, create (201), edit,
delete, pdf, the status actions, send, copy (201), conversions between types (201), and an order's
repetition."""

from __future__ import annotations

from flask import Blueprint, request

from .clock import today
from .context import company, store
from .doctypes import DELIVERY, INVOICE, OFFER, ORDER_BY, ORDER_DOC, DocType
from .documents import (
    apply_fields,
    load,
    mark_sent,
    new_document,
    pdf_envelope,
    render,
    require,
    save,
    send_errors,
    set_status,
    source_fields,
)
from .listing import order, paginate, search
from .pdf import invoice_pdf as make_pdf
from .positions import built_positions, copied_positions
from .responses import ApiError, invalid, json_body, not_found, respond, success
from .scopes import claim

bp = Blueprint("documents", __name__)
for _kind in ("kb_invoice", "kb_offer", "kb_order", "kb_delivery"):
    claim(f"/2.0/{_kind}", _kind)


def document_routes(dt: DocType, *, writable=True) -> None:
    """Routes of one type; `writable=False` (deliveries): list, show and the status actions only."""
    kind = dt.kind
    base = f"/2.0/{kind}"

    def route(rule, name, view, method):
        bp.add_url_rule(base + rule, f"{kind}_{name}", view, methods=[method])

    def do_list():
        items = order(store().all(kind, company()), ORDER_BY)
        return respond([render(i, positions=False, dt=dt) for i in paginate(items)])

    def do_search():
        found = order(search(store().all(kind, company()), dt.search_fields), ORDER_BY)
        return respond([render(i, positions=False, dt=dt) for i in paginate(found)])

    def do_show(id_):
        return respond(render(load(id_, kind), dt=dt), etag=True)

    def do_create():
        data = json_body()
        if "user_id" not in data:
            data["user_id"] = None
        with store().tx():
            inv = new_document(data, dt)
        return respond(render(inv, "create", dt=dt), 201, etag=True)

    def do_edit(id_):
        data = json_body()
        data.pop("positions", None)
        with store().tx():
            inv = load(id_, kind)
            require(inv, dt.editable, "edited", dt)
            apply_fields(inv, data, dt)
            save(inv, kind)
        return respond(render(inv, "edit", dt=dt), etag=True)

    def do_delete(id_):
        with store().tx():
            require(load(id_, kind), dt.editable, "deleted", dt)
            store().delete(kind, company(), id_)
        return success()

    def do_pdf(id_):
        inv = load(id_, kind)
        data = make_pdf(inv, store(), company(), request.args.get("logopaper", "1") != "0", kind=kind)
        return respond(pdf_envelope(inv["document_nr"], data))

    route("", "list", do_list, "GET")
    route("/<int:id_>", "show", do_show, "GET")
    if writable:
        route("/search", "search", do_search, "POST")
        route("", "create", do_create, "POST")
        route("/<int:id_>", "edit", do_edit, "POST")
        route("/<int:id_>", "delete", do_delete, "DELETE")
        route("/<int:id_>/pdf", "pdf", do_pdf, "GET")
    for action, (allowed, new) in dt.actions.items():
        route(f"/<int:id_>/{action}", action, _transition_view(dt, action, allowed, new), "POST")


PAST = {
    "issue": "issued",
    "revert_issue": "reverted",
    "revertIssue": "reverted",
    "cancel": "cancelled",
    "mark_as_sent": "marked as sent",
    "accept": "accepted",
    "reject": "rejected",
    "reissue": "reissued",
}


def _transition_view(dt: DocType, action: str, allowed: tuple[int, ...], new: int | None):
    def view(id_):
        with store().tx():
            inv = load(id_, dt.kind)
            require(inv, allowed, PAST.get(action, action), dt)
            if new == dt.created and inv.get("payments"):
                raise ApiError(422, f"The {dt.label} has payments and can not be reverted.")
            if action == "mark_as_sent":
                mark_sent(inv, dt)
            elif new is not None:
                set_status(inv, new, dt)
            save(inv, dt.kind)
        return success()

    return view


def send_view(dt: DocType):
    def view(id_):
        errors = send_errors(json_body())
        if errors:
            raise invalid(*errors)
        with store().tx():
            inv = load(id_, dt.kind)
            require(inv, dt.actions["mark_as_sent"][0], "sent", dt)
            mark_sent(inv, dt)
            page = dt.kind.removeprefix("kb_")
            inv["network_link"] = f"{request.host_url}_sandbox/office/{page}/{company()}/{id_}"
            save(inv, dt.kind)
        return success()

    bp.add_url_rule(f"/2.0/{dt.kind}/<int:id_>/send", f"{dt.kind}_send", view, methods=["POST"])


def copy_view(dt: DocType):
    def view(id_):
        data = json_body()
        if data.get("contact_id") in (None, ""):
            raise invalid("contact_id: This value should not be blank.")
        with store().tx():
            src = load(id_, dt.kind)
            fields = source_fields(src, dt)
            fields.update(
                {
                    "title": data.get("title", ""),
                    "contact_id": data["contact_id"],
                    "contact_sub_id": data.get("contact_sub_id"),
                    "is_valid_from": data.get("is_valid_from", today()),
                }
            )
            if "pr_project_id" in data:
                fields["pr_project_id"] = data["pr_project_id"]
            inv = new_document(fields, dt, positions=copied_positions(src))
        return respond(render(inv, "copy", dt=dt), 201, etag=True)

    bp.add_url_rule(f"/2.0/{dt.kind}/<int:id_>/copy", f"{dt.kind}_copy", view, methods=["POST"])


def convert_view(src_dt: DocType, target: DocType, mark: tuple[tuple[int, ...], int] | None = None):
    """`POST /2.0/kb_offer/{id}/order` etc.: a new document from the source's fields and positions
    (all of them, or the `positions` given). `mark`: (statuses, new status) for the source."""

    def view(id_):
        data = json_body()
        with store().tx():
            src = load(id_, src_dt.kind)
            fields = source_fields(src, target)
            if isinstance(data.get("positions"), list) and data["positions"]:
                positions = built_positions(data, {**src, "kb_item_status_id": target.created})
            else:
                positions = copied_positions(src)
            doc = new_document(fields, target, positions=positions)
            if mark and src["kb_item_status_id"] in mark[0]:
                set_status(src, mark[1], src_dt)
                save(src, src_dt.kind)
        return respond(render(doc, "copy", dt=target), 201, etag=True)

    name = target.kind.removeprefix("kb_")
    bp.add_url_rule(
        f"/2.0/{src_dt.kind}/<int:id_>/{name}", f"{src_dt.kind}_to_{name}", view, methods=["POST"]
    )


document_routes(INVOICE)
document_routes(OFFER)
document_routes(ORDER_DOC)
document_routes(DELIVERY, writable=False)
for _dt in (INVOICE, OFFER):
    send_view(_dt)
    copy_view(_dt)
convert_view(OFFER, ORDER_DOC, mark=((1, 2), 3))
convert_view(OFFER, INVOICE, mark=((1, 2), 3))
convert_view(ORDER_DOC, INVOICE)
convert_view(ORDER_DOC, DELIVERY)


# order repetition ---------------------------------------------------------------------------------
REPETITION_TYPES = {"daily", "weekly", "monthly", "yearly"}


@bp.get("/2.0/kb_order/<int:id_>/repetition")
def order_repetition_show(id_):
    rep = load(id_, "kb_order").get("repetition")
    if rep is None:
        raise not_found()
    return respond(rep)


@bp.post("/2.0/kb_order/<int:id_>/repetition")
def order_repetition_edit(id_):
    data = json_body()
    rep = data.get("repetition")
    errors = []
    if not data.get("start"):
        errors.append("start: This value should not be blank.")
    if not isinstance(rep, dict) or rep.get("type") not in REPETITION_TYPES:
        errors.append("repetition: The type must be one of daily, weekly, monthly, yearly.")
    elif not isinstance(rep.get("interval"), int) or rep["interval"] < 1:
        errors.append("repetition.interval: This value should be greater than 0.")
    if errors:
        raise invalid(*errors)
    with store().tx():
        inv = load(id_, "kb_order")
        inv["repetition"] = {"start": str(data["start"])[:10], "end": data.get("end"), "repetition": rep}
        inv["is_recurring"] = True
        save(inv, "kb_order")
    return respond(inv["repetition"])


@bp.delete("/2.0/kb_order/<int:id_>/repetition")
def order_repetition_delete(id_):
    with store().tx():
        inv = load(id_, "kb_order")
        if inv.get("repetition") is None:
            raise not_found()
        inv["repetition"] = None
        inv["is_recurring"] = False
        save(inv, "kb_order")
    return success()
