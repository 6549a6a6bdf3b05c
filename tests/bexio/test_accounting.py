"""Accounting resources over httpx.MockTransport, with answers shaped from bexio's docs
(`bexio-docs-endpoints.md`: Manual Entries, Reports/Journal, Account Groups, Calendar Years,
Business Years, Vat Periods). The sandbox serves them later; end-to-end tests come with it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError

from bexio import errors
from bexio.models import ManualEntryCreate, ManualEntryLineCreate, ManualEntryType

# The docs' answer of POST /3.0/accounting/manual_entries, with the lines filled in.
CREATED = {
    "id": 41,
    "type": "manual_compound_entry",
    "date": "2026-11-30",
    "reference_nr": "AL-credit-2026-11-m17",
    "created_by_user_id": 1,
    "edited_by_user_id": 1,
    "entries": [
        {
            "id": 101,
            "debit_account_id": 130,
            "credit_account_id": None,
            "tax_id": None,
            "tax_account_id": None,
            "description": "Guthaben",
            "amount": 300.5,
            "currency_id": 1,
            "currency_factor": 1,
        },
        {
            "id": 102,
            "debit_account_id": None,
            "credit_account_id": 95,
            "tax_id": 14,
            "tax_account_id": 105,
            "description": "Flugzeit",
            "amount": 250.5,
            "currency_id": 1,
            "currency_factor": 1,
        },
        {
            "id": 103,
            "debit_account_id": None,
            "credit_account_id": 96,
            "tax_id": None,
            "tax_account_id": None,
            "description": "Schulung",
            "amount": 50,
            "currency_id": 1,
            "currency_factor": 1,
        },
    ],
    "is_locked": False,
    "locked_info": None,
}
JOURNAL_ROW = {
    "id": 1,
    "ref_id": 13,
    "ref_uuid": "456fc553-f42b-417e-a2af-dd5c5b9bade6",
    "ref_class": "KbInvoice",
    "date": "2019-02-17T00:00:00+02:00",
    "debit_account_id": 77,
    "credit_account_id": 139,
    "description": "Website for client Smith",
    "amount": 328.25,
    "currency_id": 1,
}


def compound() -> ManualEntryCreate:
    return ManualEntryCreate.compound(
        date=date(2026, 11, 30),
        reference_nr="AL-credit-2026-11-m17",
        entries=[
            ManualEntryLineCreate(debit_account_id=130, amount=Decimal("300.50"), description="Guthaben"),
            ManualEntryLineCreate(
                credit_account_id=95, amount=Decimal("250.50"), tax_id=14, description="Flugzeit"
            ),
            ManualEntryLineCreate(credit_account_id=96, amount=50, description="Schulung"),
        ],
    )


# ---- manual entries: bodies ------------------------------------------------------------------------


def test_compound_entry_is_sent_with_json_numbers_and_parsed_with_line_ids(make_client):
    client, rec, _ = make_client(lambda r: httpx.Response(201, json=CREATED))
    entry = client.manual_entries.create(compound())
    (request,) = rec.requests
    assert (request.method, request.url.path) == ("POST", "/3.0/accounting/manual_entries")
    assert json.loads(request.content) == {
        "type": "manual_compound_entry",
        "date": "2026-11-30",
        "reference_nr": "AL-credit-2026-11-m17",
        "entries": [
            {"debit_account_id": 130, "amount": 300.5, "description": "Guthaben"},
            {"credit_account_id": 95, "amount": 250.5, "tax_id": 14, "description": "Flugzeit"},
            {"credit_account_id": 96, "amount": 50, "description": "Schulung"},
        ],
    }
    assert b'"amount":300.5' in request.content  # a number, not "300.50" as a string
    assert entry.id == 41 and entry.type is ManualEntryType.COMPOUND and entry.date == date(2026, 11, 30)
    assert [line.id for line in entry.entries] == [101, 102, 103]
    assert entry.entries[1].amount == Decimal("250.5") and entry.entries[1].tax_account_id == 105
    assert entry.is_locked is False


def test_single_and_group_entries():
    single = ManualEntryCreate.single(
        date=date(2026, 12, 1),
        debit_account_id=1020,
        credit_account_id=2030,
        amount="3000",
        reference_nr="AL-1",
    )
    assert single.to_bexio() == {
        "type": "manual_single_entry",
        "date": "2026-12-01",
        "reference_nr": "AL-1",
        "entries": [{"debit_account_id": 1020, "credit_account_id": 2030, "amount": 3000}],
    }
    group = ManualEntryCreate.group(
        date=date(2026, 12, 1),
        entries=[
            ManualEntryLineCreate(debit_account_id=1, credit_account_id=2, amount=10),
            ManualEntryLineCreate(
                debit_account_id=3,
                credit_account_id=4,
                amount=20,
                currency_id=2,
                currency_factor=Decimal("0.95"),
            ),
        ],  # fmt: skip
    )
    assert group.to_bexio()["entries"][1] == {
        "debit_account_id": 3,
        "credit_account_id": 4,
        "amount": 20,
        "currency_id": 2,
        "currency_factor": 0.95,
    }


@pytest.mark.parametrize(
    ("kind", "lines", "message"),
    [
        (ManualEntryType.SINGLE, [{"debit_account_id": 1, "amount": 5}], "debit and a credit"),
        (
            ManualEntryType.SINGLE,
            [{"debit_account_id": 1, "credit_account_id": 2, "amount": 5}] * 2,
            "one line",
        ),
        (ManualEntryType.GROUP, [{"debit_account_id": 1, "amount": 5}], "debit and a credit"),
        (
            ManualEntryType.COMPOUND,
            [{"debit_account_id": 1, "credit_account_id": 2, "amount": 5}] * 2,
            "one side",
        ),
        (ManualEntryType.COMPOUND, [{"debit_account_id": 1, "amount": 5}], "two lines"),
        (
            ManualEntryType.COMPOUND,
            [{"debit_account_id": 1, "amount": "10.00"}, {"credit_account_id": 2, "amount": "9.95"}],
            "balance",
        ),
    ],
)
def test_entries_of_the_wrong_shape_are_refused_before_sending(kind, lines, message):
    with pytest.raises(ValidationError, match=message):
        ManualEntryCreate(type=kind, date=date(2026, 1, 1), entries=lines)


def test_reference_nr_amounts_and_precision_are_checked():
    line = {"debit_account_id": 1, "credit_account_id": 2, "amount": 1}
    with pytest.raises(ValidationError, match="80"):
        ManualEntryCreate(
            type=ManualEntryType.SINGLE, date=date(2026, 1, 1), reference_nr="x" * 81, entries=[line]
        )
    with pytest.raises(ValidationError):
        ManualEntryLineCreate(debit_account_id=1, credit_account_id=2, amount=0)
    with pytest.raises(ValidationError):
        ManualEntryLineCreate(debit_account_id=1, credit_account_id=2, amount=-5)
    with pytest.raises(ValidationError):
        ManualEntryLineCreate(debit_account_id=1, amount=1, nonsense=True)  # typo: refused
    rounded = ManualEntryLineCreate(debit_account_id=1, credit_account_id=2, amount=Decimal("0.1234565"))
    assert rounded.amount == Decimal("0.123457") and rounded.to_bexio()["amount"] == 0.123457
    too_long = ManualEntryLineCreate(
        debit_account_id=1, credit_account_id=2, amount=Decimal("1234567890123.456789")
    )
    with pytest.raises(ValueError, match="exactly"):
        too_long.to_bexio()


# ---- manual entries: operations --------------------------------------------------------------------


def test_update_is_put_delete_and_next_ref_nr(make_client):
    answers = [
        httpx.Response(200, json=CREATED),
        httpx.Response(200, json={"success": True}),
        httpx.Response(200, json={"next_ref_nr": "Booking BA-23"}),
    ]
    client, rec, _ = make_client(lambda r: answers.pop(0))
    assert client.manual_entries.update(41, compound()).id == 41
    assert client.manual_entries.delete(41) is True
    assert client.manual_entries.next_ref_nr() == "Booking BA-23"
    assert [(r.method, r.url.path) for r in rec.requests] == [
        ("PUT", "/3.0/accounting/manual_entries/41"),
        ("DELETE", "/3.0/accounting/manual_entries/41"),
        ("GET", "/3.0/accounting/manual_entries/next_ref_nr"),
    ]
    assert json.loads(rec.requests[0].content)["type"] == "manual_compound_entry"


def test_a_lost_create_is_not_retried_and_find_by_reference_pages_to_it(make_client):
    """The exactly-once pattern: a 5xx after commit is not retried; the look-up finds the entry."""
    others = [dict(CREATED, id=i, reference_nr=f"other-{i}") for i in range(2000)]
    pages = {0: others, 2000: [dict(CREATED, id=5000, date="2026-11-29"), CREATED]}
    calls = []

    def handler(request):
        calls.append(request)
        if request.method == "POST":
            return httpx.Response(502, json={"error_code": 502, "message": "Bad Gateway"})
        return httpx.Response(200, json=pages[int(request.url.params["offset"])])

    client, _, sleeps = make_client(handler)
    with pytest.raises(errors.ServerError):
        client.manual_entries.create(compound())
    assert [r.method for r in calls] == ["POST"] and sleeps == []
    found = client.manual_entries.find_by_reference("AL-credit-2026-11-m17")
    assert [e.id for e in found] == [5000, 41]
    assert [
        e.id
        for e in client.manual_entries.find_by_reference("AL-credit-2026-11-m17", date=date(2026, 11, 30))
    ] == [41]
    assert client.manual_entries.find_by_reference("AL-nothing") == []
    gets = [r for r in calls if r.method == "GET"]
    assert [(r.url.params["limit"], r.url.params["offset"]) for r in gets[:2]] == [
        ("2000", "0"),
        ("2000", "2000"),
    ]


# ---- journal, years, periods, groups ---------------------------------------------------------------


def test_journal_pages_with_from_to_and_account_uuid(make_client):
    rows = [dict(JOURNAL_ROW, id=i) for i in range(5)]

    def handler(request):
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return httpx.Response(200, json=rows[offset : offset + limit])

    client, rec, _ = make_client(handler)
    got = list(
        client.journal.iter(
            date_from=date(2019, 1, 1),
            date_to=date(2019, 12, 31),
            account_uuid="d591c997-5e88-486b-8fca-48dfd984d45d",
            page_size=2,
        )
    )
    assert [r.id for r in got] == [0, 1, 2, 3, 4]
    assert len(rec.requests) == 3
    params = rec.requests[0].url.params
    assert (params["from"], params["to"], params["account_uuid"]) == (
        "2019-01-01", "2019-12-31", "d591c997-5e88-486b-8fca-48dfd984d45d"
    )  # fmt: skip
    row = got[0]
    assert row.amount == Decimal("328.25") and row.date == date(2019, 2, 17)
    assert (row.ref_class, row.ref_id, row.debit_account_id, row.credit_account_id) == (
        "KbInvoice",
        13,
        77,
        139,
    )
    assert [r.id for r in client.journal.all()] == [0, 1, 2, 3, 4]
    assert "from" not in rec.requests[-1].url.params


def test_years_periods_and_account_groups_parse_the_documented_answers(make_client):
    answers = {
        "/3.0/accounting/calendar_years": [
            {
                "id": 1,
                "start": "2018-01-01",
                "end": "2018-12-31",
                "is_vat_subject": True,
                "created_at": "2017-04-28T19:58:58+00:00",
                "updated_at": "2018-04-30T19:58:58+00:00",
                "vat_accounting_method": "effective",
                "vat_accounting_type": "agreed",
            }
        ],
        "/3.0/accounting/business_years": [
            {"id": 1, "start": "2018-01-01", "end": "2018-12-31", "status": "open", "closed_at": "2019-04-28"}
        ],
        "/3.0/accounting/vat_periods": [
            {
                "id": 1,
                "start": "2018-01-01",
                "end": "2018-03-31",
                "type": "quarter",
                "status": "closed",
                "closed_at": "2018-04-28",
            }
        ],
        "/2.0/account_groups": [
            {
                "id": 1,
                "account_no": "1",
                "name": "Assets",
                "parent_fibu_account_group_id": 3,
                "is_active": True,
                "is_locked": False,
            }
        ],
    }
    client, _, _ = make_client(lambda r: httpx.Response(200, json=answers[r.url.path]))
    (year,) = client.calendar_years.all()
    assert year.end == date(2018, 12, 31) and year.is_vat_subject and year.created_at.tzinfo is not None
    (business,) = client.business_years.all()
    assert business.status == "open" and business.closed_at == date(2019, 4, 28)
    (period,) = client.vat_periods.all()
    assert (period.type, period.start, period.end) == ("quarter", date(2018, 1, 1), date(2018, 3, 31))
    (group,) = client.account_groups.all()
    assert (group.account_no, group.name, group.parent_fibu_account_group_id) == ("1", "Assets", 3)
