"""Quotes (kb_offer), orders (kb_order), deliveries, positions on every document type, comments,
invoice reminders: status codes, numbering, statuses, scopes."""

from __future__ import annotations

import base64

import httpx
import pytest

POS = {
    "type": "KbPositionCustom",
    "amount": "2",
    "unit_price": "50",
    "tax_id": 14,
    "account_id": 101,
    "unit_id": 1,
    "text": "Theorie",
}
SEND = {"recipient_email": "demo@bexio.test", "subject": "Offerte", "message": "Bitte: [Network Link]"}


def create(api, kind, positions=None, **fields):
    body = {"contact_id": 1, "user_id": 1, "positions": [POS] if positions is None else positions}
    body.update(fields)
    resp = api.post(f"/2.0/{kind}", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def status(api, kind, id_):
    resp = api.get(f"/2.0/{kind}/{id_}")
    assert resp.status_code == 200, resp.text
    return resp.json()["kb_item_status_id"]


def test_numbering_and_shapes_per_type(api):
    offer = create(api, "kb_offer")
    offer2 = create(api, "kb_offer", positions=[])
    order = create(api, "kb_order")
    invoice = create(api, "kb_invoice")
    assert (offer["document_nr"], offer2["document_nr"]) == ("AN-00001", "AN-00002")
    assert order["document_nr"] == "AU-00001"
    assert invoice["document_nr"] == "RE-00001"  # each type has its own sequence
    assert (offer["kb_item_status_id"], order["kb_item_status_id"], invoice["kb_item_status_id"]) == (1, 5, 7)
    # quote fields per the docs; no invoice-only fields
    assert offer["is_valid_until"] and "is_valid_to" not in offer
    for key in ("delivery_address_type", "delivery_address", "kb_terms_of_payment_template_id", "show_total"):
        assert key in offer
    assert "total_received_payments" not in offer and "esr_id" not in offer
    assert list(offer)[-2:] == ["network_link", "positions"]
    assert order["is_recurring"] is False and "is_valid_until" not in order and "is_valid_to" not in order
    # totals are computed as for invoices: 2 x 50 + 8.1 % on top
    assert (offer["total_net"], offer["total_taxes"], offer["total"]) == ("100", "8.1000", "108.1")
    shown = api.get(f"/2.0/kb_offer/{offer['id']}").json()
    assert shown["total"] == "108.100000" and shown["positions"][0]["position_total"] == "100.000000"
    listed = api.get("/2.0/kb_offer").json()
    assert [d["id"] for d in listed] == [offer["id"], offer2["id"]] and "positions" not in listed[0]


def test_offer_list_search_order_limit(api):
    for amount in ("3", "1", "2"):
        create(api, "kb_offer", positions=[{**POS, "amount": amount}], api_reference=f"ref-{amount}")
    by_total = api.get("/2.0/kb_offer", params={"order_by": "total_desc"}).json()
    assert [d["api_reference"] for d in by_total] == ["ref-3", "ref-2", "ref-1"]
    page = api.get("/2.0/kb_offer", params={"limit": 1, "offset": 1}).json()
    assert [d["document_nr"] for d in page] == ["AN-00002"]
    found = api.post(
        "/2.0/kb_offer/search", json=[{"field": "api_reference", "value": "ref-2", "criteria": "="}]
    )
    assert found.status_code == 200 and [d["api_reference"] for d in found.json()] == ["ref-2"]
    until = api.post(
        "/2.0/kb_offer/search", json=[{"field": "is_valid_until", "value": "", "criteria": "not_null"}]
    )
    assert len(until.json()) == 3
    bad = api.post("/2.0/kb_order/search", json=[{"field": "is_valid_until", "value": "x"}])
    assert bad.status_code == 422  # not a search field of orders


def test_offer_status_lifecycle(api):
    offer = create(api, "kb_offer")
    oid = offer["id"]

    def act(action, expect=200):
        resp = api.post(f"/2.0/kb_offer/{oid}/{action}", json={})
        assert resp.status_code == expect, (action, resp.text)
        if expect == 200:
            assert resp.json() == {"success": True}

    act("accept", 422)  # a draft can not be accepted
    act("issue")
    assert status(api, "kb_offer", oid) == 2
    act("issue", 422)
    assert api.post(f"/2.0/kb_offer/{oid}", json={"title": "x"}).status_code == 422  # only drafts change
    assert api.delete(f"/2.0/kb_offer/{oid}").status_code == 422
    act("revertIssue")
    assert status(api, "kb_offer", oid) == 1
    act("issue")
    act("accept")
    assert status(api, "kb_offer", oid) == 3
    act("reissue")
    assert status(api, "kb_offer", oid) == 2
    act("reject")
    assert status(api, "kb_offer", oid) == 4
    draft = create(api, "kb_offer")
    act_sent = api.post(f"/2.0/kb_offer/{draft['id']}/mark_as_sent", json={})
    assert act_sent.status_code == 200 and status(api, "kb_offer", draft["id"]) == 2
    third = create(api, "kb_offer")
    edited = api.post(
        f"/2.0/kb_offer/{third['id']}", json={"title": "Schulung", "is_valid_until": "2030-01-31"}
    )
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["is_valid_until"]) == ("Schulung", "2030-01-31")
    assert api.delete(f"/2.0/kb_offer/{third['id']}").json() == {"success": True}
    assert api.get(f"/2.0/kb_offer/{third['id']}").status_code == 404


