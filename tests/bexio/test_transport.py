"""The request loop: headers, retries, errors, the request hook (httpx.MockTransport, no network)."""

from __future__ import annotations

import json

import httpx
import pytest

from bexio import Criterion, RateGovernor, errors, retry
from bexio.models import ContactCreate, InvoiceCreate, PositionCustomCreate

from .conftest import recorded, tokens


def ok(body, status=200, headers=None):
    return httpx.Response(status, json=body, headers=headers or {})


def sequence(*responses):
    """Answer with each response (or raise each exception) in turn."""
    queue = list(responses)

    def handler(request):
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler


# ---- headers -----------------------------------------------------------------------------------


def test_headers_on_get_and_on_a_body(make_client):
    _, _, contact = recorded("Contacts/create-contact")
    client, rec, _ = make_client(sequence(ok([]), ok(contact, 201)))
    client.contacts.list(limit=10)
    client.contacts.create(ContactCreate(contact_type_id=1, name_1="X", user_id=1, owner_id=1))
    get, post = rec.requests
    assert get.headers["Accept"] == "application/json"
    assert get.headers["Authorization"] == "Bearer at-1"
    assert get.url.params["limit"] == "10" and get.url.params["offset"] == "0"
    assert post.headers["Content-Type"] == "application/json"
    assert post.headers["Content-Length"] == str(len(post.content))
    assert json.loads(post.content) == {"contact_type_id": 1, "name_1": "X", "user_id": 1, "owner_id": 1}


def test_empty_action_post_sends_content_length_zero(make_client):
    client, rec, _ = make_client(sequence(ok({"success": True})))
    assert client.invoices.issue(7) is True
    (req,) = rec.requests
    assert req.method == "POST" and req.url.path == "/2.0/kb_invoice/7/issue"
    assert req.headers["Content-Length"] == "0"
    assert req.content == b""


def test_contact_restore_is_patch_and_update_is_post(make_client):
    _, _, edited = recorded("Contacts/edit-contact")
    client, rec, _ = make_client(sequence(ok({"success": True}), ok(edited)))
    assert client.contacts.restore(34) is True
    client.contacts.update(32, {"name_1": "Edited"})
    assert [(r.method, r.url.path) for r in rec.requests] == [
        ("PATCH", "/2.0/contact/34/restore"),
        ("POST", "/2.0/contact/32"),
    ]
    assert rec.requests[0].headers["Content-Length"] == "0"
    assert json.loads(rec.requests[1].content) == {"name_1": "Edited"}


# ---- retries -------------------------------------------------------------------------------------


def test_429_waits_for_ratelimit_reset_then_succeeds(make_client, monkeypatch):
    monkeypatch.setattr(retry, "jitter", lambda d, rng=None: d)
    limited = httpx.Response(
        429, json={"message": "API rate limit exceeded"}, headers={"ratelimit-reset": "7"}
    )
    client, rec, sleeps = make_client(sequence(limited, ok([])))
    assert client.contacts.list(limit=5) == []
    assert len(rec.requests) == 2
    assert sleeps == [7.0]


def test_429_is_retried_for_a_create_post_too(make_client, monkeypatch):
    monkeypatch.setattr(retry, "jitter", lambda d, rng=None: d)
    _, _, created = recorded("Invoices/create-an-invoice")
    limited = httpx.Response(429, json={"message": "API rate limit exceeded"}, headers={"Retry-After": "3"})
    client, rec, sleeps = make_client(sequence(limited, ok(created, 201)))
    invoice = client.invoices.create(InvoiceCreate(user_id=1))
    assert invoice.id == 2 and len(rec.requests) == 2 and sleeps == [3.0]


def test_429_wait_is_capped(make_client, monkeypatch):
    monkeypatch.setattr(retry, "jitter", lambda d, rng=None: d)
    limited = httpx.Response(429, headers={"ratelimit-reset": "3600"})
    client, _, sleeps = make_client(sequence(limited, ok([])), max_wait_s=20)
    client.units.list(limit=1)
    assert sleeps == [20]


def test_429_gives_up_after_max_retries(make_client):
    limited = [httpx.Response(429, json={"message": "API rate limit exceeded"}) for _ in range(3)]
    client, rec, _ = make_client(sequence(*limited), max_retries=2)
    with pytest.raises(errors.RateLimitError) as caught:
        client.units.list(limit=1)
    assert len(rec.requests) == 3
    assert caught.value.status == 429 and caught.value.message == "API rate limit exceeded"


def test_5xx_on_get_is_retried_with_backoff(make_client, monkeypatch):
    monkeypatch.setattr(retry, "jitter", lambda d, rng=None: d)
    client, rec, sleeps = make_client(
        sequence(httpx.Response(502), httpx.Response(503), ok({"id": 1, "name": "Stk"}))
    )
    assert client.units.get(1).name == "Stk"
    assert len(rec.requests) == 3
    assert sleeps == [retry.backoff_delay(1), retry.backoff_delay(2)]


