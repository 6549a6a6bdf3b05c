"""The auth server: a Keycloak realm `bexio` as at auth.bexio.com (OIDC, authorization code)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request
from jwt.algorithms import RSAAlgorithm

from . import seed
from .core import KNOWN_SCOPES, REALM, expand_scopes, sha

bp = Blueprint("auth", __name__, url_prefix="/realms/bexio")
SSO_COOKIE = "KEYCLOAK_IDENTITY_SANDBOX"


def sb():
    return current_app.config["SANDBOX"]


def issuer() -> str:
    return request.host_url.rstrip("/") + "/realms/bexio"


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    resp = jsonify({"error": error, "error_description": description})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp


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


# discovery and keys ---------------------------------------------------------------------------
@bp.get("/.well-known/openid-configuration")
def discovery():
    text = json.dumps(seed.openid_template()).replace("https://auth.bexio.com/realms/bexio", issuer())
    doc = json.loads(text)
    resp = Response(json.dumps(doc), mimetype="application/json")
    resp.headers["Cache-Control"] = "no-cache, must-revalidate, no-transform, no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    resp.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    resp.headers["X-XSS-Protection"] = "1; mode=block"
    resp.headers["Vary"] = "Accept-Encoding"
    return resp


@bp.get("/protocol/openid-connect/certs")
def certs():
    jwk = json.loads(RSAAlgorithm.to_jwk(sb().public_key))
    jwk.update({"kid": sb().kid, "alg": "RS256", "use": "sig"})
    return jsonify({"keys": [jwk]})


# authorization (browser) --------------------------------------------------------------------------
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
    client = sb().client(p["client_id"])
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
    for stale in [k for k, f in list(sb().flows.items()) if now - f["created"] > 1800]:
        sb().flows.pop(stale, None)
    flow_id = secrets.token_urlsafe(16)
    sb().flows[flow_id] = {
        "params": p,
        "requested": requested,
        "created": time.time(),
        "user": None,
        "company": None,
    }
    sso_user = sb().realm_user(request.cookies.get(SSO_COOKIE))
    if sso_user and p["prompt"] != "login":
        sb().flows[flow_id]["user"] = sso_user["username"]
        return _after_login(flow_id)
    return _login_page(flow_id)


def _flow():
    flow_id = request.args.get("flow", "")
    flow = sb().flows.get(flow_id)
    if flow is None or time.time() - flow["created"] > 1800:
        return flow_id, None
    return flow_id, flow


def _login_page(flow_id: str, error: str = "", status: int = 200) -> Response:
    flow = sb().flows[flow_id]
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
    user = sb().realm_user(request.form.get("username", "").strip())
    if user is None or request.form.get("password") != seed.PASSWORD:
        return _login_page(flow_id, "Invalid username or password.")
    flow["user"] = user["username"]
    resp = _after_login(flow_id)
    resp.set_cookie(SSO_COOKIE, user["username"], httponly=True, samesite="Lax", path="/realms/bexio/")
    return resp


def _after_login(flow_id: str) -> Response:
    flow = sb().flows[flow_id]
    user = sb().realm_user(flow["user"])
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
    user = sb().realm_user(flow["user"])
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
    flow = sb().flows[flow_id]
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
    sb().flows.pop(flow_id, None)
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
    user = sb().realm_user(flow["user"])
    with sb().store.tx():
        grant = sb().new_grant(
            client_id=p["client_id"], user=user, company=flow["company"], scopes=granted, nonce=p["nonce"]
        )
        code = f"{uuid.uuid4()}.{grant['sid']}.{uuid.uuid4()}"
        sb().store.put(
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
    client = sb().client(request.args.get("client_id"))
    if target and client and target in client["redirect_uris"]:
        resp = redirect_to(target, {"state": request.args.get("state")})
    else:
        resp = page("Abgemeldet", "<p>Sie sind abgemeldet.</p>")
    resp.delete_cookie(SSO_COOKIE, path="/realms/bexio/")
    return resp


# token endpoint -----------------------------------------------------------------------------------
def _client_auth():
    """-> (client, error response)."""
    client_id = secret = None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            from urllib.parse import unquote

            raw = base64.b64decode(header[6:].strip()).decode()
            client_id, _, secret = raw.partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        except (ValueError, UnicodeDecodeError):
            return None, oauth_error("invalid_client", "Invalid client or Invalid client credentials", 401)
    else:
        client_id = request.form.get("client_id")
        secret = request.form.get("client_secret")
    client = sb().client(client_id)
    if client is None or not secret or not secrets.compare_digest(secret, client["client_secret"]):
        return None, oauth_error("invalid_client", "Invalid client or Invalid client credentials", 401)
    return client, None


def _pkce_ok(record: dict, verifier: str | None) -> str | None:
    if not record.get("code_challenge"):
        return None
    if not verifier:
        return "PKCE code verifier not specified"
    if record["method"] == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    else:
        computed = verifier
    if not secrets.compare_digest(computed, record["code_challenge"]):
        return "PKCE verification failed: Invalid code verifier"
    return None


@bp.post("/protocol/openid-connect/token")
def token():
    request.environ["sandbox.grant_type"] = request.form.get("grant_type")
    if request.args:
        return oauth_error(
            "invalid_request", "Parameters in the query string are not allowed; send them in the request body"
        )
    client, err = _client_auth()
    if err:
        return err
    grant_type = request.form.get("grant_type")
    if not grant_type:
        return oauth_error("invalid_request", "Missing form parameter: grant_type")
    store = sb().store
    with store.tx():
        if grant_type == "authorization_code":
            code = request.form.get("code", "")
            record = store.get("code", REALM, sha(code))
            if record is None or record["client_id"] != client["client_id"]:
                return oauth_error("invalid_grant", "Code not valid")
            grant = store.get("grant", REALM, record["sid"])
            if record["used"] or time.time() - record["created"] > sb().settings["code_ttl_s"]:
                if record["used"] and grant:  # Keycloak ends the session on code reuse
                    grant["active"] = False
                    store.put("grant", REALM, grant["sid"], grant)
                record["used"] = True
                store.put("code", REALM, sha(code), record)
                return oauth_error("invalid_grant", "Code not valid")
            record["used"] = True
            store.put("code", REALM, sha(code), record)
            if request.form.get("redirect_uri") != record["redirect_uri"]:
                return oauth_error("invalid_grant", "Incorrect redirect_uri")
            problem = _pkce_ok(record, request.form.get("code_verifier"))
            if problem:
                return oauth_error("invalid_grant", problem)
            if not sb().grant_alive(grant):
                return oauth_error("invalid_grant", "Session not active")
            grant["last_used"] = time.time()
            store.put("grant", REALM, grant["sid"], grant)
            body = sb().issue_tokens(grant, issuer())
        elif grant_type == "refresh_token":
            rt = request.form.get("refresh_token", "")
            record = store.get("refresh", REALM, sha(rt))
            if record is None:
                return oauth_error("invalid_grant", "Invalid refresh token")
            if record["client_id"] != client["client_id"]:
                return oauth_error(
                    "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"
                )
            grant = store.get("grant", REALM, record["sid"])
            if grant is None or not grant["active"]:
                return oauth_error("invalid_grant", "Token is not active")
            if time.time() - grant["last_used"] > sb().grant_idle_limit(grant):
                grant["active"] = False
                store.put("grant", REALM, grant["sid"], grant)
                return oauth_error(
                    "invalid_grant",
                    "Offline session not active" if grant["offline"] else "Session not active",
                )
            if record["used"] and sb().settings["revoke_used_refresh_tokens"]:
                return oauth_error("invalid_grant", "Maximum allowed refresh token reuse exceeded")
            record["used"] = True
            store.put("refresh", REALM, sha(rt), record)
            grant["last_used"] = time.time()
            store.put("grant", REALM, grant["sid"], grant)
            body = sb().issue_tokens(grant, issuer())
        elif grant_type in (
            "password",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ):
            return oauth_error(
                "unauthorized_client",
                "Client not allowed for direct access grants"
                if grant_type == "password"
                else "Client not enabled to retrieve service account",
            )
        else:
            return oauth_error("unsupported_grant_type", "Unsupported grant_type")
    resp = jsonify(body)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp


@bp.post("/protocol/openid-connect/revoke")
def revoke():
    client, err = _client_auth()
    if err:
        return err
    tok = request.form.get("token")
    if not tok:
        return oauth_error("invalid_request", "Token not provided")
    store = sb().store
    with store.tx():
        record = store.get("refresh", REALM, sha(tok))
        if record is not None:
            if record["client_id"] != client["client_id"]:
                return oauth_error("unauthorized_client", "Unmatching clients")
            grant = store.get("grant", REALM, record["sid"])
            if grant:
                grant["active"] = False
                store.put("grant", REALM, grant["sid"], grant)
        else:
            claims = sb().verify_access(tok)
            if claims:
                store.kv_set(f"revoked:{claims['jti']}", True)
    return Response("", status=200)


@bp.post("/protocol/openid-connect/token/introspect")
def introspect():
    client, err = _client_auth()
    if err:
        return err
    tok = request.form.get("token", "")
    claims = sb().verify_access(tok) if tok else None
    if claims is None:
        record = sb().store.get("refresh", REALM, sha(tok)) if tok else None
        grant = sb().store.get("grant", REALM, record["sid"]) if record else None
        if record and not record["used"] and sb().grant_alive(grant):
            return jsonify(
                {
                    "active": True,
                    "typ": "Offline" if grant["offline"] else "Refresh",
                    "client_id": grant["client_id"],
                    "sid": grant["sid"],
                    "scope": " ".join(grant["scopes"]),
                    "company_id": grant["company"],
                }
            )
        return jsonify({"active": False})
    return jsonify({**claims, "active": True, "client_id": claims["azp"], "token_type": "Bearer"})


@bp.route("/protocol/openid-connect/userinfo", methods=["GET", "POST"])
def userinfo():
    header = request.headers.get("Authorization", "")
    tok = header[7:].strip() if header.lower().startswith("bearer ") else request.form.get("access_token", "")
    claims = sb().verify_access(tok) if tok else None
    if claims is None:
        resp = jsonify({"error": "invalid_token", "error_description": "Token verification failed"})
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = (
            'Bearer realm="bexio", error="invalid_token", error_description="Token verification failed"'
        )
        return resp
    user = sb().user_by_sub(claims["sub"])
    scopes = claims["scope"].split()
    out = {"sub": user["sub"]}
    if "email" in scopes:
        out["email_verified"] = True
    if "profile" in scopes:
        out["gender"] = user["gender"]
    if "company_profile" in scopes:
        out["company_id"] = claims["company_id"]
        out["shard_id"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, claims["company_id"]))
        out["company_name"] = seed.COMPANIES[claims["company_id"]]["name"]
    if "profile" in scopes:
        out["locale"] = "de-CH"
        out["given_name"] = user["given_name"]
    if "company_profile" in scopes:
        out["company_user_id"] = claims["company_user_id"]
    if "profile" in scopes:
        out["family_name"] = user["family_name"]
    if "email" in scopes:
        out["email"] = user["username"]
    resp = jsonify(out)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    resp.headers["X-XSS-Protection"] = "1; mode=block"
    return resp
