"""OAuth and tokens: state single-use and bound to the session, PKCE, a fixed redirect URI, no open
redirect, tokens encrypted at rest and absent from every log line, page, e-mail and stored message.

Runs the real connect flow against the bexio sandbox (the root conftest's `sandbox` fixture),
then a transfer with a forced token refresh, capturing every log record at DEBUG.
"""

import logging
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aeroledger.bexio_link.connection.demo import script_bexio_login
from aeroledger.bexio_link.connection.models import BexioConnection
from aeroledger.tenancy.testing import PASSWORD, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:8000/bexio/callback"
EVIL = "https://evil.example/steal"


@pytest.fixture
def bx(bexio_settings, settings):
    settings.BEXIO_TIMEOUT_S = 10
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return bexio_settings


@pytest.fixture
def org(db):
    return make_org("club", bexio=True, prepaid=False)


@pytest.fixture
def admin(org):
    return make_staff(org, "admin")


@pytest.fixture
def browser(admin):
    c = Client()
    c.force_login(admin)
    return c


def start(client, org, **extra) -> str:
    resp = client.post(reverse("bexio_connection:start", args=[org.slug]), extra)
    assert resp.status_code == 302, resp.status_code
    return resp["Location"]


def params(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def callback(client, auth_url, **kw):
    target = script_bexio_login(auth_url, **kw)
    return client.get(reverse("bexio_callback") + "?" + urlsplit(target).query)


def assert_local_redirect(resp):
    location = resp.get("Location", "")
    parts = urlsplit(location)
    assert not parts.netloc or parts.netloc in ("testserver", "127.0.0.1:8000"), location
    assert "evil" not in location, location


# --- state, PKCE, redirect URI ----------------------------------------------------------------------
def test_authorisation_url_has_fixed_redirect_uri_pkce_and_state(bx, browser, org):
    url = start(browser, org, redirect_uri=EVIL, next=EVIL, HTTP_HOST="evil.example")
    p = params(url)
    assert url.startswith(bx.issuer)
    assert p["redirect_uri"] == CALLBACK
    assert p["code_challenge_method"] == "S256" and len(p["code_challenge"]) >= 43
    assert len(p["state"]) >= 32 and p.get("nonce")


def test_state_is_single_use(bx, browser, org):
    target = script_bexio_login(start(browser, org))
    query = urlsplit(target).query
    first = browser.get(reverse("bexio_callback") + "?" + query)
    assert first.status_code == 302
    conn = BexioConnection.objects.get(organisation=org)
    before = (conn.access_token_enc, conn.refresh_token_enc)
    again = browser.get(reverse("bexio_callback") + "?" + query)
    conn.refresh_from_db()
    assert (conn.access_token_enc, conn.refresh_token_enc) == before  # nothing exchanged twice
    assert_local_redirect(again)


def test_state_is_bound_to_the_session(bx, browser, org, admin):
    target = script_bexio_login(start(browser, org))
    other = Client()
    other.force_login(admin)  # same user, another browser session
    resp = other.get(reverse("bexio_callback") + "?" + urlsplit(target).query)
    assert resp.status_code in (302, 400)
    assert not BexioConnection.objects.filter(organisation=org, status="connected").exists()


def test_unregistered_redirect_uri_is_refused_by_bexio(bx, browser, org):
    """Even a tampered authorisation URL cannot send the code elsewhere (bexio checks the URI)."""
    forged = start(browser, org).replace(
        "redirect_uri=", "redirect_uri=https%3A%2F%2Fevil.example%2Fcb&x=", 1
    )
    try:
        target = script_bexio_login(forged)
    except Exception:  # noqa: BLE001 - refused at bexio: no way back at all
        target = None
    assert target is None or urlsplit(target).netloc != "evil.example"


# --- open redirects -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        f"next={EVIL}",
        f"error=access_denied&next={EVIL}",
        f"state=forged&code=x&next={EVIL}",
        f"error=server_error&error_description=x&redirect_uri={EVIL}",
        "state=&next=//evil.example/x",
    ],
)
def test_callback_error_paths_never_redirect_off_site(bx, browser, org, query):
    resp = browser.get(reverse("bexio_callback") + "?" + query)
    assert resp.status_code in (302, 400)
    assert_local_redirect(resp)


