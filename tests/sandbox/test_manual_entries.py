"""Manual entries (single, compound, group; update, delete, next_ref_nr, errors) and the journal's
filters and paging, against the running sandbox over HTTP."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

BASE = "/3.0/accounting/manual_entries"
ENTRY_KEYS = {
    "id",
    "type",
    "date",
    "reference_nr",
    "created_by_user_id",
    "edited_by_user_id",
    "entries",
    "is_locked",
    "locked_info",
}
LINE_KEYS = {
    "id",
    "date",
    "debit_account_id",
    "credit_account_id",
    "tax_id",
    "tax_account_id",
    "description",
    "amount",
    "currency_id",
    "base_currency_id",
    "currency_factor",
    "base_currency_amount",
    "created_by_user_id",
    "edited_by_user_id",
}


@pytest.fixture
def acc(api) -> dict:
    """account_no -> account id."""
    return {a["account_no"]: a["id"] for a in api.get("/2.0/accounts").json()}


def create(api, expect=201, **body):
    resp = api.post(BASE, json=body)
    assert resp.status_code == expect, resp.text
    return resp.json()


def journal(api, **params):
    resp = api.get("/3.0/accounting/journal", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def sides(lines, acc):
    numbers = {v: k for k, v in acc.items()}
    return [
        (numbers.get(x["debit_account_id"]), numbers.get(x["credit_account_id"]), Decimal(str(x["amount"])))
        for x in lines
    ]


def test_single_entry_shape_and_journal(api, acc):
    entry = create(
        api,
        type="manual_single_entry",
        date="2026-11-15",
        reference_nr="Einzahlung 1",
        entries=[
            {
                "debit_account_id": acc["1020"],
                "credit_account_id": acc["2030"],
                "amount": 500,
                "description": "Guthaben Meier",
            }
        ],
    )
    assert set(entry) == ENTRY_KEYS and set(entry["entries"][0]) == LINE_KEYS
    assert (entry["type"], entry["date"], entry["reference_nr"]) == (
        "manual_single_entry",
        "2026-11-15",
        "Einzahlung 1",
    )
    assert (entry["created_by_user_id"], entry["is_locked"]) == (1, False)
    line = entry["entries"][0]
    assert (line["amount"], line["base_currency_amount"], line["currency_id"], line["currency_factor"]) == (
        500,
        500,
        1,
        1,
    )
    assert line["date"] == "2026-11-15" and line["tax_id"] is None
    lines = journal(api)
    assert sides(lines, acc) == [("1020", "2030", Decimal(500))]
    assert (
        lines[0]["ref_class"] is None
        and lines[0]["ref_id"] is None
        and lines[0]["description"] == "Guthaben Meier"
    )
    assert lines[0]["date"] == "2026-11-15T00:00:00+01:00"
    assert api.get(BASE).json() == [entry]
    # bexio documents no "show one manual entry": that route does not exist
    assert api.get(f"{BASE}/{entry['id']}").json() == {"error_code": 404, "message": "Page not found"}


def test_compound_entry_with_vat_books_net_and_vat(api, acc):
    """Credit used for flights: liability -> revenue, the revenue line gross with its sales tax."""
    entry = create(
        api,
        type="manual_compound_entry",
        date="2026-11-30",
        reference_nr="aeroledger-usage-2026-11-M0007",
        entries=[
            {"debit_account_id": acc["2030"], "amount": "145.10", "description": "Guthaben verwendet"},
            {"credit_account_id": acc["3400"], "amount": "108.10", "tax_id": 14, "description": "Flugzeit"},
            {"credit_account_id": acc["3410"], "amount": "37", "tax_id": 29, "description": "Schulung"},
        ],
    )
    assert [x["tax_account_id"] for x in entry["entries"]] == [None, acc["3400"], acc["3410"]]
    assert sides(journal(api), acc) == [
        ("2030", None, Decimal("145.10")),
        (None, "3400", Decimal("100.00")),
        (None, "2200", Decimal("8.10")),
        (None, "3410", Decimal(37)),
    ]


def test_single_entry_with_input_tax_on_the_debit_side(api, acc):
    entry = create(
        api,
        type="manual_single_entry",
        date="2026-11-30",
        entries=[
            {
                "debit_account_id": acc["4200"],
                "credit_account_id": acc["1020"],
                "amount": "108.10",
                "tax_id": 21,
            }
        ],
    )
    assert entry["entries"][0]["tax_account_id"] == acc["4200"]  # VM81 is an input tax: the debit side
    assert sides(journal(api), acc) == [
        ("4200", "1020", Decimal("100.00")),
        ("1170", "1020", Decimal("8.10")),
    ]


def test_group_entry_is_several_complete_bookings(api, acc):
    entry = create(
        api,
        type="manual_group_entry",
        date="2026-11-30",
        reference_nr="Umbuchung Top-ups 11/2026",
        entries=[
            {"debit_account_id": acc["3090"], "credit_account_id": acc["2030"], "amount": "300"},
            {"debit_account_id": acc["3090"], "credit_account_id": acc["2030"], "amount": "250.50"},
        ],
    )
    assert len(entry["entries"]) == 2 and entry["entries"][0]["id"] != entry["entries"][1]["id"]
    assert sides(journal(api), acc) == [("3090", "2030", Decimal(300)), ("3090", "2030", Decimal("250.50"))]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"type": "manual_whatever_entry"}, "type"),
        ({"date": "2026-13-01"}, "date"),
        ({"date": "2024-06-30"}, "closed"),  # business year 2024 is closed
        ({"date": "2099-01-01"}, "business year"),
        ({"reference_nr": "x" * 81}, "reference_nr"),
        ({"entries": []}, "entries"),
        ({"entries": [{"debit_account_id": 1020, "credit_account_id": "C", "amount": 5}]}, "account_id"),
        ({"entries": [{"debit_account_id": "D", "credit_account_id": "C", "amount": 0}]}, "greater than 0"),
        ({"entries": [{"debit_account_id": "D", "credit_account_id": "C", "amount": -5}]}, "greater than 0"),
        (
            {"entries": [{"debit_account_id": "D", "credit_account_id": "C", "amount": "1.0000001"}]},
            "6 decimals",
        ),
        ({"entries": [{"debit_account_id": "D", "credit_account_id": "C", "amount": "x"}]}, "valid number"),
        ({"entries": [{"debit_account_id": "D", "credit_account_id": "D", "amount": 5}]}, "must differ"),
        ({"entries": [{"debit_account_id": "D", "amount": 5}]}, "debit and a credit"),
        (
            {"entries": [{"debit_account_id": "D", "credit_account_id": "C", "amount": 5, "tax_id": 16}]},
            "tax_id",
        ),
        (
            {
                "entries": [
                    {"debit_account_id": "D", "credit_account_id": "C", "amount": 5, "currency_id": 99}
                ]
            },
            "currency_id",
        ),
        (
            {
                "entries": [
                    {
                        "debit_account_id": "D",
                        "credit_account_id": "C",
                        "amount": 5,
                        "tax_id": 14,
                        "tax_account_id": 97,
                    }
                ]
            },
            "tax_account_id",
        ),
        (
            {
                "type": "manual_single_entry",
                "entries": [
                    {"debit_account_id": "D", "credit_account_id": "C", "amount": 5},
                    {"debit_account_id": "D", "credit_account_id": "C", "amount": 5},
                ],
            },
            "exactly one line",
        ),
        (
            {
                "type": "manual_compound_entry",
                "entries": [
                    {"debit_account_id": "D", "amount": 5},
                    {"credit_account_id": "C", "amount": "4.99"},
                ],
            },
            "must balance",
        ),
        (
            {
                "type": "manual_compound_entry",
                "entries": [{"debit_account_id": "D", "credit_account_id": "C", "amount": 5}],
            },
            "either a debit or a credit",
        ),
    ],
)
def test_invalid_entries_are_422_in_bexios_shape(api, acc, change, needle):
    body = {
        "type": "manual_group_entry",
        "date": "2026-11-30",
        "entries": [{"debit_account_id": "D", "credit_account_id": "C", "amount": 5}],
        **change,
    }
    placeholder = {"D": acc["1020"], "C": acc["2030"]}
    for line in body["entries"]:
        for side in ("debit_account_id", "credit_account_id"):
            line[side] = placeholder.get(line.get(side), line.get(side))
    resp = api.post(BASE, json=body)
    assert resp.status_code == 422, resp.text
    error = resp.json()
    assert error["error_code"] == 422 and "message" in error
    assert needle in str(error), error
    assert journal(api) == [] and api.get(BASE).json() == []


def test_update_keeps_line_ids_and_rebooks_the_journal(api, acc):
    entry = create(
        api,
        type="manual_single_entry",
        date="2026-11-15",
        entries=[{"debit_account_id": acc["1020"], "credit_account_id": acc["2030"], "amount": 100}],
    )
    line_id = entry["entries"][0]["id"]
    updated = api.put(
        f"{BASE}/{entry['id']}",
        json={
            "id": entry["id"],
            "type": "manual_single_entry",
            "date": "2026-11-20",
            "reference_nr": "korrigiert",
            "entries": [
                {
                    "id": line_id,
                    "debit_account_id": acc["1020"],
                    "credit_account_id": acc["2030"],
                    "amount": 120,
                }
            ],
        },
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["date"], body["reference_nr"], body["entries"][0]["id"]) == (
        "2026-11-20",
        "korrigiert",
        line_id,
    )
    assert [(x["date"][:10], x["amount"]) for x in journal(api)] == [("2026-11-20", 120)]
    assert api.put(f"{BASE}/{entry['id']}", json={"date": "2026-11-20", "entries": []}).status_code == 422
    assert api.put(f"{BASE}/999", json={"date": "2026-11-20", "entries": []}).status_code == 404


def test_delete_removes_the_booking(api, acc):
    keep = create(
        api,
        type="manual_single_entry",
        date="2026-11-01",
        entries=[{"debit_account_id": acc["1020"], "credit_account_id": acc["2030"], "amount": 1}],
    )
    gone = create(
        api,
        type="manual_single_entry",
        date="2026-11-02",
        entries=[{"debit_account_id": acc["1020"], "credit_account_id": acc["2030"], "amount": 2}],
    )
    assert api.delete(f"{BASE}/{gone['id']}").json() == {"success": True}
    assert [e["id"] for e in api.get(BASE).json()] == [keep["id"]]
    assert [x["amount"] for x in journal(api)] == [1]
    assert api.delete(f"{BASE}/{gone['id']}").status_code == 404


def test_next_ref_nr_counts_up_the_last_reference(api, acc):
    assert api.get(f"{BASE}/next_ref_nr").json() == {"next_ref_nr": "1"}
    line = {"debit_account_id": acc["1020"], "credit_account_id": acc["2030"], "amount": 1}
    create(api, type="manual_single_entry", date="2026-11-01", reference_nr="BA-0022", entries=[line])
    assert api.get(f"{BASE}/next_ref_nr").json() == {"next_ref_nr": "BA-0023"}
    create(api, type="manual_single_entry", date="2026-11-01", entries=[line])
    assert api.get(f"{BASE}/next_ref_nr").json() == {"next_ref_nr": "BA-0023"}


def test_list_pages_and_needs_the_accounting_scope(api, acc):
    line = {"debit_account_id": acc["1020"], "credit_account_id": acc["2030"], "amount": 1}
    made = [
        create(api, type="manual_single_entry", date="2026-11-01", entries=[line])["id"] for _ in range(5)
    ]
    assert [e["id"] for e in api.get(BASE, params={"limit": 2, "offset": 1}).json()] == made[1:3]
    assert len(api.get(BASE, params={"limit": 5000}).json()) == 5
    for client in (api.make(scopes=["contact_show"]), api.make(user="clerk@bexio.test")):
        assert client.get(BASE).status_code == 403
        assert client.get("/3.0/accounting/journal").status_code == 403
        assert client.post(BASE, json={}).status_code == 403
    assert api.make(scopes=["accounting"]).get(BASE).status_code == 200


def test_journal_filters_order_and_paging(api, acc):
    def book(day, debit, credit, amount):
        line = {"debit_account_id": acc[debit], "credit_account_id": acc[credit], "amount": amount}
        create(api, type="manual_single_entry", date=day, entries=[line])

    book("2026-11-20", "1020", "2030", 3)
    book("2026-10-05", "1020", "3090", 1)
    book("2026-11-20", "3090", "2030", 4)
    book("2026-12-01", "1020", "2030", 5)
    assert [x["amount"] for x in journal(api)] == [1, 3, 4, 5]  # by date, then id
    assert [x["amount"] for x in journal(api, **{"from": "2026-11-01", "to": "2026-11-30"})] == [3, 4]
    assert [x["amount"] for x in journal(api, **{"from": "2026-11-20"})] == [3, 4, 5]
    assert [x["amount"] for x in journal(api, to="2026-10-05")] == [1]
    uuid = next(a["uuid"] for a in api.get("/2.0/accounts").json() if a["account_no"] == "3090")
    assert [x["amount"] for x in journal(api, account_uuid=uuid)] == [1, 4]  # debit or credit side
    assert journal(api, account_uuid="00000000-0000-4000-8000-000000000000") == []
    assert [x["amount"] for x in journal(api, limit=2, offset=1)] == [3, 4]
    for bad in ({"from": "20.11.2026"}, {"account_uuid": "3090"}, {"limit": "x"}):
        assert api.get("/3.0/accounting/journal", params=bad).status_code == 400


def test_office_shows_books_and_books_by_hand(sandbox, api, acc):
    company = sandbox.companies()[0]["company_id"]
    url = f"{sandbox.url}/_sandbox/office/manual_entry/{company}"
    form = {
        "date": "2026-11-30",
        "debit_account_id": acc["3090"],
        "credit_account_id": acc["2030"],
        "amount": "12.50",
    }
    resp = httpx.post(url, data={**form, "description": "Differenz von Hand", "reference_nr": "Test-1"})
    assert resp.status_code == 303
    entry = api.get(BASE).json()[0]
    assert (entry["reference_nr"], entry["entries"][0]["amount"]) == ("Test-1", 12.5)
    page = sandbox.control.get("office/").text
    assert "Kontensaldi" in page and "Journal" in page and "Differenz von Hand" in page
    assert "2030 Kundenguthaben / erhaltene Anzahlungen" in page and "-12.50" in page
    bad = httpx.post(url, data={**form, "amount": "0"})
    assert bad.status_code == 303 and "msg=" in bad.headers["location"]
    assert len(api.get(BASE).json()) == 1
