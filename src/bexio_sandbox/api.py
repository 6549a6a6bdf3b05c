"""The bexio API (/2.0, /3.0): guard (auth, rate limit, scope, rights), master data, contacts, articles."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from . import seed
from .common import (
    ApiError,
    company,
    dec,
    error_body,
    f6,
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
from .core import SCOPE_RULES
from .operations import not_implemented_message
from .ratelimit import bucket_for

bp = Blueprint("api", __name__)
API_PREFIXES = ("/2.0/", "/3.0/", "/4.0/")


# guard and headers -------------------------------------------------------------------------------
def _error(status: int, message: str, errors=None) -> Response:
    return respond(error_body(status, message, errors), status)


def api_guard():
    path = request.path
    if not path.startswith(API_PREFIXES):
        return None
    g.api = True
    if request.method in ("POST", "PUT", "PATCH") and request.headers.get("Content-Length") is None:
        return _error(411, "Length Required")
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    claims = sb().verify_access(token) if token else None
    bucket = bucket_for(request.method, path)
    if claims is None:
        g.rate = sb().rate_take("ip:" + (request.remote_addr or ""), bucket)
        return _error(401, "Invalid access token")
    comp = claims["company_id"]
    request.environ["sandbox.company"] = comp
    g.claims = claims
    g.rate = sb().rate_take(comp, bucket)
    if not g.rate.allowed:
        resp = respond({"message": "API rate limit exceeded"}, 429)
        resp.headers["Retry-After"] = str(g.rate.reset)
        return resp
    if request.method == "PUT" and path.startswith("/2.0/"):
        return _error(422, "")
    scopes = set(claims["scope"].split())
    write = request.method != "GET" and not path.endswith("/search")
    for pattern, (show, edit), right in SCOPE_RULES:
        if pattern.search(path):
            need = edit if write else show
            if need not in scopes and not (not write and edit in scopes):
                return _error(403, "Forbidden")
            user = sb().user_by_sub(claims["sub"])
            rights = user["memberships"][comp]["rights"] if user else []
            if right not in rights:
                return _error(403, "Forbidden")
            break
    return None


def api_headers(resp: Response) -> Response:
    if not g.get("api"):
        return resp
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["pragma"] = "no-cache"
    resp.headers["vary"] = "Origin"
    resp.headers["access-control-allow-origin"] = "https://office.bexio.com"
    rate = g.get("rate")
    if rate:
        resp.headers["x-ratelimit-remaining-minute"] = str(rate.remaining)
        resp.headers["ratelimit-limit"] = str(rate.limit)
        resp.headers["ratelimit-remaining"] = str(rate.remaining)
        resp.headers["ratelimit-reset"] = str(rate.reset)
        resp.headers["x-ratelimit-limit-minute"] = str(rate.limit)
    return resp


def register(app) -> None:
    from . import accounting, documents, extra, invoices, journal, manual_entries

    app.before_request(api_guard)
    app.after_request(api_headers)
    app.register_blueprint(bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(invoices.bp)
    app.register_blueprint(extra.bp)
    app.register_blueprint(accounting.bp)
    app.register_blueprint(journal.bp)
    app.register_blueprint(manual_entries.bp)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return respond(error_body(exc.status, exc.message, exc.errors), exc.status)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def not_routed(exc):
        """Documented but not emulated -> 501 naming the operation; anything else -> bexio's 404."""
        if not request.path.startswith(API_PREFIXES):
            return exc
        g.api = True
        op = app.config["OPERATIONS"].unimplemented(request.method, request.path)
        if op is not None:
            return respond(error_body(501, not_implemented_message(op)), 501)
        return respond(error_body(404, "Page not found"), 404)


def get_or_404(kind: str, id_) -> dict:
    doc = sb().store.get(kind, company(), id_)
    if doc is None:
        raise not_found()
    return doc


def listing(kind: str, order_fields=(), default_limit=500, v3=False, items=None) -> Response:
    items = sb().store.all(kind, company()) if items is None else items
    items = order(items, order_fields) if order_fields else items
    page = paginate(items, default_limit)
    headers = None
    if v3:
        headers = {
            "x-total-count": str(len(items)),
            "x-limit": request.args.get("limit", str(default_limit)),
            "x-offset": request.args.get("offset", "0"),
        }
    return respond(page, headers=headers)


