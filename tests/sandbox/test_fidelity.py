"""Fidelity: replay every in-scope recording of shared/reference/bexio-recorded against the sandbox.

For each recording we send the same request (after creating what it needs) and compare:
- the status code;
- the header names, case-insensitive, except transport/CDN ones that depend on the hop, not on bexio
  (IGNORED_HEADERS: Date, Server, Connection, Content-Length, Transfer-Encoding, via, CF-*, Set-Cookie,
  accept-ranges, age, last-modified);
- the rate-limit header values: the limit of the route's bucket exactly as recorded (250 on the searches
  and the invoice PDF, 400 on the article routes, 1000 elsewhere); the remaining count the same in both
  remaining headers and below the limit; the reset within the minute;
- the JSON body: the same keys (recursively; lists compare their first element) with the same value
  types (int and float are both "number"; a recorded null carries no type, so any value matches it).
Out of scope: OAuth/end-session.json (Keycloak's HTML login page after logout).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import httpx
import pytest

RECORDINGS = Path(
    os.environ.get(
        "BEXIO_RECORDINGS", Path(__file__).resolve().parents[3] / "shared" / "reference" / "bexio-recorded"
    )
)
IGNORED_HEADERS = {
    "date",
    "server",
    "connection",
    "content-length",
    "transfer-encoding",
    "via",
    "cf-ray",
    "cf-cache-status",
    "set-cookie",
    "accept-ranges",
    "age",
    "last-modified",
    "alt-svc",
    "nel",
    "report-to",
}
OUT_OF_SCOPE = {"OAuth/end-session.json"}
LIMIT_HEADERS = ("ratelimit-limit", "x-ratelimit-limit-minute")


def compare_rate_headers(recorded: dict, actual) -> list[str]:
    """Values of the rate-limit headers (names are compared with the others)."""
    rec = {k.lower(): v for k, v in recorded.items()}
    if "ratelimit-limit" not in rec:
        return []
    diffs = [
        f"header {h}: {rec[h]} recorded, {actual.get(h)} here"
        for h in LIMIT_HEADERS
        if h in rec and actual.get(h) != rec[h]
    ]
    try:
        limit, remaining = int(actual["ratelimit-limit"]), int(actual["ratelimit-remaining"])
        reset = int(actual["ratelimit-reset"])
    except (KeyError, ValueError) as exc:
        return [*diffs, f"rate headers unreadable here: {exc}"]
    if actual.get("x-ratelimit-remaining-minute") != str(remaining):
        diffs.append("header x-ratelimit-remaining-minute differs from ratelimit-remaining")
    if not 0 <= remaining < limit:
        diffs.append(f"header ratelimit-remaining: {remaining} not below the limit {limit}")
    if not 1 <= reset <= 60:
        diffs.append(f"header ratelimit-reset: {reset} not within the minute")
    return diffs


def _type(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def compare_json(recorded, actual, path="$") -> list[str]:
    if recorded is None:
        return []
    if _type(recorded) != _type(actual):
        return [f"{path}: type {_type(recorded)} recorded, {_type(actual)} here"]
    diffs = []
    if isinstance(recorded, dict):
        for key in recorded.keys() - actual.keys():
            diffs.append(f"{path}.{key}: missing here")
        for key in actual.keys() - recorded.keys():
            diffs.append(f"{path}.{key}: not recorded")
        for key in recorded.keys() & actual.keys():
            diffs += compare_json(recorded[key], actual[key], f"{path}.{key}")
    elif isinstance(recorded, list) and recorded:
        if not actual:
            return [f"{path}: empty here, {len(recorded)} items recorded"]
        diffs += compare_json(recorded[0], actual[0], f"{path}[0]")
    return diffs


class Replay:
    """Creates what a recording needs through the API, like the recording session did."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        token = sandbox.token()
        self.api = httpx.Client(
            base_url=sandbox.url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=30,
        )
        self.token = token

    def post(self, path, body=None):
        resp = self.api.post(path, json=body) if body is not None else self.api.post(path, content=b"")
        assert resp.status_code in (200, 201), (path, resp.text)
        return resp.json()

    def contact(self):
        return self.post(
            "/2.0/contact",
            {"contact_type_id": 1, "name_1": f"Create {uuid.uuid4()}", "user_id": 1, "owner_id": 1},
        )["id"]

    def invoice_body(self):
        return {
            "title": "Test",
            "contact_id": 1,
            "user_id": 1,
            "mwst_type": 1,
            "mwst_is_net": True,
            "is_valid_from": "2026-06-18",
            "is_valid_to": "2026-06-23",
            "api_reference": str(uuid.uuid4()),
            "show_position_taxes": True,
            "positions": [
                {
                    "type": "KbPositionCustom",
                    "amount": "1",
                    "unit_id": 1,
                    "account_id": 95,
                    "tax_id": 14,
                    "text": str(uuid.uuid4()),
                    "unit_price": "100",
                    "discount_in_percent": "0",
                }
            ],
        }

    def invoice(self, issued=False):
        id_ = self.post("/2.0/kb_invoice", self.invoice_body())["id"]
        if issued:
            self.post(f"/2.0/kb_invoice/{id_}/issue")
        return id_

    def paid(self):
        inv = self.invoice(issued=True)
        pay = self.post(
            f"/2.0/kb_invoice/{inv}/payment", {"date": "2026-06-18", "value": "100", "bank_account_id": 1}
        )["id"]
        return inv, pay

    def article_position(self, inv):
        return self.post(f"/2.0/kb_invoice/{inv}/kb_position_article", self.article_position_body())["id"]

    def article_position_body(self):
        return {
            "amount": "1",
            "unit_id": 1,
            "account_id": 95,
            "tax_id": 14,
            "text": str(uuid.uuid4()),
            "unit_price": "100",
            "discount_in_percent": "0",
            "article_id": 1,
        }

    def article(self):
        return self.post(
            "/2.0/article",
            {
                "intern_code": f"TEST-{uuid.uuid4().hex[:8]}",
                "intern_name": "Test Item",
                "article_type_id": 1,
                "user_id": 1,
            },
        )["id"]

    def named(self, kind, name="Test name"):
        return self.post(f"/2.0/{kind}", {"name": name})["id"]


