"""Rate limits per (company, bucket) as recorded: 250 on the searches and the invoice PDF, 400 shared by
the article routes, 1000 for the rest; overrides through the control API and the CLI."""

from __future__ import annotations

import httpx
import pytest

from bexio_sandbox.__main__ import rate_settings
from bexio_sandbox.ratelimit import BUCKETS, LIMITS, bucket_for

SEARCH = [{"field": "name_1", "value": "nobody", "criteria": "="}]


def rate(resp) -> tuple[int, int]:
    assert resp.headers["x-ratelimit-limit-minute"] == resp.headers["ratelimit-limit"]
    assert resp.headers["x-ratelimit-remaining-minute"] == resp.headers["ratelimit-remaining"]
    return int(resp.headers["ratelimit-limit"]), int(resp.headers["ratelimit-remaining"])


def test_the_bucket_table_is_the_recorded_one():
    assert LIMITS == {
        "contact_search": 250,
        "kb_invoice_search": 250,
        "article_search": 250,
        "kb_invoice_pdf": 250,
        "article": 400,
        "default": 1000,
    }
    assert [b.name for b in BUCKETS][-1] == "default"
    assert bucket_for("POST", "/2.0/article/search") == "article_search"
    assert bucket_for("POST", "/2.0/article/7") == "article"
    assert bucket_for("GET", "/2.0/kb_invoice/7/pdf") == "kb_invoice_pdf"
    assert bucket_for("GET", "/2.0/kb_offer/7/pdf") == "default"
    assert bucket_for("POST", "/2.0/kb_invoice/7/kb_position_article") == "default"


def test_each_bucket_counts_on_its_own(api):
    users = [rate(api.get("/3.0/users/me")) for _ in range(3)]
    assert [u[0] for u in users] == [1000] * 3 and users[0][1] - users[2][1] == 2
    # contact and invoice search: separate counters, both start at 249 (as recorded)
    assert rate(api.post("/2.0/contact/search", json=SEARCH)) == (250, 249)
    assert rate(api.post("/2.0/kb_invoice/search", json=[])) == (250, 249)
    assert rate(api.post("/2.0/contact/search", json=SEARCH)) == (250, 248)
    assert rate(api.post("/2.0/article/search", json=[])) == (250, 249)
    # the article routes share one counter of 400
    made = api.post("/2.0/article", json={"intern_name": "Test", "article_type_id": 2})
    assert rate(made) == (400, 399)
    art = made.json()["id"]
    assert rate(api.get("/2.0/article")) == (400, 398)
    assert rate(api.get(f"/2.0/article/{art}")) == (400, 397)
    assert rate(api.post(f"/2.0/article/{art}", json={"intern_name": "Neu"})) == (400, 396)
    assert rate(api.delete(f"/2.0/article/{art}")) == (400, 395)
    inv = api.post(
        "/2.0/kb_invoice",
        json={"contact_id": 1, "user_id": 1, "mwst_type": 1, "positions": []},
    ).json()
    assert rate(api.get(f"/2.0/kb_invoice/{inv['id']}/pdf")) == (250, 249)
    after = rate(api.get("/3.0/users/me"))
    assert after[0] == 1000 and after[1] == users[2][1] - 2  # the invoice create and this one


def test_429_comes_from_the_exhausted_bucket_only(sandbox, api):
    sandbox.settings(rate_limits={"contact_search": 2})
    assert [api.post("/2.0/contact/search", json=SEARCH).status_code for _ in range(2)] == [200, 200]
    limited = api.post("/2.0/contact/search", json=SEARCH)
    assert limited.status_code == 429
    assert limited.json() == {"message": "API rate limit exceeded"}
    assert rate(limited) == (2, 0)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert api.get("/2.0/contact").status_code == 200
    assert api.post("/2.0/kb_invoice/search", json=[]).status_code == 200
    second = [c["company_id"] for c in sandbox.companies() if not c["demo"]][0]
    assert api.make(company_id=second).post("/2.0/contact/search", json=SEARCH).status_code == 200


def test_settings_show_and_set_every_bucket(sandbox, api):
    shown = sandbox.control.get("settings").json()
    assert shown["rate_limit"] == 1000 and shown["rate_limits"] == LIMITS
    changed = sandbox.settings(rate_limit=6000, rate_limits={"article_search": 100})
    assert changed["rate_limits"]["default"] == 6000  # rate_limit is the default bucket
    assert changed["rate_limits"]["contact_search"] == 250  # the others stay as recorded
    assert rate(api.get("/3.0/users/me"))[0] == 6000
    assert rate(api.post("/2.0/article/search", json=[]))[0] == 100
    assert rate(api.post("/2.0/contact/search", json=SEARCH))[0] == 250
    assert sandbox.settings(rate_limits={"default": 50})["rate_limit"] == 50
    bad = sandbox.control.put("settings", json={"rate_limits": {"nonsense": 1}})
    assert bad.status_code == 400 and "contact_search" in bad.json()["error"]
    sandbox.reset()
    assert sandbox.control.get("settings").json()["rate_limits"] == LIMITS


def test_cli_rate_limit_values():
    assert rate_settings([]) == {"rate_limits": {}}
    assert rate_settings(["6000/60", "article_search=100", "article=800"]) == {
        "rate_limit": 6000,
        "rate_window_s": 60,
        "rate_limits": {"article_search": 100, "article": 800},
    }
    assert rate_settings(["10/1"])["rate_window_s"] == 1
    for bad in ("nonsense=3", "article_search=x", "article_search=5/10"):
        with pytest.raises(ValueError):
            rate_settings([bad])


def test_start_options_reach_the_buckets():
    from bexio_sandbox.testing import running_sandbox

    with running_sandbox(**rate_settings(["6000/60", "kb_invoice_search=3"])) as sb:
        client = httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {sb.token()}"})
        assert rate(client.get("/3.0/users/me"))[0] == 6000
        assert rate(client.post("/2.0/kb_invoice/search", json=[])) == (3, 2)
        sb.reset()  # start options are the values a reset returns to
        assert sb.control.get("settings").json()["rate_limits"]["kb_invoice_search"] == 3
        client.close()
