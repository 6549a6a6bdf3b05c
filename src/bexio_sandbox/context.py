"""The running sandbox and the company of the request being answered (Flask request context)."""

from __future__ import annotations

from flask import current_app, g, request

from .responses import not_found


def sandbox():
    """The `state.Sandbox` of this app."""
    return current_app.config["SANDBOX"]


def store():
    return current_app.config["SANDBOX"].store


def company() -> str:
    """The company of the request's access token (set by the guard; the office sets it per page)."""
    return request.environ["sandbox.company"]


def user_id() -> int:
    """The company user id of the request's access token."""
    return g.claims["user_id"]


def get_or_404(kind: str, id_) -> dict:
    """A document of the request's company, or bexio's 404 "Not found"."""
    doc = store().get(kind, company(), id_)
    if doc is None:
        raise not_found()
    return doc
