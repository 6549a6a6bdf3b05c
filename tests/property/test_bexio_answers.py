"""The bexio client given malformed answers (httpx.MockTransport): a typed BexioError or a valid
object, never another exception (KeyError, TypeError, pydantic's ValidationError, JSONDecodeError).
"""

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bexio import BexioClient, StaticToken, errors

FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=15,
)
# Answers shaped like bexio's but with wrong types in the fields the client reads.
wrong_invoice = st.fixed_dictionaries(
    {
        "id": st.one_of(st.integers(), st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2)),
        "document_nr": st.one_of(st.text(max_size=10), st.integers(), st.none()),
        "total": st.one_of(st.text(max_size=8), st.floats(allow_nan=True), st.none(), st.integers()),
        "positions": st.one_of(st.none(), st.text(max_size=5), st.lists(json_values, max_size=3)),
        "api_reference": st.one_of(st.text(max_size=10), st.integers(), st.none()),
    }
)
bodies = st.one_of(
    st.binary(max_size=200).map(lambda b: (b, "application/json")),  # not JSON at all
    st.text(max_size=50)
    .map(
        lambda t: ("{" + t).encode(),
    )
    .map(lambda b: (b, "application/json")),
    json_values.map(lambda v: (json.dumps(v).encode(), "application/json")),
    wrong_invoice.map(lambda v: (json.dumps(v, allow_nan=True).encode(), "application/json")),
    st.lists(wrong_invoice, max_size=3).map(
        lambda v: (json.dumps(v, allow_nan=True).encode(), "application/json")
    ),
    st.just((b"<html>" + b"x" * 100 + b"</html>", "text/html")),
)
statuses = st.sampled_from([200, 200, 200, 201, 400, 404, 422, 500, 502])


def client_answering(status: int, body: bytes, content_type: str) -> BexioClient:
    def handler(request):
        return httpx.Response(status, content=body, headers={"Content-Type": content_type})

    return BexioClient(
        base_url="https://api.bexio.test",
        token_provider=StaticToken("t"),
        transport=httpx.MockTransport(handler),
        max_retries=0,
        sleep=lambda s: None,
    )


CALLS = {
    "invoice get": lambda c: c.invoices.get(1),
    "invoice list": lambda c: list(c.invoices.iter()),
    "invoice search": lambda c: c.invoices.search([]),
    "contact get": lambda c: c.contacts.get(1),
    "contact list": lambda c: list(c.contacts.iter()),
    "invoice create": lambda c: c.invoices.create(
        {"contact_id": 1, "user_id": 1, "positions": [], "api_reference": "x"}
    ),
    "invoice issue": lambda c: c.invoices.issue(1),
}


@pytest.mark.parametrize("call", list(CALLS))
@FAST
@given(status=statuses, answer=bodies)
def test_malformed_answers_give_a_typed_error(call, status, answer):
    body, content_type = answer
    with client_answering(status, body, content_type) as client:
        try:
            CALLS[call](client)
        except errors.BexioError as exc:
            assert str(exc)  # useful in a log line
        except Exception as exc:  # noqa: BLE001
            pytest.fail(
                f"{call} on {status} {body[:80]!r}: {type(exc).__module__}.{type(exc).__name__}: {exc}"
            )


@pytest.mark.parametrize("call", ["invoice get", "invoice list"])
def test_huge_body_gives_a_typed_error_or_a_result(call):
    huge = b'{"id": 1, "junk": "' + b"x" * (8 * 1024 * 1024) + b'"'  # 8 MB, unterminated
    with client_answering(200, huge, "application/json") as client:
        with pytest.raises(errors.BexioError) as info:
            CALLS[call](client)
    assert len(str(info.value)) < 5000  # the error does not carry the whole body into a log line


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("invoice get", b""),  # 200 with an empty body
        ("invoice get", b"[]"),  # a list where an object belongs
        ("invoice list", b'[{"id": "not-a-number"}]'),  # a wrong type in a field
        ("contact get", b'{"id": null}'),
    ],
)
def test_malformed_2xx_answer_is_a_typed_error_regression(call, body):
    """Regression: `Resource._parse` / `_parse_many` (src/bexio/resources/base.py) let pydantic's
    ValidationError (and TypeError for a non-list) escape on a malformed 2xx answer; found by the
    property test above, fixed by the client's InvalidResponseError."""
    with client_answering(200, body, "application/json") as client:
        with pytest.raises(errors.BexioError):
            CALLS[call](client)