# simple named resources (2.0) -----------------------------------------------------------------------
def simple_resource(
    path: str,
    kind: str,
    *,
    writable=True,
    search_fields=("name",),
    order_fields=("id", "name"),
    readonly_show=True,
):
    def do_list():
        return listing(kind, order_fields)

    def do_search():
        return respond(paginate(order(search(sb().store.all(kind, company()), search_fields), order_fields)))

    def do_show(id_):
        return respond(get_or_404(kind, id_))

    bp.add_url_rule(f"/2.0/{path}", f"{kind}_list", do_list, methods=["GET"])
    bp.add_url_rule(f"/2.0/{path}/search", f"{kind}_search", do_search, methods=["POST"])
    if readonly_show:
        bp.add_url_rule(f"/2.0/{path}/<int:id_>", f"{kind}_show", do_show, methods=["GET"])
    if not writable:
        return

    def do_create():
        data = json_body()
        name = data.get("name")
        if not name or not isinstance(name, str):
            raise invalid("name: This value should not be blank.")
        with sb().store.tx():
            id_ = sb().store.next_id(kind, company())
            doc = sb().store.put(kind, company(), id_, {"id": id_, "name": name})
        return respond(doc, 201)

    def do_edit(id_):
        data = json_body()
        with sb().store.tx():
            doc = get_or_404(kind, id_)
            if "name" in data:
                if not data["name"]:
                    raise invalid("name: This value should not be blank.")
                doc["name"] = data["name"]
            sb().store.put(kind, company(), id_, doc)
        return respond(doc)

    def do_delete(id_):
        with sb().store.tx():
            get_or_404(kind, id_)
            sb().store.delete(kind, company(), id_)
        return success()

    bp.add_url_rule(f"/2.0/{path}", f"{kind}_create", do_create, methods=["POST"])
    bp.add_url_rule(f"/2.0/{path}/<int:id_>", f"{kind}_edit", do_edit, methods=["POST"])
    bp.add_url_rule(f"/2.0/{path}/<int:id_>", f"{kind}_delete", do_delete, methods=["DELETE"])


simple_resource("contact_group", "contact_group")
simple_resource("salutation", "salutation")
simple_resource("title", "title")
simple_resource("unit", "unit")
simple_resource("payment_type", "payment_type", writable=False, readonly_show=False)
simple_resource(
    "language", "language", writable=False, readonly_show=False, search_fields=("name", "iso_639_1")
)


# countries --------------------------------------------------------------------------------------
@bp.get("/2.0/country")
def country_list():
    return listing("country", ("id", "name", "name_short"))


@bp.post("/2.0/country/search")
def country_search():
    return respond(
        paginate(
            order(
                search(sb().store.all("country", company()), ("name", "name_short")),
                ("id", "name", "name_short"),
            )
        )
    )


@bp.get("/2.0/country/<int:id_>")
def country_show(id_):
    return respond(get_or_404("country", id_))


def _country_fields(data: dict, doc: dict) -> dict:
    for key in ("name", "name_short"):
        if key in data:
            doc[key] = data[key]
    if "iso3166_alpha2" in data or "iso_3166_alpha2" in data:
        doc["iso_3166_alpha2"] = data.get("iso3166_alpha2", data.get("iso_3166_alpha2"))
    missing = [k for k in ("name", "name_short", "iso_3166_alpha2") if not doc.get(k)]
    if missing:
        raise invalid(
            *[
                f"{'iso3166_alpha2' if k == 'iso_3166_alpha2' else k}: This value should not be blank."
                for k in missing
            ]
        )
    return doc


@bp.post("/2.0/country")
def country_create():
    data = json_body()
    with sb().store.tx():
        doc = _country_fields(data, {"id": None, "name": None, "name_short": None, "iso_3166_alpha2": None})
        doc["id"] = sb().store.next_id("country", company())
        sb().store.put("country", company(), doc["id"], doc)
    return respond(doc, 201)


