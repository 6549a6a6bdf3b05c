"""The client end to end over HTTP against the local bexio sandbox (src/bexio_sandbox)."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bexio import BexioClient, Criterion, RateGovernor, errors
from bexio.auth import BexioAuth, MemoryTokenStore, ReconnectRequired, TokenProvider, TokenSet
from bexio.models import (
    AccountType,
    ContactCreate,
    ContactUpdate,
    InvoiceCreate,
    InvoiceStatus,
    PaymentCreate,
    PositionCustomCreate,
    PositionTextCreate,
)

testing = pytest.importorskip("bexio_sandbox.testing")

CLIENT_ID, CLIENT_SECRET = "aeroledger-demo", "aeroledger-demo-secret"


@pytest.fixture(scope="module")
def sandbox():
    with testing.running_sandbox() as sb:
        yield sb


@pytest.fixture
def sb(sandbox):
    sandbox.reset()
    sandbox.clear_faults()
    yield sandbox
    sandbox.clear_faults()


def token_set(answer: dict, *, expires_in: float | None = None) -> TokenSet:
    tokens = TokenSet.from_response(answer)
    if expires_in is not None:
        tokens = replace(tokens, expires_at=datetime.now(UTC) + timedelta(seconds=expires_in))
    return tokens


def connect(sb, *, expires_in=None, **kwargs):
    auth = BexioAuth(issuer=sb.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    store = MemoryTokenStore(token_set(sb.tokens(), expires_in=expires_in))
    provider = TokenProvider(auth=auth, store=store)
    kwargs.setdefault("timeout", 10)
    client = BexioClient(base_url=sb.url, token_provider=provider, **kwargs)
    return client, store, auth


def new_requests(sb, since):
    return [r for r in sb.requests(since) if not r["path"].startswith("/realms/")]


def last_id(sb) -> int:
    log = sb.requests()
    return log[-1]["id"] if log else 0


# ---- auth ---------------------------------------------------------------------------------------


def test_refresh_rotation_end_to_end(sb):
    client, store, auth = connect(sb, expires_in=30)  # inside the refresh margin
    original = store.load()
    auth.discover()
    assert client.users.me().id == 1
    rotated = store.load()
    assert rotated.refresh_token != original.refresh_token
    assert rotated.access_token != original.access_token
    # The sandbox (like Keycloak with revoke-refresh-token) refuses the used refresh token.
    with pytest.raises(errors.OAuthError) as caught:
        auth.refresh(original.refresh_token)
    assert caught.value.error == "invalid_grant"
    # A provider whose store still holds the used token cannot recover: reconnect.
    stale = TokenProvider(auth=auth, store=MemoryTokenStore(replace(original, expires_at=original.expires_at
                                                                    - timedelta(hours=2))))  # fmt: skip
    with pytest.raises(ReconnectRequired):
        stale.access_token()


def test_racing_threads_refresh_once_over_http(sb):
    auth = BexioAuth(issuer=sb.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    store = MemoryTokenStore(token_set(sb.tokens(), expires_in=10))
    clients = [
        BexioClient(base_url=sb.url, token_provider=TokenProvider(auth=auth, store=store, lock_key="org"))
        for _ in range(4)
    ]
    since = last_id(sb)
    barrier = threading.Barrier(len(clients))
    results = []

    def work(client):
        barrier.wait()
        results.append(client.users.me().id)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [1, 1, 1, 1]
    grants = [r.get("grant_type") for r in sb.requests(since) if r["path"].endswith("/token")]
    assert grants == ["refresh_token"]
    assert [r["status"] for r in new_requests(sb, since)] == [200] * 4


def test_userinfo_and_revoke(sb):
    client, store, auth = connect(sb)
    tokens = store.load()
    info = auth.userinfo(tokens.access_token)
    assert info["company_user_id"] == 1 and isinstance(info["company_id"], str)
    auth.revoke(tokens.refresh_token)
    with pytest.raises(errors.OAuthError) as caught:
        auth.refresh(tokens.refresh_token)
    assert caught.value.error == "invalid_grant"


def test_401_makes_the_provider_refresh_once(sb):
    client, store, _ = connect(sb)
    broken = replace(store.load(), access_token="not-a-valid-token")
    store.save(broken, replaces=store.load())
    since = last_id(sb)
    assert client.users.me().id == 1
    statuses = [r["status"] for r in new_requests(sb, since)]
    assert statuses == [401, 200]
    assert store.load().access_token != "not-a-valid-token"


# ---- contacts -------------------------------------------------------------------------------------


def test_contacts_crud(sb):
    client, _, _ = connect(sb)
    me = client.users.me()
    mail = f"{uuid.uuid4().hex[:8]}@example.ch"
    created = client.contacts.create(
        ContactCreate(
            contact_type_id=2,
            name_1="Muster",
            name_2="Hans",
            user_id=me.id,
            owner_id=me.id,
            street_name="Flugplatzstrasse",
            house_number="7",
            postcode="8302",
            city="Kloten",
            mail=mail,
            contact_group_ids=[1],
        )  # fmt: skip
    )
    assert created.id and created.street_name == "Flugplatzstrasse" and created.contact_group_ids == [1]
    assert created.updated_at.tzinfo is not None
    found = client.contacts.search([Criterion("mail", "=", mail)])
    assert [c.id for c in found] == [created.id]
    updated = client.contacts.update(created.id, ContactUpdate(city="Zürich", house_number="9"))
    assert (updated.city, updated.house_number, updated.name_1) == ("Zürich", "9", "Muster")
    assert client.contacts.get(created.id).city == "Zürich"
    assert client.contacts.delete(created.id) is True
    assert created.id not in [c.id for c in client.contacts.iter()]
    assert client.contacts.restore(created.id) is True
    assert created.id in [c.id for c in client.contacts.iter()]


def test_bulk_create_and_paging(sb):
    client, _, _ = connect(sb)
    before = len(client.contacts.list())
    made = client.contacts.bulk_create(
        [ContactCreate(contact_type_id=1, name_1=f"Club {i}", user_id=1, owner_id=1) for i in range(23)]
    )
    assert len(made) == 23 and all(c.id for c in made)
    since = last_id(sb)
    ids = [c.id for c in client.contacts.iter(page_size=10, order_by="id")]
    assert len(ids) == before + 23 == len(set(ids))
    pages = new_requests(sb, since)
    assert len(pages) == (before + 23) // 10 + 1


def test_master_data_reads(sb):
    client, _, _ = connect(sb)
    taxes = client.taxes.list(scope="active", types="sales_tax", date=date.today())
    assert taxes and all(t.type == "sales_tax" and t.is_active for t in taxes)
    assert client.accounts.search([Criterion("account_no", "=", "3200")])[0].account_no == "3200"
    assert client.currencies.list()[0].round_factor is not None
    assert client.bank_accounts.list()[0].iban_nr
    readers = [client.units, client.languages, client.payment_types, client.countries, client.salutations]
    readers += [client.contact_groups, client.articles, client.company_profile, client.users, client.titles]
    readers += [client.taxes, client.accounts, client.bank_accounts, client.currencies]
    for resource in readers:
        assert resource.all(), resource
    assert {a.account_type for a in client.accounts.all()} >= {AccountType.EARNINGS, AccountType.ASSETS}


# ---- invoices -------------------------------------------------------------------------------------


def new_invoice(client, ref=None) -> InvoiceCreate:
    return InvoiceCreate(
        user_id=1,
        contact_id=1,
        title="Flugrechnung",
        api_reference=ref or str(uuid.uuid4()),
        mwst_type=0,
        mwst_is_net=False,
        is_valid_from=date.today(),
        is_valid_to=date.today() + timedelta(days=30),
        positions=[
            PositionTextCreate(text="HB-KFA"),
            PositionCustomCreate(amount=Decimal("2"), unit_price=Decimal("12.50"), tax_id=14, account_id=95),
        ],
    )


def test_invoice_lifecycle(sb):
    client, _, _ = connect(sb)
    ref = str(uuid.uuid4())
    invoice = client.invoices.create(new_invoice(client, ref))
    assert invoice.status is InvoiceStatus.DRAFT and invoice.total == Decimal("25")
    assert [i.id for i in client.invoices.search([Criterion("api_reference", "=", ref)])] == [invoice.id]

    added = client.invoices.positions(invoice.id).create(
        PositionCustomCreate(amount=1, unit_price="5", tax_id=14, account_id=95, text="Landetaxe")
    )
    assert added.id and added.text == "Landetaxe"
    assert client.invoices.get(invoice.id).total == Decimal("30")

    assert client.invoices.issue(invoice.id) is True
    assert client.invoices.get(invoice.id).status is InvoiceStatus.OPEN
    payments = client.invoices.payments(invoice.id)
    paid = payments.create(PaymentCreate(value="10", date=date.today(), bank_account_id=1))
    assert paid.value == Decimal("10")
    assert [p.id for p in payments.list()] == [paid.id]
    assert payments.get(paid.id).kb_invoice_id == invoice.id
    assert client.invoices.get(invoice.id).status is InvoiceStatus.PARTIALLY_PAID
    pdf = client.invoices.pdf(invoice.id)
    assert pdf.startswith(b"%PDF")
    assert payments.delete(paid.id) is True
    assert client.invoices.get(invoice.id).status is InvoiceStatus.OPEN
    assert client.invoices.cancel(invoice.id) is True
    assert client.invoices.get(invoice.id).status is InvoiceStatus.CANCELLED


def test_one_in_search_finds_many_invoices_by_api_reference(sb):
    client, _, _ = connect(sb)
    refs = [str(uuid.uuid4()) for _ in range(3)]
    made = {client.invoices.create(new_invoice(client, ref)).id for ref in refs}
    since = last_id(sb)
    found = list(client.invoices.search_in("api_reference", [*refs, str(uuid.uuid4())]))
    assert {i.id for i in found} == made
    assert [(r["method"], r["path"]) for r in new_requests(sb, since)] == [("POST", "/2.0/kb_invoice/search")]


def test_updated_at_search_finds_changed_invoices(sb):
    client, _, _ = connect(sb)
    since = datetime.now(UTC) - timedelta(minutes=1)
    invoice = client.invoices.create(new_invoice(client))
    changed = client.invoices.search([Criterion("updated_at", ">", since)], order_by="updated_at")
    assert invoice.id in [i.id for i in changed]


# ---- failures over the wire -------------------------------------------------------------------------


def test_500_after_commit_on_create_is_not_retried_and_api_reference_finds_it(sb):
    client, _, _ = connect(sb)
    sb.fault(method="POST", path=r"^/2\.0/kb_invoice$", when="after_commit", effect="status:500", times=1)
    ref = str(uuid.uuid4())
    since = last_id(sb)
    with pytest.raises(errors.ServerError):
        client.invoices.create(new_invoice(client, ref))
    posts = [r for r in new_requests(sb, since) if r["method"] == "POST"]
    assert len(posts) == 1
    assert len(client.invoices.search([Criterion("api_reference", "=", ref)])) == 1


def test_5xx_on_get_is_retried_over_http(sb):
    client, _, _ = connect(sb, sleep=lambda s: None)
    sb.fault(method="GET", path=r"^/2\.0/unit", effect="status:503", times=2)
    since = last_id(sb)
    assert client.units.list()
    assert [r["status"] for r in new_requests(sb, since)] == [503, 503, 200]


def test_timeout_is_typed(sb):
    client, _, _ = connect(sb, timeout=0.5, max_retries=1, sleep=lambda s: None)
    sb.fault(method="GET", path=r"^/2\.0/unit", effect="timeout")
    with pytest.raises(errors.RequestTimeoutError):
        client.units.list()


def test_governor_keeps_a_busy_client_under_the_rate_limit(sb):
    sb.settings(rate_limit=5, rate_window_s=2)
    try:
        plain, _, _ = connect(sb)
        since = last_id(sb)
        for _ in range(12):  # more than two windows' worth, so a window boundary cannot hide it
            plain.units.list()
        statuses = [r["status"] for r in new_requests(sb, since)]
        assert 429 in statuses  # without a governor bexio answers 429 (and the client waits and retries)

        paced, _, _ = connect(sb, governor=RateGovernor("sandbox", reserve=0))
        time.sleep(2)  # a fresh window
        since = last_id(sb)
        for _ in range(8):
            paced.units.list()
        assert [r["status"] for r in new_requests(sb, since)] == [200] * 8
    finally:
        sb.settings(rate_limit=1000, rate_window_s=60)
