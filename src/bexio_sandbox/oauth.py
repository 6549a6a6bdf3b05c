"""The OpenID Connect endpoints of the realm `bexio` (Keycloak at auth.bexio.com): discovery (the
recorded document, issuer replaced), the signing keys, the token endpoint (authorization code with
PKCE, refresh with rotation; form body only; Keycloak's error shape), revoke, introspect, userinfo."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from urllib.parse import unquote

from flask import Blueprint, Response, jsonify, request
from jwt.algorithms import RSAAlgorithm

from . import seed
from .context import sandbox, store
from .realm import REALM, sha

bp = Blueprint("oauth", __name__, url_prefix="/realms/bexio")
KEYCLOAK_HEADERS = {  # on Keycloak's JSON answers (recorded discovery and userinfo)
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-XSS-Protection": "1; mode=block",
}


def realm():
    """The sandbox's realm.Realm."""
    return sandbox().realm


def issuer() -> str:
    return request.host_url.rstrip("/") + "/realms/bexio"


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    resp = jsonify({"error": error, "error_description": description})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    return resp


# discovery and keys ---------------------------------------------------------------------------
@bp.get("/.well-known/openid-configuration")
def discovery():
    text = json.dumps(seed.openid_template()).replace("https://auth.bexio.com/realms/bexio", issuer())
    doc = json.loads(text)
    resp = Response(json.dumps(doc), mimetype="application/json")
    resp.headers["Cache-Control"] = "no-cache, must-revalidate, no-transform, no-store"
    resp.headers.update(KEYCLOAK_HEADERS)
    resp.headers["Vary"] = "Accept-Encoding"
    return resp


@bp.get("/protocol/openid-connect/certs")
def certs():
    jwk = json.loads(RSAAlgorithm.to_jwk(realm().public_key))
    jwk.update({"kid": realm().kid, "alg": "RS256", "use": "sig"})
    return jsonify({"keys": [jwk]})


# token endpoint -----------------------------------------------------------------------------------
def _client_auth():
    """-> (client, error response)."""
    client_id = secret = None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:].strip()).decode()
            client_id, _, secret = raw.partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        except (ValueError, UnicodeDecodeError):
            return None, oauth_error("invalid_client", "Invalid client or Invalid client credentials", 401)
    else:
        client_id = request.form.get("client_id")
        secret = request.form.get("client_secret")
    client = realm().client(client_id)
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


def _code_grant(client: dict) -> dict | Response:
    """authorization_code: single use (a reused code ends the session), within `code_ttl_s`, the same
    redirect_uri, PKCE verified; -> the token answer or Keycloak's error."""
    docs = store()
    code = request.form.get("code", "")
    record = docs.get("code", REALM, sha(code))
    if record is None or record["client_id"] != client["client_id"]:
        return oauth_error("invalid_grant", "Code not valid")
    grant = docs.get("grant", REALM, record["sid"])
    if record["used"] or time.time() - record["created"] > sandbox().settings["code_ttl_s"]:
        if record["used"] and grant:  # Keycloak ends the session on code reuse
            grant["active"] = False
            docs.put("grant", REALM, grant["sid"], grant)
        record["used"] = True
        docs.put("code", REALM, sha(code), record)
        return oauth_error("invalid_grant", "Code not valid")
    record["used"] = True
    docs.put("code", REALM, sha(code), record)
    if request.form.get("redirect_uri") != record["redirect_uri"]:
        return oauth_error("invalid_grant", "Incorrect redirect_uri")
    problem = _pkce_ok(record, request.form.get("code_verifier"))
    if problem:
        return oauth_error("invalid_grant", problem)
    if not realm().grant_alive(grant):
        return oauth_error("invalid_grant", "Session not active")
    grant["last_used"] = time.time()
    docs.put("grant", REALM, grant["sid"], grant)
    return realm().issue_tokens(grant, issuer())


def _refresh_grant(client: dict) -> dict | Response:
    """refresh_token: the same client, a live session (idle limits), rotation (a used refresh token is
    refused when `revoke_used_refresh_tokens`); -> the token answer or Keycloak's error."""
    docs = store()
    rt = request.form.get("refresh_token", "")
    record = docs.get("refresh", REALM, sha(rt))
    if record is None:
        return oauth_error("invalid_grant", "Invalid refresh token")
    if record["client_id"] != client["client_id"]:
        return oauth_error(
            "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"
        )
    grant = docs.get("grant", REALM, record["sid"])
    if grant is None or not grant["active"]:
        return oauth_error("invalid_grant", "Token is not active")
    if time.time() - grant["last_used"] > realm().grant_idle_limit(grant):
        grant["active"] = False
        docs.put("grant", REALM, grant["sid"], grant)
        return oauth_error(
            "invalid_grant", "Offline session not active" if grant["offline"] else "Session not active"
        )
    if record["used"] and sandbox().settings["revoke_used_refresh_tokens"]:
        return oauth_error("invalid_grant", "Maximum allowed refresh token reuse exceeded")
    record["used"] = True
    docs.put("refresh", REALM, sha(rt), record)
    grant["last_used"] = time.time()
    docs.put("grant", REALM, grant["sid"], grant)
    return realm().issue_tokens(grant, issuer())


NO_DIRECT_GRANTS = ("password", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange")


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
    if grant_type in NO_DIRECT_GRANTS:
        return oauth_error(
            "unauthorized_client",
            "Client not allowed for direct access grants"
            if grant_type == "password"
            else "Client not enabled to retrieve service account",
        )
    if grant_type not in ("authorization_code", "refresh_token"):
        return oauth_error("unsupported_grant_type", "Unsupported grant_type")
    with store().tx():  # what a refused grant marks (a used code, an ended session) is kept
        body = _code_grant(client) if grant_type == "authorization_code" else _refresh_grant(client)
    if isinstance(body, Response):
        return body
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
    docs = store()
    with docs.tx():
        record = docs.get("refresh", REALM, sha(tok))
        if record is not None:
            if record["client_id"] != client["client_id"]:
                return oauth_error("unauthorized_client", "Unmatching clients")
            grant = docs.get("grant", REALM, record["sid"])
            if grant:
                grant["active"] = False
                docs.put("grant", REALM, grant["sid"], grant)
        else:
            claims = realm().verify_access(tok)
            if claims:
                docs.kv_set(f"revoked:{claims['jti']}", True)
    return Response("", status=200)


@bp.post("/protocol/openid-connect/token/introspect")
def introspect():
    client, err = _client_auth()
    if err:
        return err
    tok = request.form.get("token", "")
    claims = realm().verify_access(tok) if tok else None
    if claims is None:
        record = store().get("refresh", REALM, sha(tok)) if tok else None
        grant = store().get("grant", REALM, record["sid"]) if record else None
        if record and not record["used"] and realm().grant_alive(grant):
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
    claims = realm().verify_access(tok) if tok else None
    if claims is None:
        resp = jsonify({"error": "invalid_token", "error_description": "Token verification failed"})
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = (
            'Bearer realm="bexio", error="invalid_token", error_description="Token verification failed"'
        )
        return resp
    user = realm().user_by_sub(claims["sub"])
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
    resp.headers.update(KEYCLOAK_HEADERS)
    return resp