@pytest.mark.parametrize("nxt", [EVIL, "//evil.example/x", "https:evil.example", "/\\evil.example"])
def test_login_next_never_leaves_the_site(db, org, nxt):
    make_staff(org, "pilot")
    c = Client()
    resp = c.post(reverse("login") + "?next=" + nxt, {"username": "pilot", "password": PASSWORD})
    assert resp.status_code == 302
    assert_local_redirect(resp)
    assert not urlsplit(resp["Location"]).netloc


# --- tokens: encrypted at rest, never logged, never shown ---------------------------------------
class Everything(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {text} {record.args!r}")


@pytest.fixture
def all_logs():
    handler = Everything()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)
    ]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
    yield handler
    for lg, level, disabled in saved:
        lg.removeHandler(handler)
        lg.setLevel(level)
        lg.disabled = disabled


def map_everything(org, client):
    from aeroledger.bexio_link.masterdata.contacts import ensure_contact_group
    from aeroledger.bexio_link.masterdata.mapping import mapping_for
    from aeroledger.bexio_link.masterdata.models import BexioRecord, ChargeMapping, InvoiceSettings, Kind
    from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
    from aeroledger.billing.models import ChargeType

    refresh_master_data(org, client)
    records = BexioRecord.objects.filter(organisation=org)
    tax = next(r for r in records.filter(kind=Kind.TAX, is_active=True) if r.data.get("type") == "sales_tax")
    account = next(r for r in records.filter(kind=Kind.ACCOUNT) if r.data.get("account_type") == 1)
    InvoiceSettings.objects.update_or_create(
        organisation=org,
        defaults={
            "bank_account": records.filter(kind=Kind.BANK_ACCOUNT).first(),
            "user": records.filter(kind=Kind.USER).first(),
        },
    )
    for ct in ChargeType.values:
        ChargeMapping.objects.update_or_create(
            organisation=org, charge_type=ct, aircraft=None, aerodrome=None,
            defaults={"account": account, "tax": tax},
        )  # fmt: skip
    ensure_contact_group(client, mapping_for(org))


def make_invoices(org, n=3):
    from aeroledger.billing.models import Invoice, InvoicePosition

    for i in range(n):
        member = make_member(org, str(100 + i), email=f"m{i}@example.ch", street="Weg", house_number="1")
        inv = Invoice.objects.create(
            organisation=org, member=member, number=f"2026-{i:05d}", date=timezone.localdate(),
            due_date=timezone.localdate() + timedelta(days=30), title=f"Flights {i}",
        )  # fmt: skip
        InvoicePosition(
            invoice=inv, pos=1, charge_type="aircraft_time", text="HB-ABC 60 min",
            quantity=Decimal("60"), unit_price=Decimal("4.2"),
        ).save()  # fmt: skip
        inv.recalculate(None)
        inv.save()
        inv.approve(None)


