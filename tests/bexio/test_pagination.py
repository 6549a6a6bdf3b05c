"""Lists page with limit/offset and stop on a short page; the governor paces."""

from __future__ import annotations

import threading

import httpx

from bexio import Criterion, RateGovernor
from bexio.models import PositionCustomCreate


def paged(total: int):
    def handler(request):
        limit = int(request.url.params["limit"])
        offset = int(request.url.params["offset"])
        items = [
            {"id": i, "name_1": f"c{i}", "nr": f"{i:06d}"} for i in range(offset, min(total, offset + limit))
        ]
        return httpx.Response(200, json=items)

    return handler


def test_iter_pages_by_2000_and_stops_on_a_short_page(make_client):
    client, rec, _ = make_client(paged(4500))
    ids = [c.id for c in client.contacts.iter()]
    assert ids == list(range(4500))
    assert [(r.url.params["limit"], r.url.params["offset"]) for r in rec.requests] == [
        ("2000", "0"),
        ("2000", "2000"),
        ("2000", "4000"),
    ]


def test_exact_multiple_needs_one_empty_page(make_client):
    client, rec, _ = make_client(paged(4))
    assert len(list(client.contacts.iter(page_size=2))) == 4
    assert len(rec.requests) == 3


def test_iter_is_lazy(make_client):
    client, rec, _ = make_client(paged(10_000))
    it = client.contacts.iter(page_size=100, order_by="id")
    assert next(it).id == 0 and len(rec.requests) == 1
    assert rec.requests[0].url.params["order_by"] == "id"


def test_list_with_limit_is_one_request_and_max_items_stops(make_client):
    client, rec, _ = make_client(paged(10_000))
    assert len(client.contacts.list(limit=50, offset=100)) == 50 and len(rec.requests) == 1
    assert len(list(client.contacts.iter(page_size=30, max_items=70))) == 70
    assert [r.url.params["limit"] for r in rec.requests[1:]] == ["30", "30", "10"]


def test_search_pages_too(make_client):
    client, rec, _ = make_client(paged(2500))
    found = client.contacts.search([Criterion("name_1", "like", "c")])
    assert len(found) == 2500 and len(rec.requests) == 2
    assert all(r.method == "POST" and r.url.path == "/2.0/contact/search" for r in rec.requests)


def test_taxes_query_and_positions_endpoint(make_client):
    from datetime import date

    def handler(request):
        if request.url.path.startswith("/3.0/taxes"):
            return httpx.Response(200, json=[])
        return httpx.Response(201, json={"id": 5, "type": "KbPositionCustom", "amount": "1"})

    client, rec, _ = make_client(handler)
    client.taxes.list(scope="active", types="sales_tax", date=date(2026, 6, 1))
    assert dict(rec.requests[0].url.params) == {
        "scope": "active",
        "types": "sales_tax",
        "date": "2026-06-01",
        "limit": "2000",
        "offset": "0",
    }
    pos = client.invoices.positions(42).create(PositionCustomCreate(amount=1, unit_price=10, tax_id=14))
    assert pos.id == 5 and type(pos).__name__ == "PositionCustom"
    assert rec.requests[1].url.path == "/2.0/kb_invoice/42/kb_position_custom"
    assert b"type" not in rec.requests[1].content


def test_payments_and_users_me(make_client):
    def handler(request):
        if request.url.path == "/3.0/users/me":
            return httpx.Response(200, json={"id": 1, "firstname": "M"})
        return httpx.Response(201, json={"id": 135, "value": "100", "kb_invoice_id": 198})

    client, rec, _ = make_client(handler)
    assert client.users.me().id == 1
    pay = client.invoices.payments(198).create({"value": "100", "bank_account_id": 1})
    assert pay.id == 135 and rec.requests[1].url.path == "/2.0/kb_invoice/198/payment"


# ---- governor ----------------------------------------------------------------------------------


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.lock = threading.Lock()

    def clock(self):
        return self.now

    def sleep(self, s):
        with self.lock:
            self.now += s


def headers(remaining, reset, limit=1000):
    return {
        "ratelimit-limit": str(limit),
        "ratelimit-remaining": str(remaining),
        "ratelimit-reset": str(reset),
    }


def test_governor_lets_bursts_through_while_budget_is_plenty():
    t = FakeTime()
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep)
    g.observe(200, headers(900, 50))
    assert [g.delay() for _ in range(10)] == [0.0] * 10


def test_governor_spreads_a_small_budget_over_the_window():
    t = FakeTime()
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep, reserve=2)
    g.observe(200, headers(12, 9))  # 10 usable requests for 10 seconds (reset 9 + 1 s margin)
    waits = [g.delay() for _ in range(10)]
    assert waits[0] == 0.0
    assert all(abs(w - i) < 1e-6 for i, w in enumerate(waits)), waits
    # budget used up: the next one waits for the window to reset
    assert abs(g.delay() - 10.0) < 1e-6


def test_governor_never_exceeds_the_budget_with_many_threads():
    """Simulate bexio's per-window counter; threads share one governor; no 429 happens."""
    t = FakeTime()
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep, reserve=1)
    window = {"start": t.now, "used": 0}
    limit = 60
    over = []
    lock = threading.Lock()

    def server():
        with lock:
            if t.now >= window["start"] + 60:
                window["start"], window["used"] = t.now, 0
            window["used"] += 1
            if window["used"] > limit:
                over.append(t.now)
                return 429, headers(0, 1, limit)
            reset = max(1, int(window["start"] + 60 - t.now))
            return 200, headers(limit - window["used"], reset, limit)

    def worker():
        for _ in range(40):
            g.acquire()
            status, h = server()
            g.observe(status, h)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert over == []


def test_for_company_shares_one_governor():
    assert RateGovernor.for_company("abc") is RateGovernor.for_company("abc")
    assert RateGovernor.for_company("abc") is not RateGovernor.for_company("xyz")


def test_governor_429_blocks_until_reset():
    t = FakeTime()
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep)
    g.observe(429, {"retry-after": "5"})
    assert abs(g.delay() - 5) < 1e-6
