"""Issue 13: the OAuth `code` and `state` of bexio's callback appeared in the access log of
`make run`. Django's log lines go through `aeroledger.logs.RedactOAuthParams`; gunicorn's access
log through `aeroledger.logs.GunicornLogger` (`--logger-class`)."""

import io
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aeroledger.logs import redact

ROOT = Path(__file__).resolve().parents[2]
CODE, STATE = "SECRETCODE4711abc", "SECRETSTATE0815xyz"
QUERY = f"code={CODE}&state={STATE}&session_state=SECRETSESSION"


def test_redact():
    assert redact(f"GET /bexio/callback?{QUERY} HTTP/1.1") == (
        "GET /bexio/callback?code=[redacted]&state=[redacted]&session_state=[redacted] HTTP/1.1"
    )
    assert redact("/o/club/?status=errors&barcode=1") == "/o/club/?status=errors&barcode=1"
    assert redact("GET /login/?next=/bexio/callback%3Fcode%3Dabc%26state%3Dxyz%26x%3D1") == (
        "GET /login/?next=/bexio/callback%3Fcode%3D[redacted]%26state%3D[redacted]%26x%3D1"
    )


@pytest.mark.django_db
def test_a_callback_request_leaves_no_code_or_state_in_djangos_log_output(client):
    console = next(h for h in logging.getLogger().handlers if getattr(h, "name", "") == "console")
    captured = io.StringIO()
    old_stream = console.setStream(captured)
    try:
        response = client.get(
            f"/bexio/callback?{QUERY}", HTTP_REFERER=f"https://bexio.example/auth?state={STATE}"
        )
        assert response.status_code == 302  # to the login page, the callback URL in ?next=
        client.get(response["Location"])
        # What runserver logs for the request (django.server), and a view's warning quoting the URL.
        logging.getLogger("django.server").info('"GET /bexio/callback?%s HTTP/1.1" 400 1234', QUERY)
        logging.getLogger("django.request").warning("Bad Request: %s", f"/bexio/callback?{QUERY}")
    finally:
        console.setStream(old_stream)
    output = captured.getvalue()
    assert "/bexio/callback?code=[redacted]&state=[redacted]" in output
    assert CODE not in output and STATE not in output and "SECRETSESSION" not in output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_access_log(tmp_path, extra_args: list[str]) -> str:
    """Serve the app with gunicorn as `make run` does, request the callback once, return its log."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(AEROLEDGER_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="aeroledger.settings")
    bin_dir = Path(sys.executable).parent
    if not (tmp_path / "aeroledger.sqlite3").exists():
        for command in (["migrate"], ["collectstatic", "--no-input"]):
            subprocess.run(
                [sys.executable, "-m", "django", *command, "-v", "0"], env=env, check=True, timeout=300
            )
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "aeroledger.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--access-logfile", "-", *extra_args],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
        try:
            for _ in range(100):
                try:
                    response = httpx.get(
                        f"http://127.0.0.1:{port}/bexio/callback?{QUERY}",
                        headers={"Referer": f"https://bexio.example/auth?state={STATE}"},
                    )
                    break
                except httpx.ConnectError:
                    time.sleep(0.2)
            assert response.status_code == 302  # to the login page, the callback in ?next=
            httpx.get(f"http://127.0.0.1:{port}{response.headers['Location']}")
            time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return log.read_text()


@pytest.mark.slow
def test_gunicorns_access_log_has_no_code_or_state_with_the_logger_class(tmp_path):
    plain = gunicorn_access_log(tmp_path, [])
    assert CODE in plain and STATE in plain  # the finding: gunicorn's default access log
    assert f"code%3D{CODE}" in plain  # and again in the login page's ?next=
    redacted = gunicorn_access_log(tmp_path, ["--logger-class", "aeroledger.logs.GunicornLogger"])
    assert "/bexio/callback?code=[redacted]&state=[redacted]" in redacted, redacted
    assert "/bexio/callback%3Fcode%3D[redacted]%26state%3D[redacted]" in redacted, redacted
    assert CODE not in redacted and STATE not in redacted and "SECRETSESSION" not in redacted, redacted
