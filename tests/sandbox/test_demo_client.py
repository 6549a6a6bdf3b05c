"""The demo OAuth client accepts the app's configured callback (`--demo-redirect-uri`, or
$BEXIO_SANDBOX_DEMO_REDIRECT_URIS), through resets and --db restarts."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from bexio_sandbox.__main__ import REDIRECT_ENV, parse
from bexio_sandbox.testing import running_sandbox

APP = "http://127.0.0.1:8080/bexio/callback"
OTHER = "https://aeroledger.example.ch/bexio/callback"
DEFAULTS = ("http://127.0.0.1:8000/bexio/callback", "http://localhost:8000/bexio/callback")


def accepted(sb, redirect_uri: str) -> bool:
    """Whether the authorisation page opens (a refused callback is an error page, never a redirect)."""
    resp = httpx.get(
        sb.issuer + "/protocol/openid-connect/auth",
        params={
            "client_id": "aeroledger-demo",
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": "s",
        },
    )
    if resp.status_code == 400:
        assert "Invalid parameter: redirect_uri" in resp.text
        return False
    assert resp.status_code == 200 and 'name="username"' in resp.text, resp.text
    return True


def form_action(page: str) -> str:
    return re.search(r'<form[^>]*action="([^"]+)"', page).group(1).replace("&amp;", "&")


def test_the_app_callback_works_end_to_end_and_survives_reset():
    with running_sandbox(demo_redirect_uris=[APP]) as sb:
        assert accepted(sb, APP) and all(accepted(sb, uri) for uri in DEFAULTS)
        assert not accepted(sb, OTHER)
        browser = httpx.Client(base_url=sb.url, follow_redirects=False)
        page = browser.get(
            "/realms/bexio/protocol/openid-connect/auth",
            params={
                "client_id": "aeroledger-demo",
                "redirect_uri": APP,
                "response_type": "code",
                "scope": "openid offline_access contact_show",
                "state": "st",
            },
        )
        page = browser.post(
            form_action(page.text), data={"username": "demo@bexio.test", "password": "sandbox"}
        )
        back = browser.post(
            form_action(page.text),
            data={"scope": ["openid", "offline_access", "contact_show"], "accept": "x"},
        )
        assert back.status_code == 302 and back.headers["location"].startswith(APP + "?")
        code = parse_qs(urlparse(back.headers["location"]).query)["code"][0]
        tokens = httpx.post(
            sb.issuer + "/protocol/openid-connect/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": APP},
            auth=("aeroledger-demo", "aeroledger-demo-secret"),
        )
        assert tokens.status_code == 200 and tokens.json()["refresh_token"]
        sb.reset()
        assert accepted(sb, APP)


def test_the_callbacks_survive_db_restarts(tmp_path):
    db = str(tmp_path / "sandbox.sqlite3")
    with running_sandbox(db=db, demo_redirect_uris=[APP]) as sb:
        assert accepted(sb, APP)
    with running_sandbox(db=db) as sb:  # started again without the option: still known
        assert accepted(sb, APP)
    with running_sandbox(db=db, demo_redirect_uris=[OTHER]) as sb:
        assert accepted(sb, APP) and accepted(sb, OTHER) and all(accepted(sb, uri) for uri in DEFAULTS)
    with running_sandbox() as sb:
        assert not accepted(sb, APP)  # a fresh sandbox knows only the defaults


def test_cli_option_and_environment(monkeypatch):
    monkeypatch.delenv(REDIRECT_ENV, raising=False)
    assert parse([])[1]["demo_redirect_uris"] == []
    assert parse(["--demo-redirect-uri", APP, "--demo-redirect-uri", OTHER])[1]["demo_redirect_uris"] == [
        APP,
        OTHER,
    ]
    monkeypatch.setenv(REDIRECT_ENV, f"{APP}, {OTHER}")
    assert parse([])[1]["demo_redirect_uris"] == [APP, OTHER]
    for bad in ("127.0.0.1:8080/cb", "ftp://x/cb", "http://x/cb#frag"):
        with pytest.raises(SystemExit):
            parse(["--demo-redirect-uri", bad])


def test_a_db_of_an_older_seed_is_flagged_until_reset(tmp_path):
    db = str(tmp_path / "old.sqlite3")
    with running_sandbox(db=db) as sb:
        assert sb.sandbox.seed_outdated is False
        sb.sandbox.store.kv_set("seed_version", 1)  # as a file seeded before the club's chart
    with running_sandbox(db=db) as sb:
        assert sb.sandbox.seed_outdated is True
        sb.reset()
        assert sb.sandbox.seed_outdated is False
