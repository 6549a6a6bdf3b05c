"""The rate governor per (company, bucket), with a fake clock: no real sleeping."""

from __future__ import annotations

import threading

import httpx
import pytest

from bexio import RateGovernor
from bexio.buckets import DEFAULT, LIMITS, ROUTES, bucket_for, limit_of
from bexio.models import InvoiceCreate

from .conftest import recorded

# What the recordings of api.bexio.com show (ratelimit-limit per route), written out here on
# purpose: the test must not take the expectations from the code it checks.
RECORDED_LIMITS = {
    ("POST", "/2.0/contact/search"): 250,
    ("POST", "/2.0/kb_invoice/search"): 250,
    ("POST", "/2.0/article/search"): 250,
    ("GET", "/2.0/kb_invoice/12/pdf"): 250,
    ("GET", "/2.0/article"): 400,
    ("GET", "/2.0/article/3"): 400,
    ("POST", "/2.0/article"): 400,
    ("POST", "/2.0/article/3"): 400,
    ("DELETE", "/2.0/article/3"): 400,
    ("GET", "/2.0/contact"): 1000,
    ("POST", "/2.0/kb_invoice"): 1000,
    ("GET", "/2.0/kb_invoice/12"): 1000,
    ("POST", "/2.0/accounts/search"): 1000,
    ("POST", "/2.0/country/search"): 1000,
    ("GET", "/3.0/taxes"): 1000,
    ("POST", "/3.0/accounting/manual_entries"): 1000,
}


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def headers(remaining: int, reset: int, limit: int) -> dict[str, str]:
    return {
        "ratelimit-limit": str(limit),
        "ratelimit-remaining": str(remaining),
        "ratelimit-reset": str(reset),
    }


class FakeBexio:
    """bexio's counters: one per bucket, fixed one-minute windows; 429 with Retry-After when spent."""

    def __init__(self, t: FakeTime, limits: dict[str, int]) -> None:
        self.t = t
        self.limits = limits
        self.start = t.now
        self.used: dict[tuple[int, str], int] = {}
        self.sent: list[tuple[float, str]] = []
        self.refused: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def answer(self, bucket: str) -> tuple[int, dict[str, str]]:
        with self.lock:
            window = int((self.t.now - self.start) // 60)
            reset = max(1, int(self.start + (window + 1) * 60 - self.t.now))
            limit = self.limits[bucket]
            used = self.used.get((window, bucket), 0)
            if used >= limit:
                self.refused.append((self.t.now, bucket))
                return 429, {**headers(0, reset, limit), "retry-after": str(reset)}
            self.used[(window, bucket)] = used + 1
            self.sent.append((self.t.now, bucket))
            return 200, headers(limit - used - 1, reset, limit)

    def per_window(self, bucket: str) -> list[int]:
        return [n for (w, b), n in sorted(self.used.items()) if b == bucket]


def drive(governor: RateGovernor, server: FakeBexio, bucket: str, n: int) -> None:
    for _ in range(n):
        while True:
            governor.acquire(bucket)
            status, h = server.answer(bucket)
            governor.observe(status, h, bucket)
            if status != 429:
                break
            server.t.sleep(float(h["retry-after"]))


# ---- the table -------------------------------------------------------------------------------------


def test_the_bucket_of_a_request_is_known_before_sending_and_matches_the_recordings():
    for (method, path), limit in RECORDED_LIMITS.items():
        assert limit_of(bucket_for(method, path)) == limit, (method, path)
    assert bucket_for("post", "/2.0/contact/search") == "contact_search"
    assert bucket_for("GET", "/2.0/kb_invoice/7/pdf") == "kb_invoice_pdf"
    assert bucket_for("GET", "/2.0/kb_invoice/7") == DEFAULT
    assert bucket_for("GET", "/2.0/kb_invoice/7/pdf/extra") == DEFAULT
    assert bucket_for("GET", "/2.0/article_group") == DEFAULT  # not an article route
    assert bucket_for("POST", "/2.0/contact") == DEFAULT


def test_every_bucket_name_is_the_agreed_one():
    assert dict(LIMITS) == {
        "contact_search": 250,
        "kb_invoice_search": 250,
        "article_search": 250,
        "kb_invoice_pdf": 250,
        "article": 400,
        "default": 1000,
    }
    assert {r.bucket for r in ROUTES} | {DEFAULT} == set(LIMITS)


def test_the_recordings_agree_with_the_table():
    cases = {
        "Contacts/search-contacts": ("POST", "/2.0/contact/search"),
        "Invoices/search-invoices": ("POST", "/2.0/kb_invoice/search"),
        "Invoices/show-pdf": ("GET", "/2.0/kb_invoice/1/pdf"),
        "Items/search-items": ("POST", "/2.0/article/search"),
        "Items/fetch-a-list-of-items": ("GET", "/2.0/article"),
        "Items/create-item": ("POST", "/2.0/article"),
        "Items/delete-an-item": ("DELETE", "/2.0/article/1"),
        "Contacts/fetch-a-contact": ("GET", "/2.0/contact/1"),
        "Taxes/fetch-a-tax": ("GET", "/3.0/taxes/1"),
    }
    for name, (method, path) in cases.items():
        _, h, _ = recorded(name)
        assert int(h["ratelimit-limit"]) == limit_of(bucket_for(method, path)), name


# ---- separate budgets ------------------------------------------------------------------------------


def test_a_spent_search_budget_does_not_slow_other_buckets():
    t = FakeTime()
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep)
    g.observe(200, headers(3, 50, 250), "kb_invoice_search")  # 1 usable search left for 50 s
    assert [g.delay(DEFAULT) for _ in range(200)] == [0.0] * 200
    assert [g.delay("article") for _ in range(20)] == [0.0] * 20
    assert g.delay("kb_invoice_search") == 0.0
    assert g.delay("kb_invoice_search") == pytest.approx(51.0)  # the next one waits for the reset (+1 s)