def test_offer_send_copy_pdf(api):
    offer = create(api, "kb_offer")
    oid = offer["id"]
    assert api.post(f"/2.0/kb_offer/{oid}/send", json={**SEND, "message": "no link"}).status_code == 422
    assert api.post(f"/2.0/kb_offer/{oid}/send", json=SEND).json() == {"success": True}
    assert status(api, "kb_offer", oid) == 2
    link = api.get(f"/2.0/kb_offer/{oid}").json()["network_link"]
    page = httpx.get(link)
    assert page.status_code == 200 and "Offerte AN-00001" in page.text and "Theorie" in page.text
    copy = api.post(f"/2.0/kb_offer/{oid}/copy", json={"contact_id": 2})
    assert copy.status_code == 201
    body = copy.json()
    assert body["document_nr"] == "AN-00002" and body["kb_item_status_id"] == 1 and body["contact_id"] == 2
    assert [p["text"] for p in body["positions"]] == ["Theorie"]
    pdf = api.get(f"/2.0/kb_offer/{oid}/pdf").json()
    assert pdf["name"] == "an-00001.pdf" and base64.b64decode(pdf["content"]).startswith(b"%PDF")
    assert api.get(f"/2.0/kb_order/{create(api, 'kb_order')['id']}/pdf").json()["name"] == "au-00001.pdf"


@pytest.mark.parametrize("kind", ["kb_offer", "kb_order", "kb_invoice"])
def test_position_endpoints_on_every_document_type(api, kind):
    doc = create(api, kind, positions=[])
    base = f"/2.0/{kind}/{doc['id']}"
    made = api.post(f"{base}/kb_position_custom", json={k: v for k, v in POS.items() if k != "type"})
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    api.post(f"{base}/kb_position_text", json={"text": "Hinweis"}).raise_for_status()
    assert [p["id"] for p in api.get(f"{base}/kb_position_custom").json()] == [pid]
    assert api.get(f"{base}/kb_position_custom/{pid}").json()["amount"] == "2.000000"
    assert api.get(base).json()["total"] == "108.100000"
    edited = api.post(f"{base}/kb_position_custom/{pid}", json={"amount": "3"})
    assert edited.status_code == 200 and api.get(base).json()["total_net"] == "150.000000"
    assert api.delete(f"{base}/kb_position_custom/{pid}").json() == {"success": True}
    assert api.get(f"{base}/kb_position_custom/{pid}").status_code == 404
    assert api.get(base).json()["total"] == "0.000000"
    assert api.get(f"/2.0/{kind}/999/kb_position_custom").status_code == 404


