"""Helpers of the sandbox tests: an API client with a token for the demo company."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def api(sandbox):
    def make(scopes=None, company_id=None, user=None) -> httpx.Client:
        token = sandbox.token(scopes=scopes, company_id=company_id, user=user)
        return httpx.Client(
            base_url=sandbox.url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=30,
        )

    client = make()
    client.make = make
    return client
