"""The WSGI application: Flask app (auth, API, control) inside a wrapper for latency, faults, log."""

from __future__ import annotations

import json
import socket
import time
from http import HTTPStatus

from flask import Flask

from . import (
    accounting,
    articles,
    comments,
    contacts,
    control,
    document_routes,
    guard,
    journal,
    login,
    manual_entries,
    masterdata,
    oauth,
    office,
    payments,
    position_routes,
    reminders,
    resources,
)
from .operations import Operations
from .state import Sandbox

NOT_LOGGED = ("/favicon.ico",)


class DropConnection(ConnectionResetError):
    """Raised after the socket is shut down: the server treats it as a dropped connection."""


def _drop(environ) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise DropConnection("sandbox fault: connection dropped")


FAULT_MESSAGES = {
    400: "Parameters are invalid",
    401: "Invalid access token",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    422: "The form could not be saved due to the following errors:",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Fault"


def fault_response(code: int, environ, fault, start_response):
    """A faulted answer shaped like bexio's (429: Kong's body with Retry-After and rate headers)."""
    headers = [("Content-Type", "application/json")]
    if environ.get("PATH_INFO", "").startswith(("/2.0/", "/3.0/", "/4.0/")):
        headers += [
            ("Cache-Control", "no-store"),
            ("pragma", "no-cache"),
            ("vary", "Origin"),
            ("access-control-allow-origin", "https://office.bexio.com"),
        ]
    if code == 429:
        body = {"message": "API rate limit exceeded"}
        retry = str(int(fault.spec.get("retry_after", 0)))
        headers += [
            ("Retry-After", retry),
            ("ratelimit-remaining", "0"),
            ("x-ratelimit-remaining-minute", "0"),
            ("ratelimit-reset", retry),
        ]
    else:
        body = {"error_code": code, "message": FAULT_MESSAGES.get(code, "Sandbox fault")}
    data = json.dumps(body).encode()
    headers.append(("Content-Length", str(len(data))))
    start_response(f"{code} {_phrase(code)}", headers)
    return [data]


class SandboxApp:
    """WSGI entry point. Order: latency, fault(before), Flask (auth, rate limit, handler), fault(after)."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.flask = create_flask(sandbox)

    def _hold(self, environ) -> None:
        self.sandbox.wake.wait(self.sandbox.settings["timeout_hold_s"])
        _drop(environ)

    def _effect_before(self, fault, environ, start_response):
        kind, _, arg = fault.effect.partition(":")
        if kind == "delay":
            time.sleep(int(arg) / 1000)
            return None
        if kind == "drop":
            _drop(environ)
        if kind == "timeout":
            self._hold(environ)
        return fault_response(int(arg), environ, fault, start_response)

    def __call__(self, environ, start_response):
        sandbox = self.sandbox
        t0 = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        control = path.startswith("/_sandbox")
        captured = {"status": None}
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "method": method, "path": path}

        def record(status, fault=None):
            if control or path in NOT_LOGGED:
                return
            entry.update(
                status=status,
                company=environ.get("sandbox.company"),
                duration_ms=round((time.perf_counter() - t0) * 1000, 3),
            )
            if environ.get("sandbox.grant_type"):
                entry["grant_type"] = environ["sandbox.grant_type"]
            if fault:
                entry["fault"] = fault
            sandbox.log_request(entry)

        if not control:
            latency = sandbox.settings["latency_ms"]
            if latency:
                time.sleep(latency / 1000)
            fault = sandbox.faults.match(method, path, "before")
            if fault is not None:
                try:
                    result = self._effect_before(fault, environ, start_response)
                except DropConnection:
                    record(0, fault.effect)
                    raise
                if result is not None:
                    record(int(fault.effect.split(":")[1]), fault.effect)
                    return result

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        body = b"".join(self.flask(environ, capture))
        status_code = int(captured["status"].split()[0])
        if not control:
            fault = sandbox.faults.match(method, path, "after_commit")
            if fault is not None:
                kind, _, arg = fault.effect.partition(":")
                if kind == "delay":
                    time.sleep(int(arg) / 1000)
                elif kind in ("drop", "timeout"):
                    record(0, fault.effect)
                    if kind == "drop":
                        _drop(environ)
                    self._hold(environ)
                else:
                    record(int(arg), fault.effect)
                    return fault_response(int(arg), environ, fault, start_response)
        record(status_code)
        start_response(captured["status"], captured["headers"])
        return [body]


def create_flask(sandbox: Sandbox) -> Flask:

    app = Flask("bexio_sandbox")
    app.config["SANDBOX"] = sandbox
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.url_map.strict_slashes = False
    for module in (oauth, login, control, office):
        app.register_blueprint(module.bp)
    guard.install(app)
    for module in (
        resources,
        contacts,
        articles,
        masterdata,
        accounting,
        document_routes,
        position_routes,
        comments,
        payments,
        reminders,
        journal,
        manual_entries,
    ):
        app.register_blueprint(module.bp)
    app.config["OPERATIONS"] = Operations(app.url_map)  # after every route exists
    return app


def create_app(db: str = ":memory:", **settings) -> SandboxApp:
    return SandboxApp(Sandbox(db, **settings))