def test_positions_locked_after_issue(api):
    offer = create(api, "kb_offer")
    api.post(f"/2.0/kb_offer/{offer['id']}/issue", json={}).raise_for_status()
    resp = api.post(f"/2.0/kb_offer/{offer['id']}/kb_position_text", json={"text": "spät"})
    assert resp.status_code == 422


def test_scopes_and_rights(api):
    offer = create(api, "kb_offer")
    order = create(api, "kb_order")
    invoice_only = api.make(scopes=["kb_invoice_edit"])
    assert invoice_only.get("/2.0/kb_offer").status_code == 403
    assert invoice_only.get(f"/2.0/kb_offer/{offer['id']}/kb_position_custom").status_code == 403
    assert invoice_only.get("/2.0/kb_order").status_code == 403
    offer_show = api.make(scopes=["kb_offer_show"])
    assert offer_show.get("/2.0/kb_offer").status_code == 200
    assert offer_show.post("/2.0/kb_offer/search", json=[]).status_code == 200
    assert offer_show.post("/2.0/kb_offer", json={"contact_id": 1, "user_id": 1}).status_code == 403
    assert offer_show.post(f"/2.0/kb_offer/{offer['id']}/issue", json={}).status_code == 403
    assert (
        offer_show.post(f"/2.0/kb_offer/{offer['id']}/kb_position_text", json={"text": "x"}).status_code
        == 403
    )
    order_edit = api.make(scopes=["kb_order_edit"])
    assert (
        order_edit.post(f"/2.0/kb_order/{order['id']}/kb_position_text", json={"text": "x"}).status_code
        == 201
    )
    assert order_edit.get("/2.0/kb_offer").status_code == 403
    clerk = api.make(user="clerk@bexio.test")  # has the scopes, not the rights
    assert clerk.get("/2.0/kb_offer").status_code == 403
    assert clerk.get("/2.0/kb_order").status_code == 403
    assert clerk.get("/2.0/kb_delivery").status_code == 403


def test_conversions_order_delivery_and_invoice(api):
    offer = create(api, "kb_offer", title="Kurs")
    api.post(f"/2.0/kb_offer/{offer['id']}/issue", json={}).raise_for_status()
    order = api.post(f"/2.0/kb_offer/{offer['id']}/order", json={})
    assert order.status_code == 201
    order = order.json()
    assert order["document_nr"] == "AU-00001" and order["kb_item_status_id"] == 5
    assert order["title"] == "Kurs" and [p["text"] for p in order["positions"]] == ["Theorie"]
    assert status(api, "kb_offer", offer["id"]) == 3  # the quote is accepted
    invoice = api.post(f"/2.0/kb_order/{order['id']}/invoice", json={}).json()
    assert invoice["document_nr"] == "RE-00001" and invoice["kb_item_status_id"] == 7
    assert invoice["total"] == "108.1"
    delivery = api.post(f"/2.0/kb_order/{order['id']}/delivery", json={})
    assert delivery.status_code == 201 and delivery.json()["document_nr"] == "LS-00001"
    did = delivery.json()["id"]
    assert delivery.json()["kb_item_status_id"] == 10
    assert [d["id"] for d in api.get("/2.0/kb_delivery").json()] == [did]
    assert api.post(f"/2.0/kb_delivery/{did}/issue", json={}).json() == {"success": True}
    assert status(api, "kb_delivery", did) == 18
    assert api.post(f"/2.0/kb_delivery/{did}/issue", json={}).status_code == 422
    assert api.post("/2.0/kb_delivery/search", json=[]).status_code == 404  # not documented
    partial = api.post(f"/2.0/kb_offer/{offer['id']}/invoice", json={"positions": [{**POS, "amount": "1"}]})
    assert partial.status_code == 201 and partial.json()["total"] == "54.05"


