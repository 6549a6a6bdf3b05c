"""API behaviour: status codes, errors, scopes and rights, lists, search, totals, statuses, payments."""

from __future__ import annotations

import base64
import http.client
import json
from urllib.parse import urlparse

import pytest

POS = {
    "type": "KbPositionCustom",
    "amount": "1",
    "unit_price": "100",
    "tax_id": 14,
    "account_id": 101,
    "unit_id": 1,
    "text": "Flugzeit",
}


def invoice(api, positions=None, **fields):
    body = {
        "contact_id": 1,
        "user_id": 1,
        "mwst_type": 0,
        "mwst_is_net": True,
        "positions": positions or [POS],
    }
    body.update(fields)
    resp = api.post("/2.0/kb_invoice", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_unauthenticated_and_bad_token(sandbox, api):
    import httpx

    assert httpx.get(sandbox.url + "/2.0/contact").status_code == 401
    resp = httpx.get(sandbox.url + "/2.0/contact", headers={"Authorization": "Bearer nonsense"})
    assert resp.status_code == 401
    assert resp.json() == {"error_code": 401, "message": "Invalid access token"}


def test_missing_scope_and_missing_right(api):
    readonly = api.make(scopes=["contact_show"])
    assert readonly.get("/2.0/contact").status_code == 200
    assert readonly.post("/2.0/contact", json={"name_1": "x"}).status_code == 403
    assert readonly.post("/2.0/contact/search", json=[]).status_code == 200  # search is a read
    assert readonly.get("/2.0/kb_invoice").status_code == 403
    clerk = api.make(user="clerk@bexio.test")
    assert clerk.get("/2.0/contact").status_code == 403
    assert clerk.get("/2.0/kb_invoice").status_code == 403
    assert clerk.get("/3.0/users/me").json()["is_superadmin"] is False


def test_companies_are_separate(sandbox, api):
    second = [c["company_id"] for c in sandbox.companies() if not c["demo"]][0]
    other = api.make(company_id=second)
    api.post("/2.0/contact", json={"contact_type_id": 1, "name_1": "Nur Demo", "user_id": 1, "owner_id": 1})
    names = [c["name_1"] for c in other.get("/2.0/contact").json()]
    assert "Nur Demo" not in names


def test_put_on_2_0_gives_422_with_empty_message(api):
    inv = invoice(api)
    resp = api.put(f"/2.0/kb_invoice/{inv['id']}", json={"title": "x"})
    assert resp.status_code == 422
    assert resp.json()["message"] == ""


def test_411_without_content_length(sandbox, api):
    url = urlparse(sandbox.url)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    conn.putrequest("POST", "/2.0/contact/search")
    conn.putheader("Authorization", api.headers["Authorization"])
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"2\r\n[]\r\n0\r\n\r\n")
    assert conn.getresponse().status == 411


def test_404_and_unknown_path(api):
    assert api.get("/2.0/contact/9999").status_code == 404
    assert api.get("/2.0/kb_invoice/9999").json()["error_code"] == 404
    assert api.get("/2.0/nothing_here").status_code == 404


def test_headers_on_every_answer(api):
    resp = api.get("/2.0/contact")
    for name in (
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "x-ratelimit-limit-minute",
        "x-ratelimit-remaining-minute",
        "cache-control",
        "access-control-allow-origin",
    ):
        assert name in resp.headers
    assert resp.headers["access-control-allow-origin"] == "https://office.bexio.com"
    created = api.post(
        "/2.0/contact", json={"contact_type_id": 2, "name_1": "Meier", "user_id": 1, "owner_id": 1}
    )
    assert created.status_code == 201 and "etag" in created.headers
    assert "ratelimit-remaining" in api.get("/2.0/contact/9999").headers


def test_rate_limit_and_429(sandbox, api):
    sandbox.settings(rate_limit=3, rate_window_s=60)
    remaining = [int(api.get("/3.0/users/me").headers["ratelimit-remaining"]) for _ in range(3)]
    assert remaining == [2, 1, 0]
    resp = api.get("/3.0/users/me")
    assert resp.status_code == 429
    assert resp.json() == {"message": "API rate limit exceeded"}
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    second = [c["company_id"] for c in sandbox.companies() if not c["demo"]][0]
    assert api.make(company_id=second).get("/3.0/users/me").status_code == 200  # per company


