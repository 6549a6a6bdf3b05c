"""Further documented endpoints, emulated generically (plain documents): contact relations and
additional addresses, sectors, notes, fictional users, permissions, accounting years, lookup lists."""

from __future__ import annotations

from flask import Blueprint, g, request

from .common import (
    company,
    invalid,
    json_body,
    not_found,
    now_v2,
    order,
    paginate,
    respond,
    sb,
    search,
    success,
)

bp = Blueprint("extra", __name__)


def _items(kind: str, parent=None) -> list[dict]:
    items = sb().store.all(kind, company())
    if parent is not None:
        items = [i for i in items if i.get("_parent") == parent]
    return items


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def resource(
    path: str,
    kind: str,
    defaults: dict,
    *,
    required=(),
    search_fields=(),
    order_fields=("id",),
    v3=False,
    edit_methods=("POST",),
    create=True,
    nested: str | None = None,
    stamp=True,
    refs=(),
    compose=None,
):
    """CRUD + search for `path` (may contain `<int:parent>` when `nested` names the parent kind).
    `refs`: (field, kind) pairs that must name an existing document; `compose(doc, data)` derives fields."""

    def parent_of(kw):
        parent = kw.get("parent")
        if nested and sb().store.get(nested, company(), parent) is None:
            raise not_found()
        return parent

    def do_list(**kw):
        items = [_public(d) for d in _items(kind, parent_of(kw))]
        page = paginate(order(items, order_fields))
        headers = (
            {
                "x-total-count": str(len(items)),
                "x-limit": request.args.get("limit", "500"),
                "x-offset": request.args.get("offset", "0"),
            }
            if v3
            else None
        )
        return respond(page, headers=headers)

    def do_search(**kw):
        items = [_public(d) for d in _items(kind, parent_of(kw))]
        return respond(paginate(order(search(items, search_fields), order_fields)))

    def load(kw):
        parent = parent_of(kw)
        doc = sb().store.get(kind, company(), kw["id_"])
        if doc is None or (nested and doc.get("_parent") != parent):
            raise not_found()
        return doc

    def do_show(**kw):
        return respond(_public(load(kw)))

    def apply(doc, data):
        for key in defaults:
            if key in data and key not in ("id", "updated_at"):
                doc[key] = data[key]
        errors = [f"{k}: This value should not be blank." for k in required if doc.get(k) in (None, "")]
        errors += [
            f"{k}: This value is not valid."
            for k, ref in refs
            if doc.get(k) not in (None, "") and sb().store.get(ref, company(), doc[k]) is None
        ]
        if errors:
            raise invalid(*errors)
        if compose:
            compose(doc, data)
        if stamp and "updated_at" in doc:
            doc["updated_at"] = now_v2()
        return doc

    def do_create(**kw):
        data = json_body()
        with sb().store.tx():
            parent = parent_of(kw)
            doc = apply({**defaults}, data)
            doc["id"] = sb().store.next_id(kind, company())
            if nested:
                doc["_parent"] = parent
            sb().store.put(kind, company(), doc["id"], doc)
        return respond(_public(doc), 201)

    def do_edit(**kw):
        data = json_body()
        with sb().store.tx():
            doc = apply(load(kw), data)
            sb().store.put(kind, company(), doc["id"], doc)
        return respond(_public(doc))

    def do_delete(**kw):
        with sb().store.tx():
            doc = load(kw)
            sb().store.delete(kind, company(), doc["id"])
        return success()

    bp.add_url_rule(path, f"{kind}_list", do_list, methods=["GET"])
    if search_fields:
        bp.add_url_rule(f"{path}/search", f"{kind}_search", do_search, methods=["POST"])
    bp.add_url_rule(f"{path}/<int:id_>", f"{kind}_show", do_show, methods=["GET"])
    if create:
        bp.add_url_rule(path, f"{kind}_create", do_create, methods=["POST"])
        bp.add_url_rule(f"{path}/<int:id_>", f"{kind}_edit", do_edit, methods=list(edit_methods))
        bp.add_url_rule(f"{path}/<int:id_>", f"{kind}_delete", do_delete, methods=["DELETE"])


def _street_address(doc: dict, data: dict) -> None:
    """As on contacts: street_name + house_number make `address`; a plain `address` is kept otherwise."""
    if any(k in data for k in ("street_name", "house_number")):
        street = " ".join(str(x) for x in (doc.get("street_name"), doc.get("house_number")) if x)
        doc["address"] = street or None


