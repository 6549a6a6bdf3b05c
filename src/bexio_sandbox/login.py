"""The login of the realm `bexio` as a browser sees it at auth.bexio.com: `…/auth` (unknown client or a
callback that is not an exact registered match -> error page, never a redirect), the login form, the
company choice for users of several companies, the consent page (one checkbox per scope; untick to
refuse), the code redirect `?code&state&session_state&iss`, and logout. A login cookie skips the form
on the next authorisation (`prompt=login` forces it)."""

from __future__ import annotations

import html
import secrets
import time
import uuid
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from . import seed
from .context import store
from .oauth import issuer, realm
from .realm import REALM, sha
from .scopes import KNOWN_SCOPES, expand_scopes

bp = Blueprint("login", __name__, url_prefix="/realms/bexio")
SSO_COOKIE = "KEYCLOAK_IDENTITY_SANDBOX"


PAGE = """<!DOCTYPE html>
<html lang="de-CH"><head><meta charset="utf-8"><title>{title} | bexio</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto;color:#223}}
.box{{border:1px solid #ccd;border-radius:6px;padding:1.5rem}} .err{{color:#b00}}
label{{display:block;margin:.4rem 0}} input[type=text],input[type=password]{{width:100%;padding:.4rem}}
button{{margin-top:1rem;padding:.5rem 1rem}} .note{{font-size:.8rem;color:#667}}</style></head>
<body><div class="box"><h1>{title}</h1>{body}</div>
<p class="note">bexio sandbox (local stand-in for auth.bexio.com, not bexio)</p></body></html>"""