def test_order_repetition(api):
    oid = create(api, "kb_order")["id"]
    assert api.get(f"/2.0/kb_order/{oid}/repetition").status_code == 404
    body = {"start": "2030-01-01", "end": None, "repetition": {"type": "monthly", "interval": 1}}
    assert api.post(f"/2.0/kb_order/{oid}/repetition", json={"start": "2030-01-01"}).status_code == 422
    resp = api.post(f"/2.0/kb_order/{oid}/repetition", json=body)
    assert resp.status_code == 200 and resp.json() == body
    assert api.get(f"/2.0/kb_order/{oid}/repetition").json() == body
    assert api.get(f"/2.0/kb_order/{oid}").json()["is_recurring"] is True
    assert api.delete(f"/2.0/kb_order/{oid}/repetition").json() == {"success": True}
    assert api.get(f"/2.0/kb_order/{oid}").json()["is_recurring"] is False


def test_comments_on_documents(api):
    offer = create(api, "kb_offer")
    base = f"/2.0/kb_offer/{offer['id']}/comment"
    assert api.post(base, json={"text": "", "user_id": 1, "user_name": "x"}).status_code == 422
    made = api.post(base, json={"text": "Rückruf", "user_id": 1, "user_name": "Demo", "is_public": False})
    assert made.status_code == 201
    comment = made.json()
    assert set(comment) == {
        "id",
        "text",
        "user_id",
        "user_email",
        "user_name",
        "date",
        "is_public",
        "image",
        "image_path",
    }
    assert api.get(base).json() == [comment]
    assert api.get(f"{base}/{comment['id']}").json() == comment
    invoice = create(api, "kb_invoice")
    assert api.get(f"/2.0/kb_invoice/{invoice['id']}/comment").json() == []  # per document


def test_reminder_lifecycle(api):
    inv = create(api, "kb_invoice")
    base = f"/2.0/kb_invoice/{inv['id']}/kb_reminder"
    assert api.post(base, json={}).status_code == 400  # a draft has no reminders
    api.post(f"/2.0/kb_invoice/{inv['id']}/issue", json={}).raise_for_status()
    first = api.post(base, json={})
    assert first.status_code == 201
    first = first.json()
    assert (first["reminder_level"], first["title"], first["is_sent"]) == (1, "1. Mahnung", False)
    assert first["kb_invoice_id"] == inv["id"] and first["remaining_price"] == "108.1000"
    assert first["received_total"] == "0.0000"
    second = api.post(base, json={}).json()
    assert second["reminder_level"] == 2
    assert [r["id"] for r in api.get(base).json()] == [first["id"], second["id"]]
    found = api.post(f"{base}/search", json=[{"field": "reminder_level", "value": "2", "criteria": "="}])
    assert [r["id"] for r in found.json()] == [second["id"]]
    assert api.post(f"{base}/search", json=[{"field": "nonsense", "value": 1}]).status_code == 422
    assert api.post(f"{base}/{first['id']}/mark_as_sent", json={}).json() == {"success": True}
    assert api.get(f"{base}/{first['id']}").json()["is_sent"] is True
    api.post(f"{base}/{first['id']}/mark_as_unsent", json={}).raise_for_status()
    assert api.get(f"{base}/{first['id']}").json()["is_sent"] is False
    assert api.post(f"{base}/{second['id']}/send", json={**SEND, "subject": ""}).status_code == 422
    assert api.post(f"{base}/{second['id']}/send", json=SEND).json() == {"success": True}
    assert api.get(f"{base}/{second['id']}").json()["is_sent"] is True
    pdf = api.get(f"{base}/{second['id']}/pdf").json()
    assert base64.b64decode(pdf["content"]).startswith(b"%PDF") and pdf["mime"] == "application/pdf"
    assert api.delete(f"{base}/{first['id']}").status_code == 422  # only the most recent one
    assert api.delete(f"{base}/{second['id']}").json() == {"success": True}
    assert api.get(f"{base}/{second['id']}").status_code == 404
    assert api.delete(f"{base}/{first['id']}").json() == {"success": True}
    other = create(api, "kb_invoice")
    assert api.get(f"/2.0/kb_invoice/{other['id']}/kb_reminder/{first['id']}").status_code == 404
    assert api.get("/2.0/kb_invoice/999/kb_reminder").status_code == 404
    readonly = api.make(scopes=["kb_invoice_show"])
    assert readonly.get(base).status_code == 200
    assert readonly.post(base, json={}).status_code == 403