def test_contact_numbering_edit_archive_restore(api):
    body = {
        "contact_type_id": 2,
        "name_1": "Pilot",
        "name_2": "Petra",
        "user_id": 1,
        "owner_id": 1,
        "street_name": "Hangarweg",
        "house_number": "3",
        "postcode": "3123",
        "city": "Belp",
        "country_id": 1,
        "mail": "petra@example.ch",
    }
    created = api.post("/2.0/contact", json=body).json()
    assert created["nr"] == "000003"
    assert created["address"] == "Hangarweg 3"
    edited = api.post(f"/2.0/contact/{created['id']}", json={"city": "Bern"}).json()
    assert edited["city"] == "Bern" and edited["name_1"] == "Pilot"
    assert api.delete(f"/2.0/contact/{created['id']}").json() == {"success": True}
    assert api.get(f"/2.0/contact/{created['id']}").status_code == 404
    assert created["id"] not in [c["id"] for c in api.get("/2.0/contact").json()]
    assert api.patch(f"/2.0/contact/{created['id']}/restore", content=b"").json() == {"success": True}
    assert api.get(f"/2.0/contact/{created['id']}").status_code == 200
    missing = api.post("/2.0/contact", json={"contact_type_id": 1})
    assert missing.status_code == 422
    bulk = api.post(
        "/2.0/contact/_bulk_create",
        json=[{"contact_type_id": 1, "name_1": f"B{i}", "user_id": 1, "owner_id": 1} for i in range(3)],
    )
    assert [c["nr"] for c in bulk.json()] == ["000004", "000005", "000006"]


def test_pagination_order_and_search(api):
    for i in range(5):
        api.post(
            "/2.0/contact",
            json={
                "contact_type_id": 1,
                "name_1": f"Firma {i}",
                "user_id": 1,
                "owner_id": 1,
                "city": "Bern" if i % 2 else "Thun",
            },
        )
    page = api.get("/2.0/contact", params={"limit": 2, "offset": 1, "order_by": "id"}).json()
    assert [c["id"] for c in page] == [2, 3]
    desc = api.get("/2.0/contact", params={"order_by": "name_1_desc"}).json()
    assert desc[0]["name_1"] == "Muster"
    found = api.post(
        "/2.0/contact/search",
        json=[{"field": "name_1", "value": "Firma"}, {"field": "city", "value": "Bern", "criteria": "="}],
    ).json()
    assert sorted(c["name_1"] for c in found) == ["Firma 1", "Firma 3"]
    gt = api.post(
        "/2.0/contact/search",
        params={"order_by": "id_desc"},
        json=[{"field": "id", "value": "5", "criteria": ">"}],
    ).json()
    assert [c["id"] for c in gt] == [7, 6]
    inn = api.post("/2.0/contact/search", json=[{"field": "id", "value": [1, 2], "criteria": "in"}]).json()
    assert [c["id"] for c in inn] == [1, 2]
    bad = api.post("/2.0/contact/search", json=[{"field": "remarks", "value": "x"}])
    assert bad.status_code == 422
    assert len(api.get("/2.0/country", params={"limit": 5000}).json()) <= 2000


def test_invoice_numbering_echo_and_normalisation(api):
    created = invoice(api, positions=[{**POS, "amount": "1.5", "unit_price": 80}], api_reference="ref-1")
    assert created["document_nr"] == "RE-00001"
    assert created["kb_item_status_id"] == 7
    pos = created["positions"][0]
    assert pos["amount"] == "1.5" and pos["unit_price"] == "80"
    shown = api.get(f"/2.0/kb_invoice/{created['id']}").json()
    assert shown["positions"][0]["amount"] == "1.500000"
    assert shown["positions"][0]["unit_price"] == "80.000000"
    assert "positions" not in api.get("/2.0/kb_invoice").json()[0]
    assert invoice(api)["document_nr"] == "RE-00002"
    found = api.post(
        "/2.0/kb_invoice/search", json=[{"field": "api_reference", "value": "ref-1", "criteria": "="}]
    ).json()
    assert [i["id"] for i in found] == [created["id"]]
    assert len(shown["updated_at"]) == 19 and shown["updated_at"][10] == " "


@pytest.mark.parametrize(
    ("mwst_type", "is_net", "gross", "net", "taxes", "total", "diff"),
    [
        (0, True, "20.722800", "19.170000", "1.5528", "20.700000", -0.02),
        (0, False, "19.170000", "17.733600", "1.4364", "19.150000", -0.02),
        (1, True, "19.170000", "19.170000", "0.0000", "19.150000", -0.02),
        (2, True, "19.170000", "19.170000", "0.0000", "19.150000", -0.02),
    ],
)
def test_totals_follow_mwst_and_rounding(api, mwst_type, is_net, gross, net, taxes, total, diff):
    inv = invoice(api, positions=[{**POS, "unit_price": "19.17"}], mwst_type=mwst_type, mwst_is_net=is_net)
    shown = api.get(f"/2.0/kb_invoice/{inv['id']}").json()
    assert (shown["total_gross"], shown["total_net"], shown["total_taxes"], shown["total"]) == (
        gross,
        net,
        taxes,
        total,
    )
    assert shown["total_rounding_difference"] == diff