@bp.post("/2.0/country/<int:id_>")
def country_edit(id_):
    data = json_body()
    with sb().store.tx():
        doc = _country_fields(data, get_or_404("country", id_))
        sb().store.put("country", company(), id_, doc)
    return respond(doc)


@bp.delete("/2.0/country/<int:id_>")
def country_delete(id_):
    with sb().store.tx():
        get_or_404("country", id_)
        sb().store.delete("country", company(), id_)
    return success()


# company profile, users, accounts, banking, taxes, currencies ----------------------------------------
@bp.get("/2.0/company_profile")
def company_profile_list():
    return listing("company_profile")


@bp.get("/2.0/company_profile/<int:id_>")
def company_profile_show(id_):
    return respond(get_or_404("company_profile", id_), etag=True)


@bp.get("/3.0/users")
def users_list():
    return listing("user", v3=True)


@bp.get("/3.0/users/me")
def users_me():
    return respond(get_or_404("user", g.claims["user_id"]))


@bp.get("/3.0/users/<int:id_>")
def users_show(id_):
    return respond(get_or_404("user", id_))


@bp.get("/2.0/accounts")
def accounts_list():
    return listing("account")


@bp.post("/2.0/accounts/search")
def accounts_search():
    return respond(
        paginate(
            search(
                sb().store.all("account", company()),
                ("account_no", "fibu_account_group_id", "name", "account_type"),
            )
        )
    )


@bp.get("/3.0/banking/accounts")
def bank_accounts_list():
    return listing("bank_account", v3=True)


@bp.get("/3.0/banking/accounts/<int:id_>")
def bank_account_show(id_):
    return respond(get_or_404("bank_account", id_), etag=True)


def tax_valid_on(tax: dict, date: str) -> bool:
    y, m = int(date[:4]), int(date[5:7])
    if tax.get("start_year") and (y, m) < (tax["start_year"], tax.get("start_month") or 1):
        return False
    return not (tax.get("end_year") and (y, m) > (tax["end_year"], tax.get("end_month") or 12))


@bp.get("/3.0/taxes")
def taxes_list():
    items = sb().store.all("tax", company())
    scope = request.args.get("scope")
    if scope in ("active", "inactive"):
        items = [t for t in items if t["is_active"] == (scope == "active")]
    types = request.args.get("types")
    if types:
        wanted = set(types.split(","))
        items = [t for t in items if t["type"] in wanted]
    date = request.args.get("date")
    if date:
        items = [t for t in items if tax_valid_on(t, date)]
    return respond(paginate(items))


@bp.get("/3.0/taxes/<int:id_>")
def taxes_show(id_):
    return respond(get_or_404("tax", id_), etag=True)


@bp.delete("/3.0/taxes/<int:id_>")
def taxes_delete(id_):
    get_or_404("tax", id_)
    raise ApiError(409, "tax can not be deleted")


@bp.get("/3.0/currencies")
def currencies_list():
    return listing("currency", v3=True, default_limit=2000)


@bp.get("/3.0/currencies/codes")
def currency_codes():
    return respond(seed.raw("currency_codes"))


@bp.get("/3.0/currencies/<int:id_>")
def currency_show(id_):
    return respond(get_or_404("currency", id_), etag=True)


def _round_factor(data: dict, default=None):
    rf = data.get("round_factor", default)
    try:
        rf = float(rf)
    except (TypeError, ValueError):
        raise invalid("round_factor: This value is not valid.") from None
    if rf <= 0:
        raise invalid("round_factor: This value is not valid.")
    return rf


@bp.post("/3.0/currencies")
def currency_create():
    data = json_body()
    name = data.get("name")
    if name not in seed.raw("currency_codes"):
        raise invalid("name: This value is not a valid currency.")
    rf = _round_factor(data)
    with sb().store.tx():
        if any(c["name"] == name for c in sb().store.all("currency", company())):
            raise invalid("name: This currency already exists.")
        id_ = sb().store.next_id("currency", company())
        doc = sb().store.put("currency", company(), id_, {"id": id_, "name": name, "round_factor": rf})
    return respond(doc, 201)


@bp.patch("/3.0/currencies/<int:id_>")
def currency_edit(id_):
    data = json_body()
    with sb().store.tx():
        doc = get_or_404("currency", id_)
        if "round_factor" in data:
            doc["round_factor"] = _round_factor(data)
        sb().store.put("currency", company(), id_, doc)
    return respond(doc)


