"""bexio's regular resources, declared: one `Resource` per path says its fields (answer keys with their
create defaults), which operations it has, what it searches and orders by, what a write requires and
which references must exist, and its scope area (scopes.py). `register` turns the table into routes:

    list    GET    {path}                (limit/offset, order_by; x-total-count… on `v3` lists)
    search  POST   {path}/search
    show    GET    {path}/<int:id_>      (etag when `etag`)
    create  POST   {path}                -> 201
    edit    POST   {path}/<int:id_>      (PATCH on 3.0: `edit_method`)
    delete  DELETE {path}/<int:id_>      -> {"success": true}

A resource with behaviour of its own is written by hand beside this table (contacts.py, articles.py,
masterdata.py, accounting.py, the kb documents); it may still take its plain operations from here.
Rate limits are not declared here: ratelimit.py is the one table of buckets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint

from .clock import now_v2
from .context import company, store
from .listing import list_response, order, paginate, search
from .responses import invalid, json_body, not_found, respond, success
from .scopes import claim

bp = Blueprint("resources", __name__)

CRUD = ("list", "show", "create", "edit", "delete", "search")
READ = ("list", "show")


@dataclass(frozen=True)
class Resource:
    path: str  # the collection's Flask rule; `<int:parent>` for a resource below another
    kind: str  # documents of this kind in the store
    fields: dict = field(default_factory=dict)  # answer keys in bexio's order -> default on create
    ops: tuple[str, ...] = CRUD
    search: tuple[str, ...] = ()  # fields a search may name (else 422)
    order: tuple[str, ...] = ("id",)  # fields order_by may name; () = order_by is ignored
    required: tuple[str, ...] = ()
    refs: tuple[tuple[str, str], ...] = ()  # (field, kind) that must name an existing document
    inputs: dict = field(default_factory=dict)  # input name -> field, where bexio's input differs
    edit_method: str = "POST"
    v3: bool = False  # x-total-count, x-limit, x-offset on the list
    default_limit: int = 500
    etag: bool = False  # etag on show
    parent: str | None = None  # kind of the parent document (`<int:parent>` in the path)
    scope: str | None = None  # scopes.AREAS key; None = any valid token
    compose: Callable[[dict, dict], None] | None = None  # derive fields after a write
    stamp: bool = False  # set updated_at on writes


def public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def register(res: Resource) -> None:
    """Routes for one declared resource."""

    def items(kw) -> list[dict]:
        parent = parent_of(kw)
        docs = store().all(res.kind, company())
        return [public(d) for d in docs if res.parent is None or d.get("_parent") == parent]

    def parent_of(kw):
        parent = kw.get("parent")
        if res.parent and store().get(res.parent, company(), parent) is None:
            raise not_found()
        return parent

    def load(kw) -> dict:
        parent = parent_of(kw)
        doc = store().get(res.kind, company(), kw["id_"])
        if doc is None or (res.parent and doc.get("_parent") != parent):
            raise not_found()
        return doc

    def apply(doc: dict, data: dict) -> dict:
        for key in res.fields:
            if key in data and key not in ("id", "updated_at"):
                doc[key] = data[key]
        for name, key in res.inputs.items():
            if name in data:
                doc[key] = data[name]
        names = {key: name for name, key in res.inputs.items()}
        errors = [
            f"{names.get(k, k)}: This value should not be blank."
            for k in res.required
            if doc.get(k) in (None, "")
        ]
        errors += [
            f"{k}: This value is not valid."
            for k, kind in res.refs
            if doc.get(k) not in (None, "") and store().get(kind, company(), doc[k]) is None
        ]
        if errors:
            raise invalid(*errors)
        if res.compose:
            res.compose(doc, data)
        if res.stamp and "updated_at" in doc:
            doc["updated_at"] = now_v2()
        return doc

    def do_list(**kw):
        return list_response(items(kw), order_fields=res.order, default_limit=res.default_limit, v3=res.v3)

    def do_search(**kw):
        found = search(items(kw), res.search)
        return respond(paginate(order(found, res.order) if res.order else found))

    def do_show(**kw):
        return respond(public(load(kw)), etag=res.etag)

    def do_create(**kw):
        data = json_body()
        with store().tx():
            parent = parent_of(kw)
            doc = apply(dict(res.fields), data)
            doc["id"] = store().next_id(res.kind, company())
            if res.parent:
                doc["_parent"] = parent
            store().put(res.kind, company(), doc["id"], doc)
        return respond(public(doc), 201)

    def do_edit(**kw):
        data = json_body()
        with store().tx():
            doc = apply(load(kw), data)
            store().put(res.kind, company(), doc["id"], doc)
        return respond(public(doc))

    def do_delete(**kw):
        with store().tx():
            store().delete(res.kind, company(), load(kw)["id"])
        return success()

    one = f"{res.path}/<int:id_>"
    routes = {
        "list": (res.path, "GET", do_list),
        "search": (f"{res.path}/search", "POST", do_search),
        "show": (one, "GET", do_show),
        "create": (res.path, "POST", do_create),
        "edit": (one, res.edit_method, do_edit),
        "delete": (one, "DELETE", do_delete),
    }
    for op in res.ops:
        rule, method, view = routes[op]
        bp.add_url_rule(rule, f"{res.kind}_{op}", view, methods=[method])
    if res.scope:
        claim(res.path, res.scope)


def street_address(doc: dict, data: dict) -> None:
    """As on contacts: street_name + house_number make `address`; a plain `address` is kept otherwise."""
    if any(k in data for k in ("street_name", "house_number")):
        street = " ".join(str(x) for x in (doc.get("street_name"), doc.get("house_number")) if x)
        doc["address"] = street or None


NAME = {"id": None, "name": None}


def named(path: str, kind: str, scope: str | None = None) -> Resource:
    """`{"id", "name"}` with every operation, searched and ordered by name (units, groups, titles, ...)."""
    return Resource(path, kind, NAME, search=("name",), order=("id", "name"), required=("name",), scope=scope)


LIST_SEARCH = ("list", "search")
ADDRESS = {
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
}

RESOURCES = [
    # contacts and their master data (scope contact)
    named("/2.0/contact_group", "contact_group", scope="contact"),
    named("/2.0/salutation", "salutation", scope="contact"),
    named("/2.0/title", "title", scope="contact"),
    Resource(
        "/2.0/contact_relation",
        "contact_relation",
        {"id": None, "contact_id": None, "contact_sub_id": None, "description": "", "updated_at": None},
        search=("contact_id", "contact_sub_id", "updated_at"),
        order=("id", "contact_id", "contact_sub_id", "updated_at"),
        required=("contact_id", "contact_sub_id"),
        refs=(("contact_id", "contact"), ("contact_sub_id", "contact")),
        scope="contact",
        stamp=True,
    ),
    Resource(
        "/2.0/contact/<int:parent>/additional_address",
        "additional_address",
        ADDRESS,
        search=("name", "address", "postcode", "city", "country_id", "subject", "email"),
        order=("id", "name", "postcode", "country_id"),
        required=("name",),
        refs=(("country_id", "country"),),
        parent="contact",
        scope="contact",
        compose=street_address,
    ),
    Resource(
        "/2.0/contact_branch",
        "contact_branch",
        ops=LIST_SEARCH,
        search=("name",),
        order=("id", "name"),
        scope="contact",
    ),
    # master data any token may read
    named("/2.0/unit", "unit"),
    Resource("/2.0/payment_type", "payment_type", ops=LIST_SEARCH, search=("name",), order=("id", "name")),
    Resource(
        "/2.0/language", "language", ops=LIST_SEARCH, search=("name", "iso_639_1"), order=("id", "name")
    ),
    Resource(
        "/2.0/country",
        "country",
        {"id": None, "name": None, "name_short": None, "iso_3166_alpha2": None},
        search=("name", "name_short"),
        order=("id", "name", "name_short"),
        required=("name", "name_short", "iso_3166_alpha2"),
        inputs={"iso3166_alpha2": "iso_3166_alpha2"},  # bexio reads iso3166_alpha2, answers iso_3166_alpha2
    ),
    Resource("/2.0/communication_kind", "communication_kind", ops=LIST_SEARCH, search=("name",)),
    Resource("/2.0/company_profile", "company_profile", ops=READ, order=(), etag=True),
    Resource("/3.0/users", "user", ops=READ, order=(), v3=True),
    Resource(
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
        ops=("list", "show", "create", "edit", "delete"),
        required=("salutation_type", "firstname", "lastname", "email"),
        edit_method="PATCH",
        v3=True,
    ),
    Resource(
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
        search=("event_start", "contact_id", "user_id", "subject", "module_id", "entry_id"),
        required=("user_id", "event_start", "subject"),
        scope="note",
    ),
    # lookup lists (seeded)
    *(
        Resource(f"/2.0/{kind}", kind, ops=("list",), order=())
        for kind in (
            "todo_priority",
            "todo_status",
            "timesheet_status",
            "pr_project_state",
            "pr_project_type",
        )
    ),
    Resource("/2.0/kb_item_setting", "kb_item_setting", ops=("list",), order=()),
    # banking and accounting (their hand-written parts: masterdata.py, accounting.py)
    Resource(
        "/3.0/banking/accounts", "bank_account", ops=READ, order=(), v3=True, etag=True, scope="bank_account"
    ),
    Resource(
        "/2.0/accounts",
        "account",
        ops=LIST_SEARCH,
        search=("account_no", "fibu_account_group_id", "name", "account_type"),
        order=(),
        scope="accounting",
    ),
    Resource("/2.0/account_groups", "account_group", ops=("list",), order=(), scope="accounting"),
    Resource(
        "/3.0/currencies",
        "currency",
        ops=READ,
        order=(),
        v3=True,
        default_limit=2000,
        etag=True,
        scope="accounting",
    ),
    Resource("/3.0/taxes", "tax", ops=("show",), etag=True, scope="accounting"),
    Resource("/3.0/accounting/calendar_years", "calendar_year", ops=READ, order=(), scope="accounting"),
    Resource("/3.0/accounting/business_years", "business_year", ops=READ, order=(), scope="accounting"),
    Resource("/3.0/accounting/vat_periods", "vat_period", ops=READ, order=(), scope="accounting"),
    # items: list, show, search, delete here; create and edit echo decimals (articles.py)
    Resource(
        "/2.0/article",
        "article",
        ops=("list", "show", "search", "delete"),
        search=("intern_name", "intern_code"),
        order=("id", "intern_name"),
        scope="article",
    ),
]

for _resource in RESOURCES:
    register(_resource)