resource(
    "/2.0/contact_relation",
    "contact_relation",
    {"id": None, "contact_id": None, "contact_sub_id": None, "description": "", "updated_at": None},
    required=("contact_id", "contact_sub_id"),
    search_fields=("contact_id", "contact_sub_id", "updated_at"),
    order_fields=("id", "contact_id", "contact_sub_id", "updated_at"),
    refs=(("contact_id", "contact"), ("contact_sub_id", "contact")),
)
resource(
    "/2.0/contact/<int:parent>/additional_address",
    "additional_address",
    {
        "id": None,
        "name": None,
        "address": None,
        "street_name": None,
        "house_number": None,
        "address_addition": None,
        "postcode": None,
        "city": None,
        "country_id": None,
        "subject": None,
        "description": None,
    },
    required=("name",),
    search_fields=("name", "address", "postcode", "city", "country_id", "subject", "email"),
    order_fields=("id", "name", "postcode", "country_id"),
    nested="contact",
    stamp=False,
    refs=(("country_id", "country"),),
    compose=_street_address,
)
resource(
    "/2.0/contact_branch",
    "contact_branch",
    {"id": None, "name": None},
    search_fields=("name",),
    order_fields=("id", "name"),
    create=False,
)
resource(
    "/2.0/note",
    "note",
    {
        "id": None,
        "user_id": None,
        "event_start": None,
        "subject": None,
        "info": None,
        "contact_id": None,
        "project_id": None,
        "entry_id": None,
        "module_id": None,
    },
    required=("user_id", "event_start", "subject"),
    search_fields=("event_start", "contact_id", "user_id", "subject", "module_id", "entry_id"),
)
resource(
    "/3.0/fictional_users",
    "fictional_user",
    {
        "id": None,
        "salutation_type": "male",
        "firstname": None,
        "lastname": None,
        "email": None,
        "title_id": None,
    },
    required=("salutation_type", "firstname", "lastname", "email"),
    v3=True,
    edit_methods=("PATCH",),
)
resource(
    "/2.0/communication_kind",
    "communication_kind",
    {"id": None, "name": None},
    search_fields=("name",),
    create=False,
)


@bp.get("/3.0/permissions")
def permissions():
    user = sb().user_by_sub(g.claims["sub"])
    rights = set(user["memberships"][company()]["rights"]) if user else set()
    components = ["contact", "kb_invoice", "kb_offer", "kb_order", "kb_delivery", "article", "bank_account"]
    components.append("accounting")
    perms = {
        c: {
            "activation": c in rights,
            "edit": "all" if c in rights else "none",
            "show": "all" if c in rights else "none",
        }
        for c in components
    }
    return respond({"components": [c for c in components if c in rights], "permissions": perms})


def _lookup(path: str, kind: str, names: list[str]) -> None:
    def do_list():
        return respond(paginate([{"id": i, "name": n} for i, n in enumerate(names, start=1)]))

    bp.add_url_rule(path, f"{kind}_lookup", do_list, methods=["GET"])


_lookup("/2.0/todo_priority", "todo_priority", ["Tief", "Normal", "Hoch"])
_lookup("/2.0/todo_status", "todo_status", ["Offen", "In Arbeit", "Erledigt"])
_lookup("/2.0/timesheet_status", "timesheet_status", ["Offen", "Abgerechnet"])
_lookup("/2.0/pr_project_state", "pr_project_state", ["Offen", "Aktiv", "Archiviert"])
_lookup("/2.0/pr_project_type", "pr_project_type", ["Intern", "Kundenprojekt"])


@bp.get("/2.0/kb_item_setting")
def kb_item_setting():
    return respond(
        [
            {"id": 1, "kb_item_class": "KbInvoice", "default_time_period_in_days": 30},
            {"id": 2, "kb_item_class": "KbOffer", "default_time_period_in_days": 30},
        ]
    )


def seed_extra(store, comp: str) -> None:
    for i, name in enumerate(["Luftfahrt", "Ausbildung", "Handel", "Dienstleistungen"], start=1):
        store.put("contact_branch", comp, i, {"id": i, "name": name})
    for i, name in enumerate(["Telefon", "E-Mail", "Brief"], start=1):
        store.put("communication_kind", comp, i, {"id": i, "name": name})
