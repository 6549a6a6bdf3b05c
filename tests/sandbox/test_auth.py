"""Auth server: browser flow (login, company choice, consent), token endpoint, refresh, revoke, userinfo."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest

CLIENT = ("aeroledger-demo", "aeroledger-demo-secret")
REDIRECT = "http://127.0.0.1:8000/bexio/callback"
SCOPES = "openid profile email offline_access company_profile contact_edit kb_invoice_edit accounting"


def _form_action(html: str) -> str:
    return re.search(r'<form[^>]*action="([^"]+)"', html).group(1).replace("&amp;", "&")


def authorize(
    sandbox,
    *,
    username="demo@bexio.test",
    scope=SCOPES,
    untick=(),
    cancel=False,
    company=None,
    state="st-1",
    **extra,
) -> httpx.Response:
    """Walk the browser flow; returns the final redirect response (302 to the client)."""
    browser = httpx.Client(base_url=sandbox.url, follow_redirects=False)
    params = {
        "client_id": CLIENT[0],
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": scope,
        "state": state,
        **extra,
    }
    page = browser.get("/realms/bexio/protocol/openid-connect/auth", params=params)
    assert page.status_code == 200, page.text
    page = browser.post(_form_action(page.text), data={"username": username, "password": "sandbox"})
    if 'name="company_id"' in page.text:
        options = re.findall(r'name="company_id" value="([^"]+)"', page.text)
        page = browser.post(_form_action(page.text), data={"company_id": company or options[-1]})
    assert 'name="scope"' in page.text, page.text
    offered = re.findall(r'name="scope" value="([^"]+)"', page.text)
    ticked = [s for s in offered if s not in untick]
    data = {"scope": ticked, ("cancel" if cancel else "accept"): "x"}
    final = browser.post(_form_action(page.text), data=data)
    assert final.status_code == 302
    return final


def callback_params(resp: httpx.Response) -> dict:
    loc = resp.headers["location"]
    assert loc.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlparse(loc).query).items()}


def token_call(sandbox, data: dict, auth=CLIENT, params=None) -> httpx.Response:
    return httpx.post(sandbox.issuer + "/protocol/openid-connect/token", data=data, auth=auth, params=params)


def exchange(sandbox, code: str, **extra) -> httpx.Response:
    return token_call(
        sandbox, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    )


def test_discovery_and_certs(sandbox):
    doc = httpx.get(sandbox.issuer + "/.well-known/openid-configuration").json()
    assert doc["issuer"] == sandbox.issuer
    assert doc["token_endpoint"] == sandbox.issuer + "/protocol/openid-connect/token"
    assert "S256" in doc["code_challenge_methods_supported"]
    keys = httpx.get(doc["jwks_uri"]).json()["keys"]
    assert keys[0]["alg"] == "RS256"


def test_full_flow_tokens_and_userinfo(sandbox):
    params = callback_params(authorize(sandbox, nonce="n-1"))
    assert params["state"] == "st-1"
    assert params["iss"] == sandbox.issuer
    assert params["session_state"]
    resp = exchange(sandbox, params["code"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] and body["id_token"]
    scopes = set(body["scope"].split())
    assert {"contact_edit", "contact_show", "kb_invoice_show", "accounting"} <= scopes  # write implies read
    jwks = jwt.PyJWKClient(sandbox.issuer + "/protocol/openid-connect/certs")
    claims = jwt.decode(
        body["access_token"],
        jwks.get_signing_key_from_jwt(body["access_token"]).key,
        algorithms=["RS256"],
        audience="account",
    )
    assert (
        claims["company_id"]
        and claims["user_id"] == 1
        and "exp" in claims
        and "contact_edit" in claims["scope"]
    )
    info = httpx.get(
        sandbox.issuer + "/protocol/openid-connect/userinfo",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    ).json()
    assert info["email"] == "demo@bexio.test"
    assert info["locale"] == "de-CH"
    assert isinstance(info["company_id"], str) and isinstance(info["company_user_id"], int)
    assert re.fullmatch(r"[0-9a-f-]{36}", info["sub"])
    id_claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_claims["nonce"] == "n-1"
    api = httpx.get(sandbox.url + "/2.0/contact", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert api.status_code == 200


def test_unticked_scope_is_not_granted(sandbox):
    params = callback_params(authorize(sandbox, untick=("kb_invoice_edit",)))
    body = exchange(sandbox, params["code"]).json()
    assert "kb_invoice_edit" not in body["scope"].split()
    resp = httpx.get(
        sandbox.url + "/2.0/kb_invoice", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert resp.status_code == 403


def test_company_choice_binds_token(sandbox):
    companies = {c["name"]: c["company_id"] for c in sandbox.companies()}
    second = companies["Motorfluggruppe Zwei"]
    params = callback_params(authorize(sandbox, username="multi@bexio.test", company=second))
    body = exchange(sandbox, params["code"]).json()
    assert jwt.decode(body["access_token"], options={"verify_signature": False})["company_id"] == second


def test_cancel_gives_access_denied(sandbox):
    params = callback_params(authorize(sandbox, cancel=True, state="xyz"))
    assert params["error"] == "access_denied"
    assert params["state"] == "xyz"
    assert "code" not in params


def test_unknown_redirect_uri_never_redirects(sandbox):
    resp = httpx.get(
        sandbox.issuer + "/protocol/openid-connect/auth",
        params={
            "client_id": CLIENT[0],
            "redirect_uri": "http://evil.example/cb",
            "response_type": "code",
            "scope": "openid",
            "state": "s",
        },
    )
    assert resp.status_code == 400
    assert "location" not in resp.headers
    assert "redirect_uri" in resp.text


def test_wrong_password_shows_login_again(sandbox):
    browser = httpx.Client(base_url=sandbox.url)
    page = browser.get(
        "/realms/bexio/protocol/openid-connect/auth",
        params={
            "client_id": CLIENT[0],
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "openid",
            "state": "s",
        },
    )
    page = browser.post(_form_action(page.text), data={"username": "demo@bexio.test", "password": "nope"})
    assert page.status_code == 200
    assert "Invalid username or password." in page.text


def test_code_single_use_and_expiry(sandbox):
    code = callback_params(authorize(sandbox))["code"]
    assert exchange(sandbox, code).status_code == 200
    again = exchange(sandbox, code)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "Code not valid"}
    sandbox.settings(code_ttl_s=0)
    late = callback_params(authorize(sandbox))["code"]
    time.sleep(0.05)
    assert exchange(sandbox, late).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce(sandbox, method):
    verifier = "v" * 50
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if method == "S256"
        else verifier
    )
    code = callback_params(authorize(sandbox, code_challenge=challenge, code_challenge_method=method))["code"]
    bad = exchange(sandbox, code, code_verifier="w" * 50)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    code = callback_params(authorize(sandbox, code_challenge=challenge, code_challenge_method=method))["code"]
    assert exchange(sandbox, code).json()["error_description"] == "PKCE code verifier not specified"
    code = callback_params(authorize(sandbox, code_challenge=challenge, code_challenge_method=method))["code"]
    assert exchange(sandbox, code, code_verifier=verifier).status_code == 200


def test_query_string_parameters_refused(sandbox):
    code = callback_params(authorize(sandbox))["code"]
    resp = token_call(
        sandbox, {}, params={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request"


def test_client_authentication(sandbox):
    code = callback_params(authorize(sandbox))["code"]
    bad = token_call(
        sandbox,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(CLIENT[0], "wrong"),
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"
    code = callback_params(authorize(sandbox))["code"]
    post = token_call(
        sandbox,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": CLIENT[0],
            "client_secret": CLIENT[1],
        },
        auth=None,
    )
    assert post.status_code == 200
    assert token_call(sandbox, {"grant_type": "magic"}).json()["error"] == "unsupported_grant_type"


def test_refresh_rotation_and_reuse(sandbox):
    first = exchange(sandbox, callback_params(authorize(sandbox))["code"]).json()
    second = token_call(sandbox, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    reuse = token_call(sandbox, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    sandbox.settings(revoke_used_refresh_tokens=False)
    rt = second.json()["refresh_token"]
    assert token_call(sandbox, {"grant_type": "refresh_token", "refresh_token": rt}).status_code == 200
    assert token_call(sandbox, {"grant_type": "refresh_token", "refresh_token": rt}).status_code == 200
    grants = [r.get("grant_type") for r in sandbox.requests() if r["path"].endswith("/token")]
    assert grants.count("refresh_token") == 4


def test_offline_session_idle_expiry(sandbox):
    sandbox.settings(offline_idle_s=1)
    body = exchange(sandbox, callback_params(authorize(sandbox))["code"]).json()
    time.sleep(1.3)
    resp = token_call(sandbox, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant", "error_description": "Offline session not active"}


def test_revoke_refresh_token_ends_grant(sandbox):
    body = exchange(sandbox, callback_params(authorize(sandbox))["code"]).json()
    resp = httpx.post(
        sandbox.issuer + "/protocol/openid-connect/revoke",
        auth=CLIENT,
        data={"token": body["refresh_token"], "token_type_hint": "refresh_token"},
    )
    assert resp.status_code == 200
    again = token_call(sandbox, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert again.status_code == 400
    api = httpx.get(sandbox.url + "/2.0/contact", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert api.status_code == 401
    assert api.json() == {"error_code": 401, "message": "Invalid access token"}


def test_access_token_lifetime_setting(sandbox):
    sandbox.settings(access_token_ttl_s=1)
    tokens = sandbox.tokens(scopes=["contact_show"])
    assert tokens["expires_in"] == 1
    time.sleep(1.2)
    api = httpx.get(
        sandbox.url + "/2.0/contact", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert api.status_code == 401


def test_control_tokens_refresh(sandbox):
    tokens = sandbox.tokens(scopes=["contact_show", "offline_access"])
    resp = token_call(sandbox, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 200


def test_introspect(sandbox):
    tokens = sandbox.tokens(scopes=["contact_show", "offline_access"])
    url = sandbox.issuer + "/protocol/openid-connect/token/introspect"
    assert httpx.post(url, auth=CLIENT, data={"token": tokens["access_token"]}).json()["active"] is True
    assert httpx.post(url, auth=CLIENT, data={"token": tokens["refresh_token"]}).json()["active"] is True
    assert httpx.post(url, auth=CLIENT, data={"token": "nope"}).json() == {"active": False}
    assert httpx.post(url, auth=(CLIENT[0], "bad"), data={"token": "nope"}).status_code == 401