def page(title: str, body: str, status: int = 200) -> Response:
    resp = Response(PAGE.format(title=html.escape(title), body=body), status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store, must-revalidate, max-age=0"
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    resp.headers["Content-Language"] = "de-CH"
    return resp


def error_page(message: str, status: int = 400) -> Response:
    return page("Fehler", f'<p class="err" id="kc-error-message">{html.escape(message)}</p>', status)


def redirect_to(url: str, params: dict) -> Response:
    sep = "&" if "?" in url else "?"
    resp = Response("", status=302)
    resp.headers["Location"] = url + sep + urlencode({k: v for k, v in params.items() if v is not None})
    return resp


def _flow_params():
    args = request.args if request.method == "GET" else request.values
    return {
        k: args.get(k)
        for k in (
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
            "prompt",
            "login_hint",
        )
    }


@bp.route("/protocol/openid-connect/auth", methods=["GET", "POST"])
def authorize():
    p = _flow_params()
    client = realm().client(p["client_id"])
    if client is None:
        return error_page("Client not found.")
    if not p["redirect_uri"] or p["redirect_uri"] not in client["redirect_uris"]:
        return error_page("Invalid parameter: redirect_uri")
    base = {"state": p["state"], "iss": issuer()}
    if p["response_type"] != "code":
        return redirect_to(
            p["redirect_uri"],
            {
                "error": "unsupported_response_type",
                "error_description": "Client is not allowed to initiate browser login with given "
                "response_type. Standard flow is disabled for the client.",
                **base,
            },
        )
    requested = (p["scope"] or "openid").split()
    unknown = [s for s in requested if s not in KNOWN_SCOPES]
    if unknown:
        return redirect_to(
            p["redirect_uri"],
            {"error": "invalid_scope", "error_description": f"Invalid scopes: {' '.join(requested)}", **base},
        )
    if p["code_challenge"] and (p["code_challenge_method"] or "plain") not in ("plain", "S256"):
        return redirect_to(
            p["redirect_uri"],
            {
                "error": "invalid_request",
                "error_description": "Invalid parameter: code challenge method is not configured one",
                **base,
            },
        )
    now = time.time()
    for stale in [k for k, f in list(realm().flows.items()) if now - f["created"] > 1800]:
        realm().flows.pop(stale, None)
    flow_id = secrets.token_urlsafe(16)
    realm().flows[flow_id] = {
        "params": p,
        "requested": requested,
        "created": time.time(),
        "user": None,
        "company": None,
    }
    sso_user = realm().realm_user(request.cookies.get(SSO_COOKIE))
    if sso_user and p["prompt"] != "login":
        realm().flows[flow_id]["user"] = sso_user["username"]
        return _after_login(flow_id)
    return _login_page(flow_id)


def _flow():
    flow_id = request.args.get("flow", "")
    flow = realm().flows.get(flow_id)
    if flow is None or time.time() - flow["created"] > 1800:
        return flow_id, None
    return flow_id, flow


def _login_page(flow_id: str, error: str = "", status: int = 200) -> Response:
    flow = realm().flows[flow_id]
    hint = html.escape(flow["params"].get("login_hint") or "")
    err = f'<p class="err" id="input-error">{html.escape(error)}</p>' if error else ""
    action = f"/realms/bexio/login-actions/authenticate?flow={flow_id}"
    body = f"""{err}<form id="kc-form-login" method="post" action="{action}">
<label>E-Mail <input type="text" id="username" name="username" value="{hint}" autofocus></label>
<label>Passwort <input type="password" id="password" name="password"></label>
<button type="submit" id="kc-login" name="login" value="login">Anmelden</button></form>"""
    return page("Login", body, status)


@bp.post("/login-actions/authenticate")
def login_action():
    flow_id, flow = _flow()
    if flow is None:
        return error_page("Your login attempt timed out. Login will start from the beginning.")
    user = realm().realm_user(request.form.get("username", "").strip())
    if user is None or request.form.get("password") != seed.PASSWORD:
        return _login_page(flow_id, "Invalid username or password.")
    flow["user"] = user["username"]
    resp = _after_login(flow_id)
    resp.set_cookie(SSO_COOKIE, user["username"], httponly=True, samesite="Lax", path="/realms/bexio/")
    return resp


def _after_login(flow_id: str) -> Response:
    flow = realm().flows[flow_id]
    user = realm().realm_user(flow["user"])
    companies = list(user["memberships"])
    if len(companies) == 1:
        flow["company"] = companies[0]
        return _consent_page(flow_id)
    options = "".join(
        f'<label><input type="radio" name="company_id" value="{c}"{" checked" if i == 0 else ""}> '
        f"{html.escape(seed.COMPANIES[c]['name'])}</label>"
        for i, c in enumerate(companies)
    )
    body = f"""<p>Bitte wählen Sie die Firma.</p>
<form id="kc-company-form" method="post" action="/realms/bexio/login-actions/company?flow={flow_id}">{options}
<button type="submit" name="select" value="select">Weiter</button></form>"""
    return page("Firma wählen", body)


@bp.post("/login-actions/company")
def company_action():
    flow_id, flow = _flow()
    if flow is None or not flow["user"]:
        return error_page("Your login attempt timed out. Login will start from the beginning.")
    user = realm().realm_user(flow["user"])
    company = request.form.get("company_id")
    if company not in user["memberships"]:
        return error_page("Invalid company.")
    flow["company"] = company
    return _consent_page(flow_id)


SCOPE_LABELS = {
    "openid": "Anmeldung (OpenID)",
    "profile": "Profil",
    "email": "E-Mail-Adresse",
    "offline_access": "Offline-Zugriff",
    "company_profile": "Firmenprofil",
}


def _consent_page(flow_id: str) -> Response:
    flow = realm().flows[flow_id]
    client_id = html.escape(flow["params"]["client_id"])
    rows = "".join(
        f'<label><input type="checkbox" name="scope" value="{html.escape(s)}" checked> '
        f"{html.escape(SCOPE_LABELS.get(s, s))} <code>{html.escape(s)}</code></label>"
        for s in flow["requested"]
    )
    company = html.escape(seed.COMPANIES[flow["company"]]["name"])
    body = f"""<p>Die Anwendung <b>{client_id}</b> möchte auf <b>{company}</b> zugreifen:</p>
<form id="kc-oauth" method="post" action="/realms/bexio/login-actions/consent?flow={flow_id}">{rows}
<button type="submit" id="kc-login" name="accept" value="Yes">Zulassen</button>
<button type="submit" id="kc-cancel" name="cancel" value="No">Abbrechen</button></form>"""
    return page("Zugriff gewähren", body)


@bp.post("/login-actions/consent")
def consent_action():
    flow_id, flow = _flow()
    if flow is None or not flow["user"] or not flow["company"]:
        return error_page("Your login attempt timed out. Login will start from the beginning.")
    realm().flows.pop(flow_id, None)
    p = flow["params"]
    if "cancel" in request.form or "accept" not in request.form:
        return redirect_to(
            p["redirect_uri"],
            {
                "error": "access_denied",
                "error_description": "User denied consent",
                "state": p["state"],
                "iss": issuer(),
            },
        )
    ticked = set(request.form.getlist("scope"))
    granted = expand_scopes([s for s in flow["requested"] if s in ticked])
    user = realm().realm_user(flow["user"])
    with store().tx():
        grant = realm().new_grant(
            client_id=p["client_id"], user=user, company=flow["company"], scopes=granted, nonce=p["nonce"]
        )
        code = f"{uuid.uuid4()}.{grant['sid']}.{uuid.uuid4()}"
        store().put(
            "code",
            REALM,
            sha(code),
            {
                "sid": grant["sid"],
                "client_id": p["client_id"],
                "redirect_uri": p["redirect_uri"],
                "code_challenge": p["code_challenge"],
                "method": p["code_challenge_method"] or "plain",
                "created": time.time(),
                "used": False,
            },
        )
    return redirect_to(
        p["redirect_uri"], {"code": code, "state": p["state"], "session_state": grant["sid"], "iss": issuer()}
    )


@bp.get("/protocol/openid-connect/logout")
def logout():
    target = request.args.get("post_logout_redirect_uri")
    client = realm().client(request.args.get("client_id"))
    if target and client and target in client["redirect_uris"]:
        resp = redirect_to(target, {"state": request.args.get("state")})
    else:
        resp = page("Abgemeldet", "<p>Sie sind abgemeldet.</p>")
    resp.delete_cookie(SSO_COOKIE, path="/realms/bexio/")
    return resp
