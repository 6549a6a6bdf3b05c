"""Control API under /_sandbox/ (NOT part of bexio): reset, clients, tokens, settings, faults, log."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request

from . import seed
from .context import sandbox
from .scopes import ALL_API_SCOPES, expand_scopes

bp = Blueprint("control", __name__, url_prefix="/_sandbox")


@bp.after_request
def mark(resp):
    resp.headers["X-Sandbox"] = "bexio-sandbox control API (not bexio)"
    return resp


def bad(message: str, status: int = 400):
    resp = jsonify({"error": message})
    resp.status_code = status
    return resp


@bp.get("/")
def index():
    return jsonify(
        {
            "service": "bexio-sandbox",
            "note": "control API, not part of bexio",
            "endpoints": [
                "POST /_sandbox/reset",
                "GET /_sandbox/companies",
                "POST /_sandbox/clients",
                "POST /_sandbox/tokens",
                "GET|PUT /_sandbox/settings",
                "POST|GET|DELETE /_sandbox/faults",
                "GET /_sandbox/requests?since=<id>",
                "GET /_sandbox/coverage",
                "GET /_sandbox/office",
            ],
        }
    )


@bp.post("/reset")
def reset():
    sandbox().reset()
    return jsonify({"success": True})


@bp.get("/companies")
def companies():
    out = []
    for cid, info in seed.COMPANIES.items():
        users = [
            {
                "username": u["username"],
                "user_id": u["memberships"][cid]["user_id"],
                "admin": u["memberships"][cid]["superadmin"],
                "rights": u["memberships"][cid]["rights"],
            }
            for u in seed.REALM_USERS
            if cid in u["memberships"]
        ]
        out.append(
            {"company_id": cid, "name": info["name"], "demo": cid == seed.DEMO_COMPANY, "users": users}
        )
    return jsonify(out)


@bp.post("/clients")
def clients():
    data = request.get_json(silent=True) or {}
    if (
        not data.get("client_id")
        or not data.get("client_secret")
        or not isinstance(data.get("redirect_uris"), list)
    ):
        return bad("client_id, client_secret and redirect_uris (list) are required")
    with sandbox().store.tx():
        doc = sandbox().realm.register_client(data["client_id"], data["client_secret"], data["redirect_uris"])
    return jsonify(doc), 201


@bp.post("/tokens")
def tokens():
    data = request.get_json(silent=True) or {}
    company = data.get("company_id") or seed.DEMO_COMPANY
    if company not in seed.COMPANIES:
        return bad("unknown company_id", 404)
    scopes = data.get("scopes")
    if scopes is None:
        scopes = ["openid", "profile", "email", "offline_access", "company_profile", *ALL_API_SCOPES]
    if isinstance(scopes, str):
        scopes = scopes.split()
    if data.get("user"):
        user = sandbox().realm.realm_user(data["user"])
        if user is None or company not in user["memberships"]:
            return bad("unknown user for this company", 404)
    else:
        user = sandbox().realm.default_user(company)
    client_id = data.get("client_id") or seed.DEMO_CLIENT_ID
    with sandbox().store.tx():
        grant = sandbox().realm.new_grant(
            client_id=client_id, user=user, company=company, scopes=expand_scopes(scopes)
        )
        issued = sandbox().realm.issue_tokens(
            grant,
            request.host_url.rstrip("/") + "/realms/bexio",
            with_refresh=bool(data.get("refresh", True)),
        )
    issued["company_id"] = company
    return jsonify(issued)


@bp.route("/settings", methods=["GET", "PUT", "POST"])
def settings():
    if request.method == "GET":
        return jsonify(sandbox().settings)
    try:
        return jsonify(sandbox().update_settings(request.get_json(silent=True) or {}))
    except (ValueError, TypeError) as exc:
        return bad(str(exc))


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults():
    if request.method == "DELETE":
        sandbox().faults.clear()
        return jsonify({"success": True})
    if request.method == "GET":
        return jsonify(sandbox().faults.listing())
    data = request.get_json(silent=True) or {}
    try:
        rule = sandbox().faults.add(data)
    except (ValueError, re.error) as exc:
        return bad(str(exc))
    return jsonify(rule), 201


@bp.get("/requests")
def requests_log():
    since = request.args.get("since", 0, type=int)
    return jsonify(sandbox().requests_since(since))


@bp.get("/coverage")
def coverage():
    """Documented operations: implemented (routed to a handler) or answering 501 (see operations.py)."""
    return jsonify(current_app.config["OPERATIONS"].coverage())