def test_through_the_client_a_search_answer_does_not_pace_invoice_creation(make_client):
    t = FakeTime()
    governor = RateGovernor("c", clock=t.clock, sleep=t.sleep)
    _, _, created = recorded("Invoices/create-an-invoice")
    events = []

    def handler(request):
        if request.url.path.endswith("/search"):
            return httpx.Response(200, json=[], headers=headers(3, 50, 250))
        return httpx.Response(201, json=created, headers=headers(900, 50, 1000))

    client, _, sleeps = make_client(handler, governor=governor, on_request=events.append)
    client.invoices.search([], limit=1)
    for _ in range(20):
        client.invoices.create(InvoiceCreate(user_id=1))
    assert t.now == 1000.0 and sleeps == []
    client.invoices.search([], limit=1)
    client.invoices.search([], limit=1)
    assert t.now == pytest.approx(1051.0)  # the search bucket, and only it, waited (reset + 1 s)
    assert [e.bucket for e in events[:2]] == ["kb_invoice_search", "default"]
    assert governor.snapshot("kb_invoice_search")["limit"] == 250
    assert governor.snapshot()["remaining"] == 881  # 900 answered, 19 sent since


def test_a_bucket_at_250_paces_250_a_minute_without_429():
    t = FakeTime()
    server = FakeBexio(t, dict(RECORDED_LIMITS_BY_BUCKET))
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep)
    drive(g, server, "contact_search", 1000)
    assert server.refused == []
    windows = server.per_window("contact_search")
    assert all(245 <= n <= 250 for n in windows[:-1]) and len(windows) == 5, windows  # 2 held in reserve
    assert 240 <= t.now - server.start < 242  # 1000 searches: just over four minutes


def test_two_buckets_driven_by_threads_share_no_waiting():
    """Searches (250) and invoice work (1000) at full speed from threads: each bucket is paced to
    its own limit, no 429 in either."""
    t = FakeTime()
    server = FakeBexio(t, dict(RECORDED_LIMITS_BY_BUCKET))
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep)
    threads = [
        threading.Thread(target=drive, args=(g, server, "kb_invoice_search", 300)),
        threading.Thread(target=drive, args=(g, server, DEFAULT, 900)),
        threading.Thread(target=drive, args=(g, server, DEFAULT, 900)),
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert server.refused == []
    assert all(n <= 250 for n in server.per_window("kb_invoice_search"))
    assert all(n <= 1000 for n in server.per_window(DEFAULT))
    assert sum(server.per_window(DEFAULT)) == 1800


def test_two_processes_learn_the_shared_remaining_budget_from_the_headers():
    """Two governors (two processes) share only bexio's counter: both pace and neither sees a 429
    in the paced part of the window."""
    t = FakeTime()
    server = FakeBexio(t, dict(RECORDED_LIMITS_BY_BUCKET))
    first, second = (
        RateGovernor("c", clock=t.clock, sleep=t.sleep),
        RateGovernor("c", clock=t.clock, sleep=t.sleep),
    )
    for _ in range(600):  # interleaved, as two workers would
        drive(first, server, "contact_search", 1)
        drive(second, server, "contact_search", 1)
    assert server.refused == []
    assert sum(server.per_window("contact_search")) == 1200
    assert all(n <= 250 for n in server.per_window("contact_search"))


# ---- learning, 429, reset --------------------------------------------------------------------------


def test_limits_are_learned_from_the_headers():
    t = FakeTime()
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep, reserve=2)
    assert g.snapshot("contact_search")["limit"] == 250  # the recorded limit until an answer says
    assert g.snapshot("no_such_bucket")["limit"] == 1000
    # bexio now allows 1000 searches: 58 usable is below 10 % of 1000, so the governor paces.
    g.observe(200, headers(60, 30, 1000), "contact_search")
    assert g.snapshot("contact_search") == {"limit": 1000, "remaining": 60, "reset_in": 31.0}
    waits = [g.delay("contact_search") for _ in range(3)]
    assert waits[0] == 0.0 and waits[1] > 0.4 and waits[2] > waits[1]
    # with the recorded limit (250), 58 usable is above 10 %: no pacing
    h = RateGovernor("c", clock=t.clock, sleep=t.sleep, reserve=2)
    h.observe(200, {"ratelimit-remaining": "60", "ratelimit-reset": "30"}, "contact_search")
    assert [h.delay("contact_search") for _ in range(3)] == [0.0, 0.0, 0.0]
    # Kong's x-ratelimit-*-minute names are read too
    h.observe(
        200, {"x-ratelimit-limit-minute": "400", "x-ratelimit-remaining-minute": "7", "ratelimit-reset": "9"}
    )
    assert h.snapshot()["limit"] == 400 and h.snapshot()["remaining"] == 7


