"""Contacts (`/2.0/contact`, scope contact): list, search, show (with the profile image), create 201,
edit (POST), delete = archive, PATCH restore, `_bulk_create` 201. Numbers `000001`; the address is made
of `street_name` + `house_number` (older clients may still send `address`); `titel_id` is the input
name of `title_id` (as bexio reads it)."""

from __future__ import annotations

from flask import Blueprint, request

from . import seed
from .clock import now_v2
from .context import company, get_or_404, store
from .listing import order, paginate, search
from .responses import invalid, json_body, not_found, respond, success
from .scopes import claim

bp = Blueprint("contacts", __name__)
claim("/2.0/contact", "contact")

CONTACT_FIELDS = (  # answer keys in bexio's order (+ profile_image on show, updated_at last)
    "id nr contact_type_id name_1 name_2 salutation_id salutation_form title_id birthday address "
    "street_name house_number address_addition postcode city country_id mail mail_second phone_fixed "
    "phone_fixed_second phone_mobile fax url skype_name remarks language_id is_lead contact_group_ids "
    "contact_branch_ids user_id owner_id"
).split()
CONTACT_STRINGS = (  # "" rather than null when not given
    "name_2 postcode city mail mail_second phone_fixed phone_fixed_second phone_mobile fax url "
    "skype_name remarks"
).split()
CONTACT_SEARCH = tuple(
    "id name_1 name_2 nr address mail mail_second postcode city country_id contact_group_ids "
    "contact_type_id updated_at user_id phone_fixed phone_mobile fax".split()
)


def contact_view(doc: dict, *, with_image: bool) -> dict:
    out = {k: doc.get(k) for k in CONTACT_FIELDS}
    if with_image:
        out["profile_image"] = seed.profile_image()
    out["updated_at"] = doc["updated_at"]
    return out


def _ref_exists(kind: str, value) -> bool:
    return value is None or store().get(kind, company(), value) is not None


def _apply_contact(data: dict, doc: dict, creating: bool) -> dict:
    errors = []
    if "titel_id" in data:
        data = {**data, "title_id": data["titel_id"]}
    for key in CONTACT_FIELDS[2:]:
        if key in data and key not in ("address",):
            doc[key] = data[key]
    if "address" in data and not any(k in data for k in ("street_name", "house_number")):
        doc["address"] = data["address"]  # older clients still send the free-text address
    for key in ("contact_type_id", "name_1", "user_id", "owner_id"):
        if doc.get(key) in (None, ""):
            errors.append(f"{key}: This value should not be blank.")
    if doc.get("contact_type_id") not in (None, "", 1, 2):
        errors.append("contact_type_id: The value you selected is not a valid choice.")
    for key, kind in (
        ("country_id", "country"),
        ("language_id", "language"),
        ("salutation_id", "salutation"),
        ("title_id", "title"),
    ):
        if doc.get(key) not in (None, 0) and not _ref_exists(kind, doc.get(key)):
            errors.append(f"{key}: This value is not valid.")
    for key in ("user_id", "owner_id"):
        if doc.get(key) not in (None, "") and not _ref_exists("user", doc.get(key)):
            errors.append(f"{key}: This value is not valid.")
    groups = doc.get("contact_group_ids")
    if groups not in (None, ""):
        ids = [g_.strip() for g_ in str(groups).split(",") if g_.strip()]
        if any(not g_.isdigit() or not _ref_exists("contact_group", int(g_)) for g_ in ids):
            errors.append("contact_group_ids: This value is not valid.")
        doc["contact_group_ids"] = ",".join(ids) or None
    if (doc.get("house_number") or doc.get("address_addition")) and not doc.get("street_name"):
        errors.append("street_name: This value should not be blank.")
    for key in ("name_1", "name_2"):
        if doc.get(key) is not None and len(str(doc[key])) > 255:
            errors.append(f"{key}: This value is too long.")
    if errors:
        raise invalid(*errors)
    if any(k in data for k in ("street_name", "house_number")) or (creating and doc.get("street_name")):
        street = " ".join(str(x) for x in (doc.get("street_name"), doc.get("house_number")) if x)
        doc["address"] = street or None
    doc["updated_at"] = now_v2()
    return doc


def _new_contact(data: dict) -> dict:
    doc = {k: None for k in CONTACT_FIELDS}
    doc.update({k: "" for k in CONTACT_STRINGS})
    doc["is_lead"] = False
    doc["is_archived"] = False
    doc = _apply_contact(data, doc, creating=True)
    for k in CONTACT_STRINGS:
        if doc.get(k) is None:
            doc[k] = ""
    doc["id"] = store().next_id("contact", company())
    if data.get("nr") in (None, ""):
        doc["nr"] = f"{store().next_id('contact_nr', company()):06d}"
    else:
        doc["nr"] = str(data["nr"])
    store().put("contact", company(), doc["id"], doc)
    return doc


def _contacts(include_archived: bool) -> list[dict]:
    return [c for c in store().all("contact", company()) if include_archived or not c.get("is_archived")]


def _show_archived() -> bool:
    return request.args.get("show_archived", "false").lower() in ("1", "true")


@bp.get("/2.0/contact")
def contact_list():
    items = [contact_view(c, with_image=False) for c in _contacts(_show_archived())]
    return respond(paginate(order(items, ("id", "nr", "name_1", "updated_at"))))


@bp.post("/2.0/contact/search")
def contact_search():
    items = [contact_view(c, with_image=False) for c in _contacts(_show_archived())]
    return respond(paginate(order(search(items, CONTACT_SEARCH), ("id", "nr", "name_1", "updated_at"))))


def _contact_or_404(id_, include_archived=False) -> dict:
    doc = get_or_404("contact", id_)
    if doc.get("is_archived") and not include_archived:
        raise not_found()
    return doc


@bp.get("/2.0/contact/<int:id_>")
def contact_show(id_):
    return respond(contact_view(_contact_or_404(id_, _show_archived()), with_image=True), etag=True)


@bp.post("/2.0/contact")
def contact_create():
    data = json_body()
    with store().tx():
        doc = _new_contact(data)
    return respond(contact_view(doc, with_image=True), 201, etag=True)


@bp.post("/2.0/contact/_bulk_create")
def contact_bulk_create():
    rows = json_body(list)
    with store().tx():
        docs = [_new_contact(r if isinstance(r, dict) else {}) for r in rows]
    return respond([contact_view(d, with_image=False) for d in docs], 201)


@bp.post("/2.0/contact/<int:id_>")
def contact_edit(id_):
    data = json_body()
    with store().tx():
        doc = _apply_contact(data, _contact_or_404(id_), creating=False)
        if "nr" in data and data["nr"] not in (None, ""):
            doc["nr"] = str(data["nr"])
        store().put("contact", company(), id_, doc)
    return respond(contact_view(doc, with_image=True), etag=True)


@bp.delete("/2.0/contact/<int:id_>")
def contact_delete(id_):
    with store().tx():
        doc = _contact_or_404(id_)
        doc["is_archived"] = True
        doc["updated_at"] = now_v2()
        store().put("contact", company(), id_, doc)
    return success()


@bp.patch("/2.0/contact/<int:id_>/restore")
def contact_restore(id_):
    with store().tx():
        doc = get_or_404("contact", id_)
        doc["is_archived"] = False
        doc["updated_at"] = now_v2()
        store().put("contact", company(), id_, doc)
    return success()
