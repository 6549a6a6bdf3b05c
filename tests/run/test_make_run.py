"""`make run` (scripts/run.py) on any address: the sandbox's demo client accepts the app's callback,
a failed demo connection is loud, the OAuth code and state never reach the access log."""

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_run():
    spec = importlib.util.spec_from_file_location("make_run", ROOT / "scripts" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = _load_run()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_callback_follows_the_bind_address():
    assert run.base_url_for("127.0.0.1:8040") == "http://127.0.0.1:8040"
    assert run.base_url_for("0.0.0.0:9000") == "http://127.0.0.1:9000"
    assert run.base_url_for("aero.local:8000") == "http://aero.local:8000"
    uris = run.demo_redirect_uris("http://127.0.0.1:8040/")
    assert uris[0] == "http://127.0.0.1:8040/bexio/callback"
    assert "http://127.0.0.1:8000/bexio/callback" in uris


def test_real_bexio_is_not_the_sandbox():
    assert run.uses_sandbox({})
    assert not run.uses_sandbox({"BEXIO_CLIENT_ID": "my-app"})
    assert not run.uses_sandbox({"BEXIO_AUTH_ISSUER": "https://auth.bexio.com/realms/bexio"})


def _auth_page(sandbox_url: str, redirect_uri: str) -> int:
    params = {
        "client_id": "aeroledger-demo",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid contact_show",
        "state": "s",
    }
    return httpx.get(f"{sandbox_url}/realms/bexio/protocol/openid-connect/auth", params=params).status_code


def test_the_sandbox_demo_client_accepts_the_configured_callback(sandbox):
    callback = "http://127.0.0.1:8123/bexio/callback"
    assert _auth_page(sandbox.url, callback) == 400  # the seed knows only port 8000
    assert run.prepare_sandbox_client(sandbox.url, "http://127.0.0.1:8123") == []
    assert _auth_page(sandbox.url, callback) == 200
    assert _auth_page(sandbox.url, "http://127.0.0.1:8000/bexio/callback") == 200  # kept


def test_a_sandbox_that_refuses_is_a_problem_to_report():
    dead = f"http://127.0.0.1:{free_port()}"
    problems = run.prepare_sandbox_client(dead, "http://127.0.0.1:8123")
    assert problems and "http://127.0.0.1:8123/bexio/callback" in problems[0]
    box = run.warning_box(["WARNING: the demo is NOT connected to bexio.", *problems])
    assert box.splitlines()[0].startswith("!!!!") and "NOT connected" in box


def test_the_access_log_has_no_query_string_or_referrer():
    assert "%(U)s" in run.ACCESS_LOG_FORMAT
    for field in ("%(r)s", "%(q)s", "%(f)s", "%({"):
        assert field not in run.ACCESS_LOG_FORMAT


@pytest.mark.browser
@pytest.mark.slow
def test_make_run_on_another_port_connects_in_a_browser(tmp_path, browser_page):
    """The whole first hour on a non-default port: make run, log in, disconnect, Get new token."""
    web, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEXIO_", "AEROLEDGER_", "DATABASE_URL"))}
    env.update(
        AEROLEDGER_VAR_DIR=str(tmp_path),
        AEROLEDGER_BIND=f"127.0.0.1:{web}",
        BEXIO_SANDBOX_PORT=str(sandbox_port),
        DJANGO_ALLOW_ASYNC_UNSAFE="",
    )
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115 - closed below
    command = [sys.executable, str(ROOT / "scripts" / "run.py")]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{web}"
    try:
        deadline = time.monotonic() + 240
        while "Ctrl-C stops everything" not in (tmp_path / "run.log").read_text():
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "make run did not come up"
            time.sleep(0.5)
        started = (tmp_path / "run.log").read_text()
        assert f"Aeroledger is running at {base}/" in started
        assert "NOT connected" not in started
        assert f"{base}/bexio/callback" in started

        page = browser_page
        page.goto(base + "/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "aeroledger")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/o/demo/**")
        page.goto(base + "/o/demo/invoicing/bexio/authorisation")
        assert page.input_value("#redirect-uri") == f"{base}/bexio/callback"
        assert page.inner_text("#client-id").strip() == "aeroledger-demo"
        page.get_by_text("The token is available").wait_for()  # make run connected the demo

        # Disconnect asks first and says what stops; then it disconnects.
        page.get_by_role("button", name="Disconnect").click()
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert "Flugschule Demo AG" in dialog.inner_text()
        dialog.get_by_role("button", name="Disconnect").click()
        page.get_by_text("Not connected to bexio.").wait_for()

        # Get new token -> the sandbox's login and consent -> back on this port.
        page.click("#get-new-token-top")
        page.wait_for_selector("#kc-form-login")
        page.fill("#username", "demo@bexio.test")
        page.fill("#password", "sandbox")
        page.click("#kc-login")
        page.wait_for_selector("#kc-oauth")
        page.click("#kc-oauth button[name=accept]")
        page.wait_for_url(f"{base}/o/demo/invoicing/bexio/authorisation")
        page.get_by_text("The token is available").wait_for()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        output = (tmp_path / "run.log").read_text()
        log.close()
    access = [line for line in output.splitlines() if re.match(r"127\.0\.0\.1 \[", line)]
    assert any('"GET /bexio/callback HTTP' in line for line in access)  # logged, without its query
    assert not [line for line in access if "?" in line or "code=" in line or "state=" in line]
    assert "W047" not in output and "Not Found: /favicon.ico" not in output
