"""Every operation the client claims is a documented bexio operation, and each is reachable
(nolen-ai/bexio-mcp style: checked against the 310 documented operations)."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path

import httpx
import pytest

from bexio import Criterion
from bexio import models as m
from bexio.resources.base import CreateMixin, DeleteMixin, GetMixin, ListMixin, SearchMixin, UpdateMixin

OPERATIONS = (
    Path(os.environ.get("BEXIO_REFERENCE", Path(__file__).resolve().parents[3] / "shared" / "reference"))
    / "bexio-operations.json"
)


def _shape(method: str, path: str) -> tuple[str, str]:
    path = path.replace("{kb_document_type}", "kb_invoice")
    return method, re.sub(r"\{[^}]+\}|(?<=/)\d+(?=/|$)", "{}", path)


def documented() -> set[tuple[str, str]]:
    return {_shape(op["method"], op["path"]) for op in json.loads(OPERATIONS.read_text())}


def answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/next_ref_nr"):
        return httpx.Response(200, json={"next_ref_nr": "AL-1"})
    if path.endswith("/pdf"):
        return httpx.Response(
            200, json={"name": "a.pdf", "size": 4, "mime": "application/pdf", "content": "JVBERg=="}
        )
    if (
        request.method == "GET"
        and not re.search(r"/(\d+|me)$", path)
        or path.endswith(("/search", "_bulk_create"))
    ):
        return httpx.Response(200, json=[])
    if request.method in ("DELETE",) or path.rsplit("/", 1)[-1] in {
        "issue", "revert_issue", "cancel", "mark_as_sent", "send", "restore"
    }:  # fmt: skip
        return httpx.Response(200, json={"success": True})
    return httpx.Response(200, json={"id": 1, "type": "KbPositionCustom"})


def exercise(client) -> None:
    for name in (
        "contacts",
        "contact_groups",
        "salutations",
        "titles",
        "countries",
        "languages",
        "units",
        "payment_types",
        "users",
        "company_profile",
        "articles",
        "bank_accounts",
        "taxes",
        "accounts",
        "account_groups",
        "currencies",
        "invoices",
        "journal",
        "calendar_years",
        "business_years",
        "vat_periods",
    ):
        res = getattr(client, name)
        if isinstance(res, ListMixin):
            res.list(limit=1)
        if isinstance(res, SearchMixin):
            res.search([Criterion(sorted(res.search_fields)[0], "=", 1)], limit=1)
        if isinstance(res, GetMixin):
            res.get(1)
        if isinstance(res, CreateMixin):
            res.create(res.create_model.model_construct())
        if isinstance(res, UpdateMixin):
            res.update(1, res.update_model.model_construct())
        if isinstance(res, DeleteMixin):
            res.delete(1)
    entries = client.manual_entries
    entry = m.ManualEntryCreate.single(
        date=date(2026, 11, 30), debit_account_id=1, credit_account_id=2, amount=5
    )
    entries.list(limit=1), entries.create(entry), entries.update(1, entry), entries.delete(1)
    entries.next_ref_nr(), entries.find_by_reference("AL-1")
    client.journal.all(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    client.contacts.restore(1)
    client.contacts.bulk_create([])
    client.users.me()
    inv = client.invoices
    for action in (inv.issue, inv.revert_issue, inv.cancel, inv.mark_as_sent):
        action(1)
    inv.send(1, m.InvoiceSend(recipient_email="a@b.ch", subject="s", message="[Network Link]"))
    inv.copy(1, m.InvoiceCopy(contact_id=1))
    inv.pdf(1)
    pays = inv.payments(1)
    pays.list(limit=1), pays.get(2), pays.create(m.PaymentCreate(value=1)), pays.delete(2)
    positions = inv.positions(1)
    for kind in m.POSITION_BY_KIND:
        (
            positions.list(kind, limit=1),
            positions.get(kind, 2),
            positions.update(kind, 2, {}),
            positions.delete(kind, 2),
        )
    positions.create(m.PositionTextCreate(text="x"))


def test_every_claimed_operation_is_documented_and_reachable(make_client):
    client, rec, _ = make_client(answer)
    exercise(client)
    used = {_shape(r.method, r.url.path) for r in rec.requests}
    assert used - documented() == set()
    # and the ones the issue asks for are all there
    must = {
        ("PATCH", "/2.0/contact/{}/restore"),
        ("POST", "/2.0/contact/_bulk_create"),
        ("GET", "/3.0/users/me"),
        ("POST", "/2.0/kb_invoice/{}/send"),
        ("POST", "/2.0/kb_invoice/{}/copy"),
        ("GET", "/2.0/kb_invoice/{}/pdf"),
        ("DELETE", "/2.0/kb_invoice/{}/payment/{}"),
        ("POST", "/2.0/kb_invoice/{}/kb_position_text"),
        ("POST", "/2.0/kb_invoice/{}/kb_position_subposition/{}"),
        ("POST", "/2.0/accounts/search"),
        ("GET", "/3.0/banking/accounts/{}"),
        ("GET", "/2.0/salutation"),
        ("GET", "/2.0/title"),
        ("GET", "/2.0/account_groups"),
        ("POST", "/3.0/accounting/manual_entries"),
        ("GET", "/3.0/accounting/manual_entries"),
        ("PUT", "/3.0/accounting/manual_entries/{}"),
        ("DELETE", "/3.0/accounting/manual_entries/{}"),
        ("GET", "/3.0/accounting/manual_entries/next_ref_nr"),
        ("GET", "/3.0/accounting/journal"),
        ("GET", "/3.0/accounting/calendar_years"),
        ("GET", "/3.0/accounting/business_years"),
        ("GET", "/3.0/accounting/vat_periods/{}"),
    }
    assert must <= used
    assert len(used) >= 90


def test_every_searchable_resource_names_its_search_fields(make_client):
    client, rec, _ = make_client(answer)
    searchable = [r for r in vars(client).values() if isinstance(r, SearchMixin)]
    assert len(searchable) >= 11 and all(r.search_fields for r in searchable)
    with pytest.raises(ValueError, match="cannot search mail"):
        client.invoices.search([Criterion("mail", "=", "a@b.ch")])  # bexio would answer 422
    assert rec.requests == []
