"""Every documented operation answers honestly: implemented, or 501 naming it; 404 only where bexio
answers 404 (a path it does not document, an object that does not exist). And the accounting reads."""

from __future__ import annotations

import re

import pytest

from bexio_sandbox.operations import DOCUMENT_TYPES, load

OPERATIONS = load()


def concrete(path: str, doc_type: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path.replace("{kb_document_type}", doc_type))


def test_the_list_is_the_reference_one():
    assert len(OPERATIONS) == 310
    assert len({(o.method, o.path) for o in OPERATIONS}) == 310


def test_no_documented_operation_answers_page_not_found(sandbox, api):
    """Exhaustive over the 310 (x3 document types): with ids of the right shape a documented route is
    never "Page not found"; a 404 means the object does not exist; a 501 names the operation."""
    missing = {o["id"] for o in sandbox.control.get("coverage").json()["missing"]}
    seen = 0
    for op in OPERATIONS:
        for doc_type in DOCUMENT_TYPES if "{kb_document_type}" in op.path else ("kb_invoice",):
            body = [] if op.path.endswith("/search") else {}
            resp = api.request(op.method, concrete(op.path, doc_type), json=body)
            seen += 1
            text = f"{op.id} {op.method} {op.path}: {resp.status_code} {resp.text[:200]}"
            assert resp.status_code != 404 or resp.json()["message"] == "Not found", text
            if op.id in missing and "{kb_document_type}" not in op.path:
                assert resp.status_code == 501, text
                assert resp.json()["error_code"] == 501 and op.id in resp.json()["message"], text
            if op.id not in missing:
                assert resp.status_code != 501, text
    assert seen > 310


def test_undocumented_paths_and_wrong_ids_are_404(api):
    for path in ("/2.0/nothing_here", "/3.0/nothing/1", "/4.0/nothing_here", "/2.0/contact/abc"):
        resp = api.get(path)
        assert (resp.status_code, resp.json()) == (404, {"error_code": 404, "message": "Page not found"})
    assert api.get("/2.0/contact/9999").json() == {"error_code": 404, "message": "Not found"}
    assert api.put("/2.0/contact/1", json={}).status_code == 422  # no 2.0 PUT is documented: bexio's 422
    assert api.patch("/2.0/kb_invoice/1", json={}).status_code == 404
    assert api.post("/2.0/contact_branch", json={"name": "x"}).status_code == 404  # list and search only


def test_4_0_and_unimplemented_2_0_answer_501(api):
    resp = api.get("/4.0/purchase/bills")
    assert resp.status_code == 501 and "ApiBillsList_GET" in resp.json()["message"]
    assert "ratelimit-remaining" in resp.headers  # an answer like any other: counted, with headers
    resp = api.post("/2.0/timesheet/search", json=[])
    assert resp.status_code == 501 and "v2SearchTimesheets" in resp.json()["message"]


def test_coverage_lists_every_operation_with_its_answer(sandbox):
    cov = sandbox.control.get("coverage").json()
    assert cov["total"] == 310 == cov["implemented"] + cov["not_implemented"]
    assert len(cov["operations"]) + len(cov["missing"]) == 310
    assert {o["answer"] for o in cov["operations"]} == {"implemented"}
    assert {o["answer"] for o in cov["missing"]} == {501}
    implemented = {o["id"] for o in cov["operations"]}
    for op in (
        "v2ListAccountGroups",
        "ListCalendarYears",
        "ShowCalendarYear",
        "SearchCalendarYears",
        "CreateCalendarYear",
        "ListBusinessYears",
        "ShowBusinessYear",
        "ListVatPeriods",
        "ShowVatPeriod",
    ):
        assert op in implemented, op


# accounting reads ---------------------------------------------------------------------------------------
def test_account_groups_fit_the_chart_of_accounts(api):
    groups = {g["id"]: g for g in api.get("/2.0/account_groups").json()}
    assert all(
        set(g) >= {"id", "uuid", "account_no", "name", "parent_fibu_account_group_id"}
        for g in groups.values()
    )
    assert all(g["parent_fibu_account_group_id"] in (None, *groups) for g in groups.values())
    accounts = api.get("/2.0/accounts").json()
    assert {a["fibu_account_group_id"] for a in accounts} <= set(groups)
    by_no = {a["account_no"]: a for a in accounts}
    assert groups[by_no["1100"]["fibu_account_group_id"]]["account_no"].startswith("11")
    assert groups[by_no["3400"]["fibu_account_group_id"]]["account_no"] == "34"


def test_calendar_years_list_show_search_create(api):
    years = api.get("/3.0/accounting/calendar_years").json()
    assert years[0]["start"] == "2024-01-01" and years[0]["end"] == "2024-12-31"
    assert {y["vat_accounting_type"] for y in years} == {"agreed"}
    assert api.get(f"/3.0/accounting/calendar_years/{years[1]['id']}").json() == years[1]
    assert api.get("/3.0/accounting/calendar_years/999").status_code == 404

    def search(value, criteria):
        resp = api.post(
            "/3.0/accounting/calendar_years/search",
            json=[{"field": "end", "value": value, "criteria": criteria}],
        )
        assert resp.status_code == 200
        return [y["id"] for y in resp.json()]

    assert search("2026-12-31", "=") == []  # as documented: equality needs the time
    assert search("2026-12-31 23:59:59", "=") == search("2026-12-31", "like") == [3]
    last = int(years[-1]["start"][:4])
    made = api.post("/3.0/accounting/calendar_years", json={"year": str(last + 2)})
    assert made.status_code == 201
    assert [y["start"] for y in made.json()] == [f"{last + 1}-01-01", f"{last + 2}-01-01"]
    assert api.post("/3.0/accounting/calendar_years", json={"year": str(last + 2)}).status_code == 422
    assert api.post("/3.0/accounting/calendar_years", json={"year": "2999"}).status_code == 422
    partial = {"year": str(last + 3), "is_vat_subject": True}
    assert api.post("/3.0/accounting/calendar_years", json=partial).status_code == 422
    business = api.get("/3.0/accounting/business_years").json()
    assert business[-1]["start"] == f"{last + 2}-01-01" and business[-1]["status"] == "open"


def test_business_years_and_vat_periods(api):
    years = api.get("/3.0/accounting/business_years").json()
    assert years[0] == {
        "id": 1,
        "start": "2024-01-01",
        "end": "2024-12-31",
        "status": "closed",
        "closed_at": "2025-04-28",
    }
    assert {y["status"] for y in years[1:]} == {"open"}
    assert api.get("/3.0/accounting/business_years/2").json()["start"] == "2025-01-01"
    periods = api.get("/3.0/accounting/vat_periods").json()
    assert periods[0] == {
        "id": 1,
        "start": "2024-01-01",
        "end": "2024-03-31",
        "type": "quarter",
        "status": "closed",
        "closed_at": "2025-04-28",
    }
    assert len(periods) == 4 * len(years)
    assert api.get("/3.0/accounting/vat_periods/6").json()["end"] == "2025-06-30"
    assert api.get("/3.0/accounting/vat_periods/999").status_code == 404


@pytest.mark.parametrize(
    "path", ["/2.0/account_groups", "/3.0/accounting/calendar_years", "/3.0/accounting/vat_periods"]
)
def test_accounting_reads_need_the_accounting_scope(api, path):
    assert api.make(scopes=["contact_show"]).get(path).status_code == 403
    assert api.make(user="clerk@bexio.test").get(path).status_code == 403
    assert api.make(scopes=["accounting"]).get(path).status_code == 200