def plan(r: Replay) -> dict:
    """recording -> (method, path, json body or None); lambdas run only when the recording is replayed."""
    inv_body = r.invoice_body
    return {
        "Accounts/fetch-a-list-of-accounts.json": lambda: ("GET", "/2.0/accounts", None),
        "Accounts/search-accounts.json": lambda: (
            "POST",
            "/2.0/accounts/search",
            [{"field": "name", "value": "no such account", "criteria": "="}],
        ),
        "BankAccounts/fetch-a-list-of-bank-accounts.json": lambda: ("GET", "/3.0/banking/accounts", None),
        "BankAccounts/fetch-a-single-bank-account.json": lambda: ("GET", "/3.0/banking/accounts/1", None),
        "CompanyProfiles/fetch-a-company-profile.json": lambda: ("GET", "/2.0/company_profile/1", None),
        "CompanyProfiles/fetch-a-list-of-company-profiles.json": lambda: (
            "GET",
            "/2.0/company_profile",
            None,
        ),
        "ContactGroups/create-contact-group.json": lambda: ("POST", "/2.0/contact_group", {"name": "Test"}),
        "ContactGroups/delete-a-contact-group-create.json": lambda: (
            "POST",
            "/2.0/contact_group",
            {"name": f"Delete {uuid.uuid4()}"},
        ),
        "ContactGroups/delete-a-contact-group.json": lambda: (
            "DELETE",
            f"/2.0/contact_group/{r.named('contact_group')}",
            None,
        ),
        "ContactGroups/edit-contact-group.json": lambda: (
            "POST",
            "/2.0/contact_group/2",
            {"name": "Test Edit"},
        ),
        "ContactGroups/fetch-a-contact-group.json": lambda: ("GET", "/2.0/contact_group/1", None),
        "ContactGroups/fetch-a-list-of-contact-groups.json": lambda: ("GET", "/2.0/contact_group", None),
        "ContactGroups/search-contact-groups.json": lambda: (
            "POST",
            "/2.0/contact_group/search",
            [{"field": "name", "value": "Partner", "criteria": "="}],
        ),
        "Contacts/create-contact.json": lambda: (
            "POST",
            "/2.0/contact",
            {"contact_type_id": 1, "name_1": f"Create {uuid.uuid4()}", "user_id": 1, "owner_id": 1},
        ),
        "Contacts/delete-a-contact-create.json": lambda: (
            "POST",
            "/2.0/contact",
            {"contact_type_id": 1, "name_1": f"Delete {uuid.uuid4()}", "user_id": 1, "owner_id": 1},
        ),
        "Contacts/delete-a-contact.json": lambda: ("DELETE", f"/2.0/contact/{r.contact()}", None),
        "Contacts/edit-contact-create.json": lambda: (
            "POST",
            "/2.0/contact",
            {"contact_type_id": 1, "name_1": f"Edit {uuid.uuid4()}", "user_id": 1, "owner_id": 1},
        ),
        "Contacts/edit-contact.json": lambda: (
            "POST",
            f"/2.0/contact/{r.contact()}",
            {"name_1": f"Edited {uuid.uuid4()}"},
        ),
        "Contacts/fetch-a-contact.json": lambda: ("GET", "/2.0/contact/1", None),
        "Contacts/fetch-a-list-of-contacts.json": lambda: ("GET", "/2.0/contact", None),
        "Contacts/restore-a-contact-create.json": lambda: (
            "POST",
            "/2.0/contact",
            {"contact_type_id": 1, "name_1": f"Restore {uuid.uuid4()}", "user_id": 1, "owner_id": 1},
        ),
        "Contacts/restore-a-contact-delete.json": lambda: ("DELETE", f"/2.0/contact/{r.contact()}", None),
        "Contacts/restore-a-contact.json": lambda: _restore(r),
        "Contacts/search-contacts.json": lambda: (
            "POST",
            "/2.0/contact/search",
            [{"field": "name_1", "value": "nobody at all", "criteria": "="}],
        ),
        "Countries/create-country.json": lambda: (
            "POST",
            "/2.0/country",
            {"name": "Test Country", "name_short": "TC", "iso3166_alpha2": "TC"},
        ),
        "Countries/delete-a-country.json": lambda: ("DELETE", f"/2.0/country/{_country(r)}", None),
        "Countries/edit-a-country.json": lambda: (
            "POST",
            "/2.0/country/14",
            {"name": "Updated Country Name"},
        ),
        "Countries/fetch-a-country.json": lambda: ("GET", "/2.0/country/14", None),
        "Countries/fetch-a-list-of-countries.json": lambda: ("GET", "/2.0/country", None),
        "Countries/search-countries.json": lambda: (
            _country(r) and "POST",
            "/2.0/country/search",
            [{"field": "name", "value": "Test Country", "criteria": "="}],
        ),
        "Currencies/create-a-currency-for-delete.json": lambda: (
            "POST",
            "/3.0/currencies",
            {"name": "AED", "round_factor": 0.05},
        ),
        "Currencies/create-a-currency.json": lambda: (
            "POST",
            "/3.0/currencies",
            {"name": "JPY", "round_factor": 0.05},
        ),
        "Currencies/delete-a-currency.json": lambda: (
            "DELETE",
            f"/3.0/currencies/{_currency(r, 'SEK')}",
            None,
        ),
        "Currencies/edit-a-currency.json": lambda: (
            "PATCH",
            f"/3.0/currencies/{_currency(r, 'NOK')}",
            {"round_factor": 0.01},
        ),
        "Currencies/fetch-a-currency.json": lambda: ("GET", "/3.0/currencies/1", None),
        "Currencies/fetch-a-list-of-currencies-for-delete.json": lambda: ("GET", "/3.0/currencies", None),
        "Currencies/fetch-a-list-of-currencies.json": lambda: ("GET", "/3.0/currencies", None),
        "Currencies/fetch-all-possible-currency-codes.json": lambda: ("GET", "/3.0/currencies/codes", None),
        "Currencies/fetch-currency-codes-for-delete.json": lambda: ("GET", "/3.0/currencies/codes", None),
        "Currencies/fetch-exchange-rates-for-currencies.json": lambda: (
            "GET",
            "/3.0/currencies/1/exchange_rates",
            None,
        ),
        "Invoices/DefaultPositions/create-a-default-position.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/kb_position_custom",
            {k: v for k, v in inv_body()["positions"][0].items() if k != "type"},
        ),
        "Invoices/DefaultPositions/create-an-invoice-for-default-position.json": lambda: (
            "POST",
            "/2.0/kb_invoice",
            inv_body(),
        ),
        "Invoices/Payments/create-a-payment-for-fetch.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice(issued=True)}/payment",
            {"date": "2026-06-18", "value": "100", "bank_account_id": 1},
        ),
        "Invoices/Payments/create-a-payment.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice(issued=True)}/payment",
            {"date": "2026-06-18", "value": "100", "bank_account_id": 1},
        ),
        "Invoices/Payments/create-an-invoice-for-fetch-payment.json": lambda: (
            "POST",
            "/2.0/kb_invoice",
            inv_body(),
        ),
        "Invoices/Payments/create-an-invoice-for-payment.json": lambda: (
            "POST",
            "/2.0/kb_invoice",
            inv_body(),
        ),
        "Invoices/Payments/fetch-a-list-of-payments-for-fetch.json": lambda: (
            "GET",
            f"/2.0/kb_invoice/{r.paid()[0]}/payment",
            None,
        ),
        "Invoices/Payments/fetch-a-list-of-payments.json": lambda: (
            "GET",
            f"/2.0/kb_invoice/{r.invoice(issued=True)}/payment",
            None,
        ),
        "Invoices/Payments/fetch-a-payment.json": lambda: (
            "GET",
            "/2.0/kb_invoice/{}/payment/{}".format(*r.paid()),
            None,
        ),
        "Invoices/Payments/issue-an-invoice-for-fetch-payment.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/issue",
            None,
        ),
        "Invoices/Payments/issue-an-invoice-for-payment.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/issue",
            None,
        ),
        "Invoices/SubPositions/create-a-sub-position.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/kb_position_subposition",
            {"text": str(uuid.uuid4()), "show_pos_nr": True},
        ),
        "Invoices/SubPositions/create-an-invoice-for-sub-position.json": lambda: (
            "POST",
            "/2.0/kb_invoice",
            inv_body(),
        ),
        "Invoices/cancel-an-invoice.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice(issued=True)}/cancel",
            None,
        ),
        "Invoices/copy-an-invoice.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/copy",
            {"contact_id": 1},
        ),
        "Invoices/create-an-invoice-for-cancel.json": lambda: ("POST", "/2.0/kb_invoice", inv_body()),
        "Invoices/create-an-invoice-for-copy.json": lambda: ("POST", "/2.0/kb_invoice", inv_body()),
        "Invoices/create-an-invoice-for-delete.json": lambda: ("POST", "/2.0/kb_invoice", inv_body()),
        "Invoices/create-an-invoice-for-edit.json": lambda: ("POST", "/2.0/kb_invoice", inv_body()),
        "Invoices/create-an-invoice.json": lambda: (
            "POST",
            "/2.0/kb_invoice",
            {
                **inv_body(),
                "positions": [
                    {"type": "KbPositionText", "text": str(uuid.uuid4()), "show_pos_nr": True},
                    *inv_body()["positions"],
                ],
            },
        ),
        "Invoices/delete-an-invoice.json": lambda: ("DELETE", f"/2.0/kb_invoice/{r.invoice()}", None),
        "Invoices/edit-an-invoice.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}",
            {"title": "Test Invoice"},
        ),
        "Invoices/fetch-a-list-of-invoices.json": lambda: (r.invoice() and "GET", "/2.0/kb_invoice", None),
        "Invoices/fetch-an-invoice-edit.json": lambda: ("GET", f"/2.0/kb_invoice/{r.invoice()}", None),
        "Invoices/fetch-an-invoice.json": lambda: ("GET", f"/2.0/kb_invoice/{_with_text(r)}", None),
        "Invoices/issue-an-invoice-for-cancel.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/issue",
            None,
        ),
        "Invoices/search-invoices.json": lambda: (
            r.invoice() and "POST",
            "/2.0/kb_invoice/search",
            [{"field": "title", "value": "Test", "criteria": "like"}],
        ),
        "Invoices/show-pdf.json": lambda: ("GET", f"/2.0/kb_invoice/{r.invoice()}/pdf", None),
        "ItemPositions/create-an-item-position.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/kb_position_article",
            r.article_position_body(),
        ),
        "ItemPositions/delete-an-item-position-create.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/kb_position_article",
            r.article_position_body(),
        ),
        "ItemPositions/delete-an-item-position.json": lambda: _position(r, "DELETE"),
        "ItemPositions/edit-an-item-position-create.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/kb_position_article",
            r.article_position_body(),
        ),
        "ItemPositions/edit-an-item-position.json": lambda: _position(r, "POST"),
        "ItemPositions/fetch-a-list-of-item-positions.json": lambda: _position(r, "LIST"),
        "ItemPositions/fetch-an-item-position-create.json": lambda: (
            "POST",
            f"/2.0/kb_invoice/{r.invoice()}/kb_position_article",
            r.article_position_body(),
        ),
        "ItemPositions/fetch-an-item-position.json": lambda: _position(r, "GET"),
        "Items/create-item.json": lambda: (
            "POST",
            "/2.0/article",
            {
                "intern_code": "TEST-1781791060",
                "intern_name": "Test Item",
                "article_type_id": 1,
                "user_id": 1,
            },
        ),
        "Items/delete-an-item.json": lambda: ("DELETE", f"/2.0/article/{r.article()}", None),
        "Items/edit-an-item.json": lambda: (
            "POST",
            f"/2.0/article/{r.article()}",
            {"intern_name": "Updated Item Name"},
        ),
        "Items/fetch-a-list-of-items.json": lambda: ("GET", "/2.0/article", None),
        "Items/fetch-an-item.json": lambda: ("GET", f"/2.0/article/{r.article()}", None),
        "Items/search-items.json": lambda: (
            "POST",
            "/2.0/article/search",
            [{"field": "intern_name", "value": "no such item", "criteria": "="}],
        ),
        "Languages/fetch-a-list-of-languages.json": lambda: ("GET", "/2.0/language", None),
        "PaymentTypes/fetch-a-list-of-payment-types.json": lambda: ("GET", "/2.0/payment_type", None),
        "Salutations/create-a-salutation-for-edit.json": lambda: (
            "POST",
            "/2.0/salutation",
            {"name": "Test s"},
        ),
        "Salutations/create-a-salutation.json": lambda: ("POST", "/2.0/salutation", {"name": "Test name"}),
        "Salutations/delete-a-salutation.json": lambda: (
            "DELETE",
            f"/2.0/salutation/{r.named('salutation')}",
            None,
        ),
        "Salutations/edit-a-salutation.json": lambda: (
            "POST",
            f"/2.0/salutation/{r.named('salutation')}",
            {"name": "Test name edited"},
        ),
        "Salutations/fetch-a-list-of-salutations.json": lambda: ("GET", "/2.0/salutation", None),
        "Salutations/search-salutations.json": lambda: (
            "POST",
            "/2.0/salutation/search",
            [{"field": "name", "value": "Herr", "criteria": "="}],
        ),
        "Taxes/delete-a-tax.json": lambda: ("DELETE", "/3.0/taxes/14", None),
        "Taxes/fetch-a-list-of-taxes-for-delete.json": lambda: ("GET", "/3.0/taxes", None),
        "Taxes/fetch-a-list-of-taxes-for-fetch.json": lambda: ("GET", "/3.0/taxes", None),
        "Taxes/fetch-a-list-of-taxes-scoped_active-types_sales_tax.json": lambda: (
            "GET",
            "/3.0/taxes?scope=active&types=sales_tax",
            None,
        ),
        "Taxes/fetch-a-list-of-taxes.json": lambda: ("GET", "/3.0/taxes", None),
        "Taxes/fetch-a-tax.json": lambda: ("GET", "/3.0/taxes/7", None),
        "Titles/create-a-title-for-delete.json": lambda: ("POST", "/2.0/title", {"name": "Test title"}),
        "Titles/create-a-title-for-edit.json": lambda: ("POST", "/2.0/title", {"name": "Test title"}),
        "Titles/create-a-title.json": lambda: ("POST", "/2.0/title", {"name": "Test name"}),
        "Titles/delete-a-title.json": lambda: ("DELETE", f"/2.0/title/{r.named('title')}", None),
        "Titles/edit-a-title.json": lambda: (
            "POST",
            f"/2.0/title/{r.named('title')}",
            {"name": "Test name edited"},
        ),
        "Titles/fetch-a-list-of-titles.json": lambda: ("GET", "/2.0/title", None),
        "Titles/fetch-a-title.json": lambda: ("GET", "/2.0/title/1", None),
        "Titles/search-titles.json": lambda: (
            "POST",
            "/2.0/title/search",
            [{"field": "name", "value": "Dr.", "criteria": "="}],
        ),
        "Units/fetch-a-list-of-units.json": lambda: ("GET", "/2.0/unit", None),
        "Users/fetch-a-list-of-users.json": lambda: ("GET", "/3.0/users", None),
        "Users/fetch-authenticated-user.json": lambda: ("GET", "/3.0/users/me", None),
        "OAuth/openid-configuration.json": lambda: (
            "GET",
            "/realms/bexio/.well-known/openid-configuration",
            None,
        ),
        "OpenID/fetch-user-info.json": lambda: (
            "GET",
            "/realms/bexio/protocol/openid-connect/userinfo",
            None,
        ),
    }


