"""Helpers for the bexio client tests: a client over httpx.MockTransport, recorded bodies."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bexio import BexioClient
from bexio.auth import BexioAuth, MemoryTokenStore, TokenProvider, TokenSet

# ../shared/reference beside the project (as in CI); BEXIO_REFERENCE points elsewhere.
REFERENCE = Path(
    os.environ.get("BEXIO_REFERENCE", Path(__file__).resolve().parents[3] / "shared" / "reference")
)
RECORDED = REFERENCE / "bexio-recorded"
API = "https://api.bexio.test"
ISSUER = "https://auth.bexio.test/realms/bexio"


def recorded(name: str) -> tuple[int, dict, object]:
    """(status, headers, parsed body) of one recording, e.g. recorded("Contacts/fetch-a-contact")."""
    raw = json.loads((RECORDED / f"{name}.json").read_text())
    return raw["statusCode"], raw["headers"], json.loads(raw["data"])


def tokens(access: str = "at-1", refresh: str = "rt-1", *, expires_in: float = 3600) -> TokenSet:
    return TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        scopes=frozenset({"contact_edit", "kb_invoice_edit"}),
    )


class Recorder:
    """A MockTransport handler that answers from a list of callables and records the requests."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.handler(request)


@pytest.fixture
def make_client():
    """make_client(handler, **client_kwargs) -> (client, recorder, sleeps)."""
    made = []

    def make(handler, *, store=None, auth_handler=None, **kwargs):
        recorder = Recorder(handler)
        sleeps: list[float] = []
        store = store or MemoryTokenStore(tokens())
        auth = BexioAuth(
            issuer=ISSUER,
            client_id="cid",
            client_secret="csecret",
            transport=httpx.MockTransport(auth_handler or (lambda r: httpx.Response(500))),
        )
        provider = TokenProvider(auth=auth, store=store)
        kwargs.setdefault("sleep", sleeps.append)
        client = BexioClient(
            base_url=API, token_provider=provider, transport=httpx.MockTransport(recorder), **kwargs
        )
        made.append(client)
        return client, recorder, sleeps

    yield make
    for client in made:
        client.close()