@bp.delete("/3.0/currencies/<int:id_>")
def currency_delete(id_):
    with sb().store.tx():
        doc = get_or_404("currency", id_)
        if doc["name"] == "CHF":
            raise ApiError(409, "currency can not be deleted")
        sb().store.delete("currency", company(), id_)
    return success()


@bp.get("/3.0/currencies/<int:id_>/exchange_rates")
def currency_rates(id_):
    get_or_404("currency", id_)
    chf = sb().store.get("currency", company(), 1)
    items = [
        {
            "factor_nr": 1.0,
            "exchange_currency": chf,
            "ratio": 1,
            "factor_nr_to_ratio": 1.0,
            "source": "custom",
            "source_reason": "source_custom",
            "exchange_rate_date": now_v2()[:10],
        }
    ]
    return respond(items, headers={"x-total-count": "1", "x-limit": "500", "x-offset": "0"})


# contacts ---------------------------------------------------------------------------------------
CONTACT_FIELDS = [
    "id",
    "nr",
    "contact_type_id",
    "name_1",
    "name_2",
    "salutation_id",
    "salutation_form",
    "title_id",
    "birthday",
    "address",
    "street_name",
    "house_number",
    "address_addition",
    "postcode",
    "city",
    "country_id",
    "mail",
    "mail_second",
    "phone_fixed",
    "phone_fixed_second",
    "phone_mobile",
    "fax",
    "url",
    "skype_name",
    "remarks",
    "language_id",
    "is_lead",
    "contact_group_ids",
    "contact_branch_ids",
    "user_id",
    "owner_id",
]
CONTACT_STRINGS = [
    "name_2",
    "postcode",
    "city",
    "mail",
    "mail_second",
    "phone_fixed",
    "phone_fixed_second",
    "phone_mobile",
    "fax",
    "url",
    "skype_name",
    "remarks",
]
CONTACT_SEARCH = (
    "id",
    "name_1",
    "name_2",
    "nr",
    "address",
    "mail",
    "mail_second",
    "postcode",
    "city",
    "country_id",
    "contact_group_ids",
    "contact_type_id",
    "updated_at",
    "user_id",
    "phone_fixed",
    "phone_mobile",
    "fax",
)


def contact_view(doc: dict, *, with_image: bool) -> dict:
    out = {k: doc.get(k) for k in CONTACT_FIELDS}
    if with_image:
        out["profile_image"] = seed.profile_image()
    out["updated_at"] = doc["updated_at"]
    return out


def _ref_exists(kind: str, value) -> bool:
    return value is None or sb().store.get(kind, company(), value) is not None


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
    doc["id"] = sb().store.next_id("contact", company())
    if data.get("nr") in (None, ""):
        doc["nr"] = f"{sb().store.next_id('contact_nr', company()):06d}"
    else:
        doc["nr"] = str(data["nr"])
    sb().store.put("contact", company(), doc["id"], doc)
    return doc


def _contacts(include_archived: bool) -> list[dict]:
    return [c for c in sb().store.all("contact", company()) if include_archived or not c.get("is_archived")]


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
    with sb().store.tx():
        doc = _new_contact(data)
    return respond(contact_view(doc, with_image=True), 201, etag=True)


@bp.post("/2.0/contact/_bulk_create")
def contact_bulk_create():
    rows = json_body(list)
    with sb().store.tx():
        docs = [_new_contact(r if isinstance(r, dict) else {}) for r in rows]
    return respond([contact_view(d, with_image=False) for d in docs], 201)


@bp.post("/2.0/contact/<int:id_>")
def contact_edit(id_):
    data = json_body()
    with sb().store.tx():
        doc = _apply_contact(data, _contact_or_404(id_), creating=False)
        if "nr" in data and data["nr"] not in (None, ""):
            doc["nr"] = str(data["nr"])
        sb().store.put("contact", company(), id_, doc)
    return respond(contact_view(doc, with_image=True), etag=True)