def test_coverage_counts_document_types(sandbox):
    cov = sandbox.control.get("coverage").json()
    assert cov["implemented"] >= 200
    positions = [o for o in cov["operations"] if o["id"] == "v2CreateDefaultPosition"]
    assert positions and positions[0]["document_types"] == ["kb_offer", "kb_order", "kb_invoice"]
    assert cov["expanded"]["total"] > cov["total"]
    implemented = {o["id"] for o in cov["operations"]}
    for op in ("v2CreateQuote", "v2RevertIssueQuote", "v2ShowOrderRepetition", "v2CreateInvoiceReminder"):
        assert op in implemented


@pytest.mark.parametrize(("path", "name"), [("salutation", "Frau Dr."), ("title", "Prof.")])
def test_salutation_and_title_crud(api, path, name):
    made = api.post(f"/2.0/{path}", json={"name": name})
    assert made.status_code == 201 and made.json()["name"] == name
    id_ = made.json()["id"]
    assert api.post(f"/2.0/{path}", json={"name": ""}).status_code == 422
    assert api.get(f"/2.0/{path}/{id_}").json() == {"id": id_, "name": name}
    edited = api.post(f"/2.0/{path}/{id_}", json={"name": name + "x"})
    assert edited.status_code == 200 and edited.json()["name"] == name + "x"
    found = api.post(f"/2.0/{path}/search", json=[{"field": "name", "value": name + "x", "criteria": "="}])
    assert [d["id"] for d in found.json()] == [id_]
    names = [d["name"] for d in api.get(f"/2.0/{path}", params={"order_by": "name_desc"}).json()]
    assert names == sorted(names, key=str.lower, reverse=True)
    assert api.delete(f"/2.0/{path}/{id_}").json() == {"success": True}
    assert api.get(f"/2.0/{path}/{id_}").status_code == 404
    readonly = api.make(scopes=["contact_show"])
    assert readonly.get(f"/2.0/{path}").status_code == 200
    assert readonly.post(f"/2.0/{path}", json={"name": "x"}).status_code == 403


def test_contact_branch_relation_and_additional_address(api):
    branches = api.get("/2.0/contact_branch", params={"order_by": "name"}).json()
    assert [b["name"] for b in branches] == sorted(b["name"] for b in branches)
    found = api.post("/2.0/contact_branch/search", json=[{"field": "name", "value": "fahrt"}]).json()
    assert [b["name"] for b in found] == ["Luftfahrt"]
    assert api.post("/2.0/contact_branch", json={"name": "x"}).status_code in (404, 405)
    assert api.post("/2.0/contact_relation", json={"contact_id": 1, "contact_sub_id": 999}).status_code == 422
    rel = api.post(
        "/2.0/contact_relation", json={"contact_id": 1, "contact_sub_id": 2, "description": "Vater"}
    )
    assert rel.status_code == 201
    rid = rel.json()["id"]
    assert set(rel.json()) == {"id", "contact_id", "contact_sub_id", "description", "updated_at"}
    assert (
        api.post(f"/2.0/contact_relation/{rid}", json={"description": "Mutter"}).json()["description"]
        == "Mutter"
    )
    assert api.delete(f"/2.0/contact_relation/{rid}").json() == {"success": True}
    base = "/2.0/contact/1/additional_address"
    addr = api.post(
        base, json={"name": "Rechnung", "street_name": "Hangarweg", "house_number": "3", "postcode": "3000"}
    )
    assert addr.status_code == 201 and addr.json()["address"] == "Hangarweg 3"
    aid = addr.json()["id"]
    assert api.post(base, json={"name": "x", "country_id": 999}).status_code == 422
    found = api.post(f"{base}/search", json=[{"field": "address", "value": "hangar"}]).json()
    assert [a["id"] for a in found] == [aid]
    assert api.post(f"{base}/{aid}", json={"city": "Bern"}).json()["city"] == "Bern"
    assert api.get("/2.0/contact/2/additional_address").json() == []
    assert api.delete(f"{base}/{aid}").json() == {"success": True}
    assert api.get(f"{base}/{aid}").status_code == 404
