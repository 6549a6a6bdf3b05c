"""The client's rate-bucket table and the sandbox's say the same, route by route.

The sandbox's table (`bexio_sandbox.ratelimit`) arrives with the sandbox's per-route rate limits;
until that branch is merged this module is skipped (importorskip), afterwards it must pass.
"""

from __future__ import annotations

import re

import pytest

from bexio import buckets as client_side

sandbox_side = pytest.importorskip("bexio_sandbox.ratelimit")

# Routes of the default bucket on both sides (neither table lists them).
DEFAULT_SAMPLES = [
    ("GET", "/2.0/contact"),
    ("POST", "/2.0/contact"),
    ("POST", "/2.0/kb_invoice"),
    ("GET", "/2.0/kb_invoice/7"),
    ("POST", "/2.0/kb_invoice/7/issue"),
    ("POST", "/2.0/accounts/search"),
    ("POST", "/2.0/country/search"),
    ("GET", "/3.0/taxes"),
    ("GET", "/3.0/accounting/journal"),
    ("POST", "/3.0/accounting/manual_entries"),
]


def concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "7", template)


def sandbox_routes() -> set[tuple[str, str, str]]:
    return {(m, t, b.name) for b in sandbox_side.BUCKETS for m, t in b.routes}


def test_same_buckets_and_limits():
    assert dict(client_side.LIMITS) == {b.name: b.limit for b in sandbox_side.BUCKETS}


def test_same_routes():
    assert {(r.method, r.path, r.bucket) for r in client_side.ROUTES} == sandbox_routes()


def test_every_route_lands_in_the_same_bucket_on_both_sides():
    routes = [(m, concrete(t)) for m, t, _ in sandbox_routes()] + DEFAULT_SAMPLES
    routes += [(r.method, concrete(r.path)) for r in client_side.ROUTES]
    for method, path in routes:
        assert client_side.bucket_for(method, path) == sandbox_side.bucket_for(method, path), (method, path)