def test_eur_rounds_to_cents(api):
    inv = invoice(api, positions=[{**POS, "unit_price": "19.17"}], mwst_type=1, currency_id=2)
    assert api.get(f"/2.0/kb_invoice/{inv['id']}").json()["total"] == "19.170000"


def test_invoice_validation(api):
    def fails(**kw):
        body = {"contact_id": 1, "user_id": 1, "positions": [POS]}
        body.update(kw)
        resp = api.post("/2.0/kb_invoice", json=body)
        assert resp.status_code == 422, resp.text
        return resp.json()

    assert "contact_id" in json.dumps(fails(contact_id=999))
    assert "not active" in json.dumps(fails(positions=[{**POS, "tax_id": 16}]))
    assert "sales tax" in json.dumps(fails(positions=[{**POS, "tax_id": 21}]))
    assert "6 decimals" in json.dumps(fails(positions=[{**POS, "amount": "1.1234567"}]))
    fails(document_nr="RE-99999")
    fails(user_id=None)


def test_status_lifecycle_and_payments(api):
    inv = invoice(api, positions=[{**POS, "unit_price": "100"}], mwst_type=1)
    iid = inv["id"]
    assert api.post(f"/2.0/kb_invoice/{iid}/payment", json={"value": "10"}).status_code == 422  # draft
    assert api.post(f"/2.0/kb_invoice/{iid}/issue", content=b"").json() == {"success": True}
    assert api.get(f"/2.0/kb_invoice/{iid}").json()["kb_item_status_id"] == 8
    assert api.delete(f"/2.0/kb_invoice/{iid}").status_code == 422  # only drafts
    assert api.post(f"/2.0/kb_invoice/{iid}/revert_issue", content=b"").json() == {"success": True}
    assert api.get(f"/2.0/kb_invoice/{iid}").json()["kb_item_status_id"] == 7
    api.post(f"/2.0/kb_invoice/{iid}/issue", content=b"")
    pay = api.post(
        f"/2.0/kb_invoice/{iid}/payment", json={"value": "40", "date": "2026-06-18", "bank_account_id": 1}
    )
    assert pay.status_code == 201 and pay.json()["value"] == "40"
    shown = api.get(f"/2.0/kb_invoice/{iid}").json()
    assert shown["kb_item_status_id"] == 16
    assert (shown["total_received_payments"], shown["total_remaining_payments"]) == ("40.000000", "60.0000")
    second = api.post(f"/2.0/kb_invoice/{iid}/payment", json={"value": "60"}).json()
    assert api.get(f"/2.0/kb_invoice/{iid}").json()["kb_item_status_id"] == 9
    assert [p["value"] for p in api.get(f"/2.0/kb_invoice/{iid}/payment").json()] == [
        "40.000000",
        "60.000000",
    ]
    assert api.delete(f"/2.0/kb_invoice/{iid}/payment/{second['id']}").json() == {"success": True}
    assert api.get(f"/2.0/kb_invoice/{iid}").json()["kb_item_status_id"] == 16
    assert api.post(f"/2.0/kb_invoice/{iid}/cancel", content=b"").json() == {"success": True}
    assert api.get(f"/2.0/kb_invoice/{iid}").json()["kb_item_status_id"] == 19
    draft = invoice(api)
    assert api.post(f"/2.0/kb_invoice/{draft['id']}/cancel", content=b"").status_code == 422
    assert api.delete(f"/2.0/kb_invoice/{draft['id']}").json() == {"success": True}


def test_positions_endpoints_and_copy(api):
    inv = invoice(api, mwst_type=1)
    base = f"/2.0/kb_invoice/{inv['id']}"
    created = api.post(f"{base}/kb_position_article", json={"article_id": 5, "amount": "2"})
    assert created.status_code == 201
    pos = created.json()
    assert pos["text"] == "Landetaxe LSZF" and pos["position_total"] == "36"
    edited = api.post(f"{base}/kb_position_article/{pos['id']}", json={"amount": "3"}).json()
    assert edited["position_total"] == "54"
    assert api.get(f"{base}").json()["total"] == "154.000000"
    assert len(api.get(f"{base}/kb_position_article").json()) == 1
    assert api.post(f"{base}/kb_position_text", json={"text": "Hinweis"}).status_code == 201
    assert api.delete(f"{base}/kb_position_article/{pos['id']}").json() == {"success": True}
    assert api.get(f"{base}/kb_position_article/{pos['id']}").status_code == 404
    copy = api.post(f"{base}/copy", json={"contact_id": 2})
    assert copy.status_code == 201
    assert copy.json()["contact_id"] == 2 and copy.json()["kb_item_status_id"] == 7