@bp.delete("/2.0/contact/<int:id_>")
def contact_delete(id_):
    with sb().store.tx():
        doc = _contact_or_404(id_)
        doc["is_archived"] = True
        doc["updated_at"] = now_v2()
        sb().store.put("contact", company(), id_, doc)
    return success()


@bp.patch("/2.0/contact/<int:id_>/restore")
def contact_restore(id_):
    with sb().store.tx():
        doc = get_or_404("contact", id_)
        doc["is_archived"] = False
        doc["updated_at"] = now_v2()
        sb().store.put("contact", company(), id_, doc)
    return success()


# articles ---------------------------------------------------------------------------------------
ARTICLE_DECIMALS = ("purchase_price", "sale_price", "purchase_total", "sale_total", "delivery_price")
ARTICLE_STOCK = (
    "stock_nr",
    "stock_min_nr",
    "stock_reserved_nr",
    "stock_available_nr",
    "stock_picked_nr",
    "stock_disposed_nr",
    "stock_ordered_nr",
)
ARTICLE_REFS = (
    ("currency_id", "currency"),
    ("tax_income_id", "tax"),
    ("tax_id", "tax"),
    ("tax_expense_id", "tax"),
    ("unit_id", "unit"),
    ("contact_id", "contact"),
    ("account_id", "account"),
    ("expense_account_id", "account"),
)


def _apply_article(data: dict, doc: dict) -> dict:
    errors = []
    for key in doc:
        if key in data and key not in ("id", "user_id", "stock_available_nr") + ARTICLE_DECIMALS:
            doc[key] = data[key]
    for key in ARTICLE_DECIMALS:
        if key in data:
            value, _ = dec(data[key], key)
            doc[key] = f6(value)
    if doc.get("article_type_id") not in (1, 2):
        errors.append("article_type_id: The value you selected is not a valid choice.")
    if not doc.get("intern_name"):
        errors.append("intern_name: This value should not be blank.")
    for key, kind in ARTICLE_REFS:
        if not _ref_exists(kind, doc.get(key)):
            errors.append(f"{key}: This value is not valid.")
    if errors:
        raise invalid(*errors)
    return doc


@bp.get("/2.0/article")
def article_list():
    return listing("article", ("id", "intern_name"))


@bp.post("/2.0/article/search")
def article_search():
    items = search(sb().store.all("article", company()), ("intern_name", "intern_code"))
    return respond(paginate(order(items, ("id", "intern_name"))))


@bp.get("/2.0/article/<int:id_>")
def article_show(id_):
    return respond(get_or_404("article", id_))


def _article_echo(doc: dict, data: dict, creating: bool) -> dict:
    """Create answers carry the stock counters as strings, edit answers only the first two (as recorded)."""
    out = dict(doc)
    for key in ARTICLE_DECIMALS:
        if key in data and data[key] is not None:
            out[key] = data[key] if isinstance(data[key], str) else str(data[key])
    for key in ARTICLE_STOCK if creating else ARTICLE_STOCK[:2]:
        if key != "stock_available_nr":
            out[key] = str(out[key])
    return out


@bp.post("/2.0/article")
def article_create():
    data = json_body()
    base = dict(seed.ARTICLES[0])
    base.update(
        {k: None for k in ("intern_code", "intern_name", "sale_price", "tax_id", "unit_id", "account_id")}
    )
    base.update(
        {
            "intern_description": "",
            "article_type_id": data.get("article_type_id"),
            "currency_id": 1,
            "user_id": data.get("user_id") or g.claims["user_id"],
            "intern_code": "",
        }
    )
    with sb().store.tx():
        doc = _apply_article(data, base)
        doc["id"] = sb().store.next_id("article", company())
        sb().store.put("article", company(), doc["id"], doc)
    return respond(_article_echo(doc, data, True), 201)


@bp.post("/2.0/article/<int:id_>")
def article_edit(id_):
    data = json_body()
    with sb().store.tx():
        doc = _apply_article(data, get_or_404("article", id_))
        sb().store.put("article", company(), id_, doc)
    return respond(_article_echo(doc, data, False))


@bp.delete("/2.0/article/<int:id_>")
def article_delete(id_):
    with sb().store.tx():
        get_or_404("article", id_)
        sb().store.delete("article", company(), id_)
    return success()