def test_5xx_on_create_post_is_not_retried(make_client):
    client, rec, sleeps = make_client(sequence(httpx.Response(500, json={"error_code": 500, "message": "x"})))
    body = InvoiceCreate(user_id=1, positions=[PositionCustomCreate(amount=1, unit_price=100)])
    with pytest.raises(errors.ServerError) as caught:
        client.invoices.create(body)
    assert len(rec.requests) == 1 and sleeps == []
    assert caught.value.method == "POST" and caught.value.path == "/2.0/kb_invoice"


def test_search_post_is_a_read_and_is_retried(make_client, monkeypatch):
    monkeypatch.setattr(retry, "jitter", lambda d, rng=None: d)
    _, _, found = recorded("Invoices/search-invoices")
    client, rec, _ = make_client(sequence(httpx.Response(500), ok(found)))
    result = client.invoices.search([Criterion("api_reference", "=", "abc")], limit=10)
    assert [i.id for i in result] == [i["id"] for i in found]
    assert len(rec.requests) == 2
    assert json.loads(rec.requests[1].content) == [
        {"field": "api_reference", "value": "abc", "criteria": "="}
    ]


def test_timeout_on_get_is_retried_and_on_post_raised(make_client):
    client, rec, _ = make_client(sequence(httpx.ReadTimeout("slow"), ok([])))
    assert client.units.list(limit=1) == []
    assert len(rec.requests) == 2

    client, rec, _ = make_client(sequence(httpx.ReadTimeout("slow")))
    with pytest.raises(errors.RequestTimeoutError) as caught:
        client.invoices.issue(1)
    assert len(rec.requests) == 1
    assert caught.value.status is None and caught.value.error_code == "timeout"


def test_connection_errors_are_typed(make_client):
    client, _, _ = make_client(sequence(httpx.ConnectError("refused")), max_retries=0)
    with pytest.raises(errors.ConnectError):
        client.units.list(limit=1)
    client, _, _ = make_client(sequence(httpx.RemoteProtocolError("dropped")), max_retries=0)
    with pytest.raises(errors.ConnectionDroppedError):
        client.units.list(limit=1)