def test_pdf_is_a_real_pdf(api):
    inv = invoice(api)
    body = api.get(f"/2.0/kb_invoice/{inv['id']}/pdf").json()
    data = base64.b64decode(body["content"])
    assert data.startswith(b"%PDF") and body["size"] == len(data)
    assert body["name"] == "re-00001.pdf" and body["mime"] == "application/pdf"


def test_taxes_filters(api):
    active_sales = api.get("/3.0/taxes", params={"scope": "active", "types": "sales_tax"}).json()
    # UN81/UR26 as recorded; the club's UEX (exempt: instruction) and UVZ (no VAT: top-ups) after them
    assert [t["code"] for t in active_sales] == ["UN81", "UR26", "UEX", "UVZ"]
    assert any(not t["is_active"] for t in api.get("/3.0/taxes", params={"scope": "inactive"}).json())
    assert all(t["code"] != "UN81" for t in api.get("/3.0/taxes", params={"date": "2020-01-01"}).json())


def test_master_data(api):
    assert [lang["iso_639_1"] for lang in api.get("/2.0/language").json()][:4] == ["de", "fr", "it", "en"]
    assert api.get("/3.0/currencies").json()[0] == {"id": 1, "name": "CHF", "round_factor": 0.05}
    bank = api.get("/3.0/banking/accounts").json()[0]
    assert bank["qr_invoice_iban"].startswith("CH")
    assert any(a["account_no"] == "3200" and a["account_type"] == 1 for a in api.get("/2.0/accounts").json())
    names = [a["intern_name"] for a in api.get("/2.0/article").json()]
    assert "Fluglehrer" in names and any(n.startswith("Flugzeit HB-") for n in names)
    created = api.post(
        "/2.0/country", json={"name": "Testland", "name_short": "TL", "iso3166_alpha2": "TL"}
    ).json()
    assert created["iso_3166_alpha2"] == "TL"
    assert api.get("/3.0/users/me").json()["id"] == 1


def test_further_endpoints(api):
    rel = api.post(
        "/2.0/contact_relation", json={"contact_id": 1, "contact_sub_id": 2, "description": "Vater"}
    )
    assert rel.status_code == 201
    assert api.post(
        "/2.0/contact_relation/search", json=[{"field": "contact_id", "value": "1", "criteria": "="}]
    ).json()
    addr = api.post("/2.0/contact/1/additional_address", json={"name": "Rechnung", "city": "Bern"})
    assert addr.status_code == 201
    assert api.get("/2.0/contact/2/additional_address").json() == []
    assert api.get(f"/2.0/contact/2/additional_address/{addr.json()['id']}").status_code == 404
    assert api.get("/2.0/contact_branch").json()[0]["name"] == "Luftfahrt"
    assert api.get("/3.0/permissions").json()["permissions"]["kb_invoice"]["edit"] == "all"
    assert api.make(scopes=["contact_show"]).get("/2.0/note").status_code == 403


def test_fault_429_looks_like_kong(sandbox, api):
    sandbox.fault(method="GET", path=r"^/2\.0/unit$", effect="status:429", retry_after=2, times=1)
    resp = api.get("/2.0/unit")
    assert resp.status_code == 429
    assert resp.json() == {"message": "API rate limit exceeded"}
    assert resp.headers["Retry-After"] == "2"
    assert api.get("/2.0/unit").status_code == 200


def test_contact_salutation_and_title(api):
    """As recorded: the seeded salutations and titles, `titel_id` in, `title_id` out, unknown ids refused."""
    salutations = api.get("/2.0/salutation").json()
    assert [s["name"] for s in salutations] == ["Herr", "Frau", "Familie", "Herr & Frau"]
    assert [t["name"] for t in api.get("/2.0/title").json()] == ["Dr.", "Prof.", "Dr. med."]
    body = {"contact_type_id": 2, "name_1": "Keller", "name_2": "Hans", "user_id": 1, "owner_id": 1}
    created = api.post("/2.0/contact", json={**body, "salutation_id": 1, "titel_id": 1}).json()
    assert (created["salutation_id"], created["title_id"]) == (1, 1)
    edited = api.post(f"/2.0/contact/{created['id']}", json={"salutation_id": 2, "titel_id": 2}).json()
    assert (edited["salutation_id"], edited["title_id"]) == (2, 2)
    shown = api.get(f"/2.0/contact/{created['id']}").json()
    assert (shown["salutation_id"], shown["title_id"], shown["name_1"]) == (2, 2, "Keller")
    refused = api.post(f"/2.0/contact/{created['id']}", json={"salutation_id": 99, "titel_id": 99})
    assert refused.status_code == 422
    assert "salutation_id" in refused.text and "title_id" in refused.text
    cleared = api.post(f"/2.0/contact/{created['id']}", json={"salutation_id": None, "titel_id": None}).json()
    assert (cleared["salutation_id"], cleared["title_id"]) == (None, None)
