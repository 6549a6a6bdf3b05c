"""The sandbox keeps books like bexio: what issuing, paying, cancelling and reverting an invoice book in
the journal, the balances that follow, and the refusal of positions on balance sheet accounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from bexio_sandbox.__main__ import parse

JOURNAL_KEYS = {
    "id",
    "ref_id",
    "ref_uuid",
    "ref_class",
    "date",
    "debit_account_id",
    "credit_account_id",
    "description",
    "amount",
    "currency_id",
    "currency_factor",
    "base_currency_id",
    "base_currency_amount",
}


@pytest.fixture
def chart(api) -> dict:
    """account_no -> account."""
    return {a["account_no"]: a for a in api.get("/2.0/accounts").json()}


def journal(api, **params) -> list[dict]:
    resp = api.get("/3.0/accounting/journal", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def lines_of(api, chart, ref_class=None, ref_id=None) -> list[tuple]:
    """(debit no, credit no, amount) of the journal lines of one document, in journal order."""
    numbers = {a["id"]: no for no, a in chart.items()}
    return [
        (numbers.get(x["debit_account_id"]), numbers.get(x["credit_account_id"]), Decimal(str(x["amount"])))
        for x in journal(api)
        if (ref_class is None or x["ref_class"] == ref_class) and (ref_id is None or x["ref_id"] == ref_id)
    ]


def balance(api, chart, account_no: str) -> Decimal:
    """Debit minus credit of one account over the whole journal."""
    acc = chart[account_no]["id"]
    total = Decimal(0)
    for x in journal(api, limit=2000):
        amount = Decimal(str(x["base_currency_amount"]))
        total += amount if x["debit_account_id"] == acc else 0
        total -= amount if x["credit_account_id"] == acc else 0
    return total


def article_pos(article_id, amount, **kw):
    return {"type": "KbPositionArticle", "article_id": article_id, "amount": amount, **kw}


def club_invoice(api, positions, **fields) -> dict:
    """Prices including VAT (mwst_type 0, mwst_is_net false), as Aeroledger sends them."""
    body = {
        "contact_id": 2,
        "user_id": 1,
        "mwst_type": 0,
        "mwst_is_net": False,
        "is_valid_from": "2026-11-30",
        "positions": positions,
        **fields,
    }
    resp = api.post("/2.0/kb_invoice", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def act(api, inv_id, action, expect=200):
    resp = api.post(f"/2.0/kb_invoice/{inv_id}/{action}", content=b"")
    assert resp.status_code == expect, (action, resp.text)


def test_issuing_books_net_revenue_and_vat_per_position(api, chart):
    inv = club_invoice(
        api,
        [
            article_pos(1, "62", unit_price="4.22"),  # HB-CQA, 3400, UN81: 261.64 incl. VAT
            article_pos(4, "62"),  # instruction, 3410, exempt: 99.20
            article_pos(5, "1"),  # landing fee LSZF, 3420, UN81: 18.00
        ],
    )
    assert lines_of(api, chart) == []  # a draft books nothing
    act(api, inv["id"], "issue")
    shown = api.get(f"/2.0/kb_invoice/{inv['id']}").json()
    assert shown["total"] == "378.850000"  # 378.84 rounded to 0.05
    assert lines_of(api, chart, "KbInvoice", inv["id"]) == [
        ("1100", "3400", Decimal("242.04")),
        ("1100", "2200", Decimal("19.60")),
        ("1100", "3410", Decimal("99.20")),
        ("1100", "3420", Decimal("16.65")),
        ("1100", "2200", Decimal("1.35")),
        ("1100", "6945", Decimal("0.01")),
    ]
    first = journal(api)[0]
    assert set(first) == JOURNAL_KEYS
    assert first["date"] == "2026-11-30T00:00:00+01:00"
    assert first["ref_class"] == "KbInvoice" and first["ref_id"] == inv["id"] and first["ref_uuid"]
    assert first["currency_id"] == 1 and first["base_currency_id"] == 1 and first["currency_factor"] == 1
    assert first["description"].startswith(inv["document_nr"])
    assert balance(api, chart, "1100") == Decimal("378.85")
    assert balance(api, chart, "2200") == Decimal("-20.95")


def test_net_prices_and_rounding_down(api, chart):
    inv = club_invoice(
        api,
        [{"type": "KbPositionCustom", "amount": "1", "unit_price": "19.17", "tax_id": 14, "account_id": 120}],
        mwst_is_net=True,
    )
    act(api, inv["id"], "issue")
    assert api.get(f"/2.0/kb_invoice/{inv['id']}").json()["total"] == "20.700000"
    assert lines_of(api, chart) == [
        ("1100", "3400", Decimal("19.17")),
        ("1100", "2200", Decimal("1.55")),
        ("6945", "1100", Decimal("0.02")),  # 20.72 booked, 20.70 owed
    ]
    assert balance(api, chart, "1100") == Decimal("20.70")


def test_no_vat_lines_without_vat(api, chart):
    inv = club_invoice(api, [article_pos(1, "10")], mwst_type=1)
    act(api, inv["id"], "issue")
    assert lines_of(api, chart) == [("1100", "3400", Decimal("42.00"))]


def test_payment_delete_and_cancel_reverse_without_deleting_history(api, chart):
    inv = club_invoice(api, [article_pos(5, "1")])  # 18.00
    act(api, inv["id"], "issue")
    pay = api.post(
        f"/2.0/kb_invoice/{inv['id']}/payment",
        json={"value": "10", "date": "2026-12-01", "bank_account_id": 1},
    ).json()
    paid = [x for x in journal(api) if x["ref_class"] == "KbClientAccountEntry"]
    assert [(x["ref_id"], x["date"][:10], x["amount"]) for x in paid] == [(pay["id"], "2026-12-01", 10)]
    bank = api.get("/3.0/banking/accounts/1").json()["account_id"]
    assert paid[0]["debit_account_id"] == bank == chart["1020"]["id"]
    assert paid[0]["credit_account_id"] == chart["1100"]["id"]
    assert (balance(api, chart, "1100"), balance(api, chart, "1020")) == (Decimal(8), Decimal(10))
    assert "_booked" not in str(api.get(f"/2.0/kb_invoice/{inv['id']}/payment").json())

    api.delete(f"/2.0/kb_invoice/{inv['id']}/payment/{pay['id']}")
    paid = [x for x in journal(api) if x["ref_class"] == "KbClientAccountEntry"]
    assert len(paid) == 2 and paid[1]["debit_account_id"] == paid[0]["credit_account_id"]
    assert paid[1]["date"][:10] == "2026-12-01" and paid[1]["description"].startswith("Storno")
    assert (balance(api, chart, "1100"), balance(api, chart, "1020")) == (Decimal(18), Decimal(0))

    api.post(f"/2.0/kb_invoice/{inv['id']}/payment", json={"value": "5", "date": "2026-12-02"})
    act(api, inv["id"], "cancel")
    invoice_lines = lines_of(api, chart, "KbInvoice", inv["id"])
    assert invoice_lines == [
        ("1100", "3420", Decimal("16.65")),
        ("1100", "2200", Decimal("1.35")),
        ("3420", "1100", Decimal("16.65")),
        ("2200", "1100", Decimal("1.35")),
    ]
    reversal = [x for x in journal(api) if x["ref_class"] == "KbInvoice"][-1]
    assert reversal["date"][:10] == date.today().isoformat()  # a cancellation is booked the day it happens
    assert balance(api, chart, "3420") == balance(api, chart, "2200") == 0
    assert balance(api, chart, "1100") == Decimal(-5)  # the payment stays: money the member has paid in


def test_revert_issue_reverses_on_the_invoice_date_and_reissue_books_again(sandbox, api, chart):
    inv = club_invoice(api, [article_pos(2, "10")])  # HB-KGE 39.00
    act(api, inv["id"], "issue")
    act(api, inv["id"], "revert_issue")
    lines = journal(api)
    assert len(lines) == 4 and {x["date"][:10] for x in lines} == {"2026-11-30"}
    assert balance(api, chart, "1100") == 0
    api.post(f"/2.0/kb_invoice/{inv['id']}/kb_position_article", json={"article_id": 2, "amount": "10"})
    act(api, inv["id"], "mark_as_sent")  # a draft marked as sent is issued: it books
    assert balance(api, chart, "1100") == Decimal("78.00")
    office = api.post(
        "/2.0/kb_invoice",
        json={"contact_id": 1, "user_id": 1, "mwst_type": 1, "positions": [article_pos(5, "1")]},
    ).json()
    base = f"{sandbox.url}/_sandbox/office/invoice/{sandbox.companies()[0]['company_id']}/{office['id']}"
    httpx.post(f"{base}/issue")
    httpx.post(f"{base}/payment", data={"value": "18", "date": "2026-12-01"})
    assert lines_of(api, chart, "KbInvoice", office["id"]) == [("1100", "3420", Decimal("18.00"))]
    assert balance(api, chart, "1100") == Decimal("78.00")
    assert balance(api, chart, "1020") == Decimal("18.00")


# positions on balance sheet accounts -------------------------------------------------------------------
def test_positions_on_balance_sheet_accounts_are_refused(sandbox, api, chart):
    liability, asset = chart["2030"]["id"], chart["1100"]["id"]
    custom = {"type": "KbPositionCustom", "amount": "1", "unit_price": "100", "tax_id": 30}
    for account in (liability, asset):
        resp = api.post(
            "/2.0/kb_invoice",
            json={"contact_id": 1, "user_id": 1, "positions": [{**custom, "account_id": account}]},
        )
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert body["error_code"] == 422 and body["message"].startswith("The form could not be saved")
        assert any("account_id" in e and ("liability" in e or "asset" in e) for e in body["errors"])
    inv = api.post("/2.0/kb_invoice", json={"contact_id": 1, "user_id": 1, "positions": []}).json()
    base = f"/2.0/kb_invoice/{inv['id']}/kb_position_custom"
    assert api.post(base, json={**custom, "account_id": liability}).status_code == 422
    ok = api.post(base, json={**custom, "account_id": chart["3090"]["id"]})
    assert ok.status_code == 201  # the clearing account (revenue type, no VAT) is fine
    assert api.post(f"{base}/{ok.json()['id']}", json={"account_id": liability}).status_code == 422
    article = api.post(
        "/2.0/article",
        json={"intern_name": "Guthaben", "article_type_id": 2, "account_id": liability, "tax_id": 30},
    ).json()
    refused = api.post(
        f"/2.0/kb_invoice/{inv['id']}/kb_position_article", json={"article_id": article["id"], "amount": 1}
    )
    assert refused.status_code == 422 and "2030" in refused.text

    sandbox.settings(allow_balance_sheet_positions=True)
    allowed = api.post(base, json={**custom, "account_id": liability})
    assert allowed.status_code == 201
    act(api, inv["id"], "issue")
    assert balance(api, chart, "2030") == Decimal(-100)
    sandbox.reset()
    assert sandbox.control.get("settings").json()["allow_balance_sheet_positions"] is False


def test_the_cli_flag_allows_balance_sheet_positions():
    assert parse([])[1].get("allow_balance_sheet_positions") is None
    args, settings = parse(["--allow-balance-sheet-positions", "--rate-limit", "article=800"])
    assert settings["allow_balance_sheet_positions"] is True and settings["rate_limits"] == {"article": 800}


# the demo books -------------------------------------------------------------------------------------------
def test_demo_chart_taxes_and_articles_fit_the_club(api, chart):
    for no, kind in (
        ("1020", 3),
        ("1100", 3),
        ("2030", 4),
        ("2200", 4),
        ("6945", 2),
        ("3090", 1),
        ("3400", 1),
    ):
        assert chart[no]["account_type"] == kind and chart[no]["uuid"], no
    for no in ("3410", "3420", "3805"):
        assert chart[no]["account_type"] == 1
    assert chart["2030"]["name"] == "Kundenguthaben / erhaltene Anzahlungen"
    taxes = {
        t["code"]: t for t in api.get("/3.0/taxes", params={"scope": "active", "types": "sales_tax"}).json()
    }
    assert (taxes["UN81"]["value"], taxes["UR26"]["value"], taxes["UEX"]["value"]) == (8.1, 2.6, 0)
    articles = {a["intern_code"]: a for a in api.get("/2.0/article").json()}
    assert set(articles) == {"FLZ-HBCQA", "FLZ-HBKGE", "FLZ-HBKCX", "FL", "LT-LSZF", "LT-LSZG", "VZ"}
    for code in ("FLZ-HBCQA", "FLZ-HBKGE", "FLZ-HBKCX"):
        assert (articles[code]["account_id"], articles[code]["tax_id"]) == (
            chart["3400"]["id"],
            taxes["UN81"]["id"],
        )
    assert (articles["FL"]["account_id"], articles["FL"]["tax_id"]) == (
        chart["3410"]["id"],
        taxes["UEX"]["id"],
    )
    for code in ("LT-LSZF", "LT-LSZG"):
        assert articles[code]["account_id"] == chart["3420"]["id"]
    assert articles["VZ"]["account_id"] == chart["3090"]["id"]
    assert "HB-KFA" not in str(articles) and "LSZR" not in str(articles)
