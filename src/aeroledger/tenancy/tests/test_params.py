"""URL parameters with bounds (tenancy.params), the 400 page for them, and safe `next` redirects."""

from datetime import date

import pytest
from django.http import QueryDict
from django.test import RequestFactory

from aeroledger.tenancy.http import safe_next
from aeroledger.tenancy.params import (
    BadParameter,
    int_list_param,
    int_param,
    month_param,
    parse_date,
    parse_int,
    parse_month,
)


@pytest.mark.parametrize(
    "text", ["²", "٣", "１", "1e3", "0x10", "1_000", " ", "12345678901234567890", "-1", "0", "9" * 5000]
)
def test_no_number_or_out_of_bounds_is_a_bad_parameter(text):
    with pytest.raises(BadParameter) as caught:
        parse_int(text, label="invoice")
    assert str(caught.value).startswith("Invoice must be a whole number from 1 to 9223372036854775807")


def test_good_numbers():
    assert parse_int(" 42 ", label="x") == 42
    assert parse_int("9223372036854775807", label="x") == 2**63 - 1
    assert parse_int("599", label="status", min_value=100, max_value=599) == 599


def test_query_dict_helpers():
    params = QueryDict("invoice=1&invoice=&invoice=7&status=&month=2026-02")
    assert int_list_param(params, "invoice", label="invoice") == [1, 7]
    assert int_param(params, "status", label="status", default=None) is None
    assert int_param(params, "missing", label="x", default=3) == 3
    assert month_param(params, "month", label="month") == (date(2026, 2, 1), date(2026, 2, 28))
    with pytest.raises(BadParameter, match="At most 500 values"):
        int_list_param(QueryDict("&".join(f"invoice={i}" for i in range(1, 502))), "invoice", label="invoice")
    with pytest.raises(BadParameter):
        int_list_param(QueryDict("invoice=1&invoice=²"), "invoice", label="invoice")


@pytest.mark.parametrize(
    "text", ["0000-11", "2026-13", "2026-00", "1899-12", "2101-01", "２０２６-１１", "11.26", ""]
)
def test_months_outside_the_books_are_refused(text):
    with pytest.raises(BadParameter, match="Period must be a month from 1900 to 2100, e.g. 11.2026"):
        parse_month(text, label="period")


def test_dates():
    assert parse_date("2026-02-28", label="from") == date(2026, 2, 28)
    for bad in ("2026-02-30", "0000-01-01", "9999-12-31", "28.02.2026"):
        with pytest.raises(BadParameter, match="From must be a date"):
            parse_date(bad, label="from")


def test_a_bad_parameter_in_a_view_is_a_400_with_its_message(db):
    from django.contrib.auth.models import AnonymousUser

    from aeroledger.tenancy.middleware import BadParameterMiddleware

    def view(request):
        int_param(request.GET, "status", label="status", min_value=100, max_value=599)

    request = RequestFactory().get("/x", {"status": "²"})
    request.user = AnonymousUser()
    middleware = BadParameterMiddleware(lambda r: None)
    try:
        view(request)
    except BadParameter as exc:
        response = middleware.process_exception(request, exc)
    assert response.status_code == 400
    assert "Status must be a whole number from 100 to 599 (not &#x27;²&#x27;)." in response.content.decode()
    assert middleware.process_exception(request, ValueError("other")) is None


# --- safe_next ----------------------------------------------------------------------------------------

UNSAFE = [
    "https://evil.example/",
    "//evil.example/path",
    "///evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\\\\evil.example",
    "/\\evil.example",
    "http://testserver.evil.example/",
    "ftp://testserver/",
    "http:///evil.example",
]


@pytest.mark.parametrize("value", UNSAFE)
def test_next_leaving_the_site_gives_the_default(value):
    request = RequestFactory().post("/o/club/x/", {"next": value})
    assert safe_next(request, "/o/club/default/") == "/o/club/default/"


@pytest.mark.parametrize(
    "value", ["/o/club/invoicing/invoices/?status=approved", "http://testserver/o/club/"]
)
def test_next_on_the_site_is_followed(value):
    request = RequestFactory().post("/o/club/x/", {"next": value})
    assert safe_next(request, "/default/") == value


def test_next_over_https_must_stay_https():
    request = RequestFactory().post("/x/", {"next": "http://testserver/o/"}, secure=True)
    assert safe_next(request, "/default/") == "/default/"
    assert safe_next(RequestFactory().post("/x/"), "/default/") == "/default/"
