"""`in` searches: many values in one request instead of one search per value."""

from __future__ import annotations

import json

import httpx
import pytest

from bexio import Criterion

from .conftest import recorded


def test_is_in_sends_a_list_of_strings():
    assert Criterion.is_in("api_reference", ["a", "b"]).to_bexio() == {
        "field": "api_reference",
        "value": ["a", "b"],
        "criteria": "in",
    }
    assert Criterion.not_in("kb_item_status_id", [7, 19]).to_bexio()["value"] == ["7", "19"]
    with pytest.raises(ValueError):
        Criterion("api_reference", "in", "a,b")  # a list is required


def test_batches_split_long_lists_and_drop_duplicates():
    batches = list(Criterion.batches("api_reference", ["a", "b", "a", "c", "d", "e"], size=2))
    assert [b.value for b in batches] == [["a", "b"], ["c", "d"], ["e"]]
    assert all(b.criteria == "in" for b in batches)
    assert list(Criterion.batches("api_reference", [])) == []


def test_search_in_makes_one_request_per_batch_not_per_value(make_client):
    _, _, found = recorded("Invoices/search-invoices")
    refs = [f"ref-{i}" for i in range(250)]
    bodies = []

    def handler(request):
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=found)

    client, rec, _ = make_client(handler)
    got = list(
        client.invoices.search_in(
            "api_reference", refs, criteria=[Criterion("kb_item_status_id", "!=", 19)], batch_size=100
        )
    )
    assert len(rec.requests) == 3 and len(got) == 3 * len(found)
    assert {r.url.path for r in rec.requests} == {"/2.0/kb_invoice/search"}
    assert [len(body[1]["value"]) for body in bodies] == [100, 100, 50]
    assert bodies[0][0] == {"field": "kb_item_status_id", "value": "19", "criteria": "!="}
    assert bodies[2][1]["value"][-1] == "ref-249"