def test_tokens_encrypted_at_rest_and_absent_from_logs_pages_and_mail(
    bx, browser, org, all_logs, monkeypatch
):
    from aeroledger.bexio_link.connection.clients import client_for
    from aeroledger.bexio_link.connection.keepalive import refresh_now
    from aeroledger.bexio_link.transfer import start as transfer
    from bexio.auth import BexioAuth

    issued: list[str] = []
    real_exchange, real_refresh = BexioAuth.exchange_code, BexioAuth.refresh

    def spy_exchange(self, *a, **kw):
        t = real_exchange(self, *a, **kw)
        issued.extend(x for x in (t.access_token, t.refresh_token, t.id_token) if x)
        return t

    def spy_refresh(self, *a, **kw):
        t = real_refresh(self, *a, **kw)
        issued.extend(x for x in (t.access_token, t.refresh_token, t.id_token) if x)
        return t

    monkeypatch.setattr(BexioAuth, "exchange_code", spy_exchange)
    monkeypatch.setattr(BexioAuth, "refresh", spy_refresh)

    pages = []
    resp = callback(browser, start(browser, org, scope=["accounting"]))
    assert resp.status_code == 302
    pages.append(browser.get(resp["Location"]))
    assert b"The token is available" in pages[-1].content
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.is_connected

    # A transfer, with the access token expiring in the middle (a refresh happens), then a rotation.
    with client_for(org) as c:
        map_everything(org, c)
    make_invoices(org)
    BexioConnection.objects.filter(organisation=org).update(expires_at=timezone.now() - timedelta(seconds=1))
    stats = transfer.transfer_invoices(org, concurrency=2)
    assert stats.get("created") == 3, stats
    assert refresh_now(org)
    bx.fault(method="GET", path=r"^/2\.0/kb_invoice/\d+/pdf$", when="before", effect="status:500")

    slug = org.slug
    for name in ("bexio_connection:authorisation", "bexio_transfer:log", "bexio_transfer:transfers",
                 "bexio_transfer:preview", "bexio_transfer:progress", "billing:invoices",
                 "bexio_masterdata:mapping", "bexio_masterdata:contacts"):  # fmt: skip
        pages.append(browser.get(reverse(name, args=[slug])))
    from aeroledger.billing.models import Invoice

    for inv in Invoice.objects.filter(organisation=org):
        pages.append(browser.get(reverse("billing:invoice", args=[slug, inv.pk])))
        pages.append(browser.get(reverse("bexio_transfer:invoice", args=[slug, inv.pk])))
        pages.append(browser.get(reverse("bexio_transfer:invoice_pdf", args=[slug, inv.pk])))
    # Error paths: a refused refresh (reconnect needed) and a failing test call.
    pages.append(browser.post(reverse("bexio_connection:test", args=[slug]), follow=True))
    bx.reset()  # every grant gone: the next refresh is refused
    BexioConnection.objects.filter(organisation=org).update(expires_at=timezone.now() - timedelta(seconds=1))
    conn.refresh_from_db()
    secrets = set(issued) | {conn.get_access_token(), conn.get_refresh_token()}
    pages.append(browser.post(reverse("bexio_connection:test", args=[slug]), follow=True))
    pages.append(browser.get(reverse("bexio_connection:authorisation", args=[slug])))

    secrets = {s for s in secrets if s}
    assert len(secrets) >= 4, "the spies saw the tokens"
    # At rest: the raw columns hold no token.
    with connection.cursor() as cur:
        cur.execute("SELECT access_token_enc, refresh_token_enc FROM bexio_connection_bexioconnection")
        raw = " ".join(str(v) for row in cur.fetchall() for v in row)
    # In the database anywhere else: the call log, events, attempts, messages.
    from aeroledger.bexio_link.connection.models import BexioCall, ConnectionEvent
    from aeroledger.bexio_link.transfer.models import OutboxAttempt, OutboxItem

    stored = [
        *BexioCall.objects.values_list("path", "message", "error_code", "context"),
        *ConnectionEvent.objects.values_list("message", "scopes"),
        *OutboxAttempt.objects.values_list("message"),
        *OutboxItem.objects.values_list("last_error"),
        *BexioConnection.objects.values_list("last_error", "reconnect_reason"),
    ]
    haystacks = {
        "raw token columns": raw,
        "log records": "\n".join(all_logs.lines),
        "pages": "\n".join(p.content.decode("utf-8", "replace") + str(p.headers) for p in pages),
        "stored messages": repr(stored),
        "e-mails": "\n".join(m.subject + m.body for m in mail.outbox),
    }
    assert len(all_logs.lines) > 10, "logging was captured"
    leaks = [
        (where, secret[:6] + "...")
        for where, text in haystacks.items()
        for secret in secrets
        if secret in text or secret[-24:] in text
    ]
    assert not leaks, f"token values found in: {leaks}"
