"""Run the sandbox inside a test process: `with running_sandbox() as sb: sb.url, sb.token(...)`."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import httpx

from .app import create_app
from .server import make_server


class SandboxHandle:
    def __init__(self, url: str, app):
        self.url = url
        self.issuer = url + "/realms/bexio"
        self.api_url = url
        self.app = app
        self.sandbox = app.sandbox
        self.control = httpx.Client(base_url=url + "/_sandbox/", timeout=30)

    # control API helpers -------------------------------------------------------------------------
    def token(self, scopes=None, company_id=None, user=None) -> str:
        return self.tokens(scopes=scopes, company_id=company_id, user=user)["access_token"]

    def tokens(self, scopes=None, company_id=None, user=None, refresh=True) -> dict:
        """Full token answer: access_token, refresh_token, expires_in, scope, company_id."""
        body = {"scopes": scopes, "company_id": company_id, "user": user, "refresh": refresh}
        resp = self.control.post("tokens", json={k: v for k, v in body.items() if v is not None})
        resp.raise_for_status()
        return resp.json()

    def requests(self, since: int = 0) -> list[dict]:
        resp = self.control.get("requests", params={"since": since})
        resp.raise_for_status()
        return resp.json()

    def reset(self) -> None:
        self.control.post("reset").raise_for_status()

    def settings(self, **kw) -> dict:
        resp = self.control.put("settings", json=kw)
        resp.raise_for_status()
        return resp.json()

    def fault(self, **rule) -> dict:
        resp = self.control.post("faults", json=rule)
        resp.raise_for_status()
        return resp.json()

    def clear_faults(self) -> None:
        self.control.delete("faults").raise_for_status()

    def register_client(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> dict:
        resp = self.control.post(
            "clients",
            json={"client_id": client_id, "client_secret": client_secret, "redirect_uris": redirect_uris},
        )
        resp.raise_for_status()
        return resp.json()

    def companies(self) -> list[dict]:
        return self.control.get("companies").json()

    def close(self) -> None:
        self.control.close()


@contextmanager
def running_sandbox(db: str = ":memory:", host: str = "127.0.0.1", port: int = 0, **settings):
    """Start the sandbox on a free port (background thread); yield a `SandboxHandle`."""
    app = create_app(db, **settings)
    server = make_server(host, port, app)
    thread = threading.Thread(target=server.serve_forever, name="bexio-sandbox", daemon=True)
    thread.start()
    handle = SandboxHandle(f"http://{host}:{server.server_port}", app)
    try:
        yield handle
    finally:
        handle.close()
        app.sandbox.wake.set()
        server.shutdown()
        server.server_close()