def test_backoff_and_jitter_are_bounded():
    assert [retry.backoff_delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry.backoff_delay(30) == retry.BACKOFF_CAP_S
    for _ in range(100):
        assert 1.0 <= retry.jitter(1.0) <= 1.25


# ---- errors ------------------------------------------------------------------------------------


def test_empty_422_raises_unprocessable_with_empty_message(make_client):
    client, _, _ = make_client(sequence(httpx.Response(422, content=b"")))
    with pytest.raises(errors.UnprocessableError) as caught:
        client.invoices.update(1, {"title": "x"})
    err = caught.value
    assert err.status == 422 and err.message == "" and err.body is None
    assert str(err) == "POST /2.0/kb_invoice/1 -> 422"


def test_list_message_is_normalised(make_client):
    body = {"error_code": 422, "message": ["name_1 is required", "user_id is required"]}
    client, _, _ = make_client(sequence(httpx.Response(422, json=body)))
    with pytest.raises(errors.UnprocessableError) as caught:
        client.contacts.create({"contact_type_id": 1, "name_1": "x", "user_id": 1, "owner_id": 1})
    assert caught.value.message == "name_1 is required; user_id is required"
    assert caught.value.error_code == 422


def test_field_errors_stay_with_the_message(make_client):
    body = {
        "error_code": 422,
        "message": "The form could not be saved.",
        "errors": ["date: the accounting year is closed"],
    }
    client, _, _ = make_client(sequence(httpx.Response(422, json=body)))
    with pytest.raises(errors.UnprocessableError) as caught:
        client.contacts.delete(1)
    assert caught.value.full_message == "The form could not be saved.: date: the accounting year is closed"


@pytest.mark.parametrize(
    "status,cls",
    [
        (400, errors.BadRequestError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (411, errors.BadRequestError),
        (422, errors.UnprocessableError),
        (500, errors.ServerError),
    ],
)
def test_status_maps_to_error_class(make_client, status, cls):
    client, _, _ = make_client(sequence(httpx.Response(status, json={"error_code": status, "message": "m"})))
    with pytest.raises(cls):
        client.contacts.delete(1)


def test_recorded_409_conflict(make_client):
    status, headers, body = recorded("Taxes/delete-a-tax")
    client, _, _ = make_client(sequence(httpx.Response(status, json=body, headers=headers)))
    with pytest.raises(errors.ConflictError) as caught:
        client.request("DELETE", "/3.0/taxes/14")
    assert str(caught.value) == "DELETE /3.0/taxes/14 -> 409 tax can not be deleted"
    assert caught.value.headers["ratelimit-limit"] == "1000"


def test_401_forces_one_refresh_then_retries(make_client):
    def auth_handler(request):
        return ok({"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600})

    client, rec, _ = make_client(
        sequence(httpx.Response(401, json={"error_code": 401, "message": "Invalid access token"}), ok([])),
        auth_handler=auth_handler,
    )
    assert client.units.list(limit=1) == []
    assert [r.headers["Authorization"] for r in rec.requests] == ["Bearer at-1", "Bearer at-2"]


def test_second_401_is_raised_and_never_contains_the_token(make_client):
    def auth_handler(request):
        return ok({"access_token": "secret-at-2", "refresh_token": "secret-rt-2", "expires_in": 3600})

    deny = httpx.Response(401, json={"error_code": 401, "message": "Invalid access token"})
    client, rec, _ = make_client(sequence(deny, deny), auth_handler=auth_handler)
    with pytest.raises(errors.AuthenticationError) as caught:
        client.units.list(limit=1)
    assert len(rec.requests) == 2
    text = str(caught.value) + repr(caught.value) + repr(caught.value.__dict__)
    assert "secret" not in text and "at-1" not in text


# ---- the hook and the governor --------------------------------------------------------------------


def test_on_request_event_has_no_secrets(make_client, monkeypatch):
    monkeypatch.setattr(retry, "jitter", lambda d, rng=None: d)
    events = []
    body = {"error_code": 404, "message": "Page not found"}
    client, _, _ = make_client(
        sequence(httpx.Response(503), httpx.Response(404, json=body)),
        on_request=events.append,
        company_id="q69vysq7fkzl",
    )
    with pytest.raises(errors.NotFoundError):
        client.invoices.get(99)
    assert [(e.method, e.path, e.status, e.attempt) for e in events] == [
        ("GET", "/2.0/kb_invoice/99", 503, 1),
        ("GET", "/2.0/kb_invoice/99", 404, 2),
    ]
    assert events[1].error_code == 404 and events[1].message == "Page not found"
    assert all(e.company_id == "q69vysq7fkzl" and e.duration_ms >= 0 for e in events)
    assert "at-1" not in repr(events)


def test_broken_hook_does_not_break_the_request(make_client):
    def hook(event):
        raise RuntimeError("boom")

    client, _, _ = make_client(sequence(ok([])), on_request=hook)
    assert client.units.list(limit=1) == []


def test_governor_reads_headers_and_company_id(make_client):
    governor = RateGovernor("acme")
    headers = {"ratelimit-limit": "1000", "ratelimit-remaining": "975", "ratelimit-reset": "13"}
    events = []
    client, _, _ = make_client(sequence(ok([], headers=headers)), governor=governor, on_request=events.append)
    client.units.list(limit=1)
    assert governor.snapshot()["remaining"] == 975
    assert events[0].company_id == "acme"


def test_pdf_returns_decoded_bytes(make_client):
    _, _, body = recorded("Invoices/show-pdf")
    client, rec, _ = make_client(sequence(ok(body)))
    pdf = client.invoices.pdf(1, logopaper=False)
    assert pdf.startswith(b"%PDF") and len(pdf) == body["size"]
    assert rec.requests[0].url.params["logopaper"] == "0"


def test_tokens_never_in_reprs():
    t = tokens("secret-access", "secret-refresh")
    assert "secret" not in repr(t)


def test_rotated_refresh_token_is_stored_before_the_new_access_token_is_sent(make_client):
    from bexio.auth import MemoryTokenStore

    store = MemoryTokenStore(tokens(expires_in=10))
    seen = []

    def api(request):
        seen.append((request.headers["Authorization"], store.load().refresh_token))
        return ok([])

    def auth_handler(request):
        return ok({"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600})

    client, _, _ = make_client(api, store=store, auth_handler=auth_handler)
    client.units.list(limit=1)
    assert seen == [("Bearer at-2", "rt-2")]


def test_invoice_create_body_is_sent_as_bexio_json(make_client):
    _, _, created = recorded("Invoices/create-an-invoice")
    client, rec, _ = make_client(sequence(ok(created, 201)))
    invoice = client.invoices.create(
        InvoiceCreate(user_id=1, project_id=2, positions=[PositionCustomCreate(amount="1.5", unit_price=100)])
    )
    assert invoice.id == 2 and invoice.positions[1].id == 4
    assert json.loads(rec.requests[0].content) == {
        "user_id": 1,
        "pr_project_id": 2,
        "positions": [{"type": "KbPositionCustom", "amount": "1.5", "unit_price": "100"}],
    }


def test_the_one_retry_decision(monkeypatch):
    monkeypatch.setattr(retry, "jitter", lambda d, rng=None: d)
    kw = {"headers": {}, "attempt": 1, "max_retries": 4, "cap": 60.0}
    assert retry.decide(status=401, idempotent=False, **kw) == retry.Retry(refresh_token=True)
    assert retry.decide(status=401, idempotent=True, token_refreshed=True, **kw) is None
    assert retry.decide(status=429, idempotent=False, **{**kw, "headers": {"Retry-After": "9"}}).wait_s == 9.0
    assert retry.decide(status=503, idempotent=True, **kw).wait_s == retry.backoff_delay(1)
    assert retry.decide(status=None, idempotent=True, **kw).wait_s == retry.backoff_delay(1)  # no answer
    assert retry.decide(status=503, idempotent=False, **kw) is None  # a create is never re-sent
    assert retry.decide(status=None, idempotent=False, **kw) is None
    assert retry.decide(status=422, idempotent=True, **kw) is None
    assert retry.decide(status=429, idempotent=True, **{**kw, "attempt": 5}) is None  # max_retries used up