def test_429_with_retry_after_blocks_only_its_bucket():
    t = FakeTime()
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep)
    g.observe(200, headers(800, 40, 1000))
    g.observe(429, {"retry-after": "20", "ratelimit-limit": "250"}, "kb_invoice_search")
    assert g.delay("kb_invoice_search") == pytest.approx(20.0)
    assert g.delay("contact_search") == 0.0
    assert g.delay("kb_invoice_pdf") == 0.0
    assert g.delay(DEFAULT) == 0.0
    t.sleep(20)
    assert g.delay("kb_invoice_search") == 0.0  # the window has passed


def test_429_through_the_client_waits_retry_after_on_that_bucket(make_client, monkeypatch):
    from bexio import retry

    monkeypatch.setattr(retry, "jitter", lambda d, rng=None: d)
    t = FakeTime()
    governor = RateGovernor("c", clock=t.clock, sleep=t.sleep)
    answers = [
        httpx.Response(429, json={"message": "API rate limit exceeded"}, headers={"Retry-After": "12"}),
        httpx.Response(200, json=[], headers=headers(249, 48, 250)),
        httpx.Response(200, json=[], headers=headers(999, 48, 1000)),
    ]
    sleeps = []

    def sleep(seconds):  # one clock for the client and the governor, as in real life
        sleeps.append(seconds)
        t.sleep(seconds)

    client, rec, _ = make_client(lambda r: answers.pop(0), governor=governor, sleep=sleep)
    assert client.contacts.search([], limit=1) == []
    assert sleeps == [12.0] and len(rec.requests) == 2
    assert t.now == 1012.0  # the client's wait; the governor let the retry go at once
    assert governor.snapshot("contact_search")["remaining"] == 249
    client.contacts.list(limit=1)
    assert sleeps == [12.0] and t.now == 1012.0


def test_window_reset_forgets_the_old_budget_and_learns_the_new_one():
    t = FakeTime()
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep, reserve=2)
    g.observe(200, headers(2, 10, 250), "article_search")  # nothing usable left
    assert g.delay("article_search") == pytest.approx(11.0)  # reset + the margin of a second
    t.sleep(11)
    assert g.delay("article_search") == 0.0  # a new window: go, and learn from the answer
    assert g.snapshot("article_search")["remaining"] is None
    g.observe(200, headers(249, 60, 250), "article_search")
    assert [g.delay("article_search") for _ in range(100)] == [0.0] * 100


def test_out_of_order_answers_keep_the_lowest_remaining_count():
    t = FakeTime()
    g = RateGovernor("c", clock=t.clock, sleep=t.sleep)
    g.observe(200, headers(100, 30, 250), "contact_search")
    g.observe(200, headers(120, 30, 250), "contact_search")  # an older answer arriving late
    assert g.snapshot("contact_search")["remaining"] == 100


RECORDED_LIMITS_BY_BUCKET = {
    "contact_search": 250,
    "kb_invoice_search": 250,
    "article_search": 250,
    "kb_invoice_pdf": 250,
    "article": 400,
    DEFAULT: 1000,
}