def _restore(r):
    id_ = r.contact()
    r.api.delete(f"/2.0/contact/{id_}")
    return ("PATCH", f"/2.0/contact/{id_}/restore", None)


def _country(r):
    return r.post("/2.0/country", {"name": "Test Country", "name_short": "TC", "iso3166_alpha2": "TC"})["id"]


def _currency(r, code):
    return r.post("/3.0/currencies", {"name": code, "round_factor": 0.05})["id"]


def _with_text(r):
    body = r.invoice_body()
    body["positions"].insert(0, {"type": "KbPositionText", "text": "Intro", "show_pos_nr": True})
    return r.post("/2.0/kb_invoice", body)["id"]


def _position(r, action):
    inv = r.invoice()
    pid = r.article_position(inv)
    base = f"/2.0/kb_invoice/{inv}/kb_position_article"
    if action == "LIST":
        return ("GET", base, None)
    if action == "POST":
        return ("POST", f"{base}/{pid}", {"amount": "2", "unit_price": "150", "text": str(uuid.uuid4())})
    return (action, f"{base}/{pid}", None)


def recordings() -> list[Path]:
    if not RECORDINGS.is_dir():
        return []
    return sorted(RECORDINGS.rglob("*.json"))


@pytest.mark.skipif(
    not recordings() and os.environ.get("CI") != "true",  # in CI the recordings must be there
    reason="recordings not found (set BEXIO_RECORDINGS)",
)
def test_fidelity_against_recordings(sandbox, capsys):
    replay = Replay(sandbox)
    steps = plan(replay)
    compared, differences, report = 0, 0, []
    for file in recordings():
        name = file.relative_to(RECORDINGS).as_posix()
        if name in OUT_OF_SCOPE:
            continue
        assert name in steps, f"no replay plan for {name}"
        rec = json.loads(file.read_text())
        method, path, body = steps[name]()
        headers = dict(replay.api.headers)
        resp = replay.api.request(
            method, path, headers=headers, **({"json": body} if body is not None else {"content": b""})
        )
        compared += 1
        diffs = []
        if resp.status_code != rec["statusCode"]:
            diffs.append(f"status {rec['statusCode']} recorded, {resp.status_code} here")
        want = {k.lower() for k in rec["headers"]} - IGNORED_HEADERS
        got = {k.lower() for k in resp.headers} - IGNORED_HEADERS
        diffs += [f"header {h}: missing here" for h in sorted(want - got)]
        diffs += [f"header {h}: not recorded" for h in sorted(got - want)]
        diffs += compare_rate_headers(rec["headers"], resp.headers)
        try:
            diffs += compare_json(json.loads(rec["data"]), resp.json())
        except ValueError as exc:
            diffs.append(f"body: {exc}")
        if diffs:
            differences += len(diffs)
            report.append(f"{name}: " + "; ".join(diffs))
    with capsys.disabled():
        print(f"\nfidelity: {compared} recordings compared, {differences} differences")
        for line in report:
            print("  " + line)
    assert compared >= 100
    assert differences == 0, "\n".join(report)
