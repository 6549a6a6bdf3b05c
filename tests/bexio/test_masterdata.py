"""Every master-data list the app imports reads completely with one call that pages itself."""

from __future__ import annotations

import httpx
import pytest

from bexio.models import TaxScope, TaxTypes

from .conftest import recorded

# client attribute -> a recorded list answer to clone items from
PAGED = {
    "articles": "Items/fetch-a-list-of-items",
    "taxes": "Taxes/fetch-a-list-of-taxes",
    "accounts": "Accounts/fetch-a-list-of-accounts",
    "account_groups": None,  # no recording: the documented object
    "bank_accounts": "BankAccounts/fetch-a-list-of-bank-accounts",
    "units": "Units/fetch-a-list-of-units",
    "currencies": "Currencies/fetch-a-list-of-currencies",
    "languages": "Languages/fetch-a-list-of-languages",
    "countries": "Countries/fetch-a-list-of-countries",
    "payment_types": "PaymentTypes/fetch-a-list-of-payment-types",
    "users": "Users/fetch-a-list-of-users",
    "contact_groups": "ContactGroups/fetch-a-list-of-contact-groups",
    "salutations": "Salutations/fetch-a-list-of-salutations",
    "titles": "Titles/fetch-a-list-of-titles",
}


def sample(name: str | None) -> dict:
    if name is None:
        return {"id": 1, "account_no": "1", "name": "Assets", "parent_fibu_account_group_id": 3}
    _, _, body = recorded(name)
    return body[0]


@pytest.mark.parametrize("attribute", sorted(PAGED))
def test_all_pages_until_a_short_page(make_client, attribute):
    item = sample(PAGED[attribute])
    total = 2003  # one full page of 2000 and a short one

    def handler(request):
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return httpx.Response(
            200, json=[dict(item, id=i + 1) for i in range(offset, min(total, offset + limit))]
        )

    client, rec, _ = make_client(handler)
    got = getattr(client, attribute).all()
    assert [o.id for o in got] == list(range(1, total + 1))
    assert [(r.url.params["limit"], r.url.params["offset"]) for r in rec.requests] == [
        ("2000", "0"),
        ("2000", "2000"),
    ]


def test_taxes_all_with_scope_and_types(make_client):
    _, _, body = recorded("Taxes/fetch-a-list-of-taxes-scoped_active-types_sales_tax")
    client, rec, _ = make_client(lambda r: httpx.Response(200, json=body))
    taxes = client.taxes.all(scope=TaxScope.ACTIVE, types=TaxTypes.SALES_TAX)
    assert len(taxes) == len(body) and all(t.type.is_sales for t in taxes)
    params = rec.requests[0].url.params
    assert (params["scope"], params["types"]) == ("active", "sales_tax")


@pytest.mark.parametrize("shape", ["list", "object"])
def test_company_profile_is_one_request_without_paging(make_client, shape):
    _, _, body = recorded("CompanyProfiles/fetch-a-list-of-company-profiles")
    answer = body if shape == "list" else body[0]
    client, rec, _ = make_client(lambda r: httpx.Response(200, json=answer))
    (profile,) = client.company_profile.all()
    assert profile.name == body[0]["name"]
    assert "limit" not in rec.requests[0].url.params and len(rec.requests) == 1
