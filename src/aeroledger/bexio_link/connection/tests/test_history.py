"""Token refreshes and keep-alive outcomes in the connection's history (never a token)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aeroledger.bexio_link.connection import clients, keepalive
from aeroledger.bexio_link.connection.models import (
    BexioConnection,
    ConnectionEvent,
    EventKind,
    Status,
    Trigger,
)
from aeroledger.bexio_link.connection.tasks import keep_alive
from aeroledger.bexio_link.connection.tokenstore import DatabaseTokenStore
from aeroledger.bexio_link.connection.views import HISTORY_SHOWN
from bexio.auth import TokenSet

from .conftest import expire_access_token, page_url

pytestmark = pytest.mark.django_db


def _events(org, kind):
    return list(ConnectionEvent.objects.filter(organisation=org, kind=kind))


def _assert_no_token_in_events(org, tokens):
    tokens = [t for t in tokens if t]
    assert tokens
    for row in ConnectionEvent.objects.filter(organisation=org).values_list():
        text = " ".join(str(v) for v in row)
        for token in tokens:
            assert token not in text and token[:24] not in text


def test_on_demand_refresh_is_one_event_with_its_context(connected, org, bx):
    old = BexioConnection.objects.get(organisation=org)
    expire_access_token(org)
    with clients.call_context("transfer:abc"):
        clients.client_for(org).users.me()
    clients.client_for(org).users.me()  # the refreshed token is fresh: no second refresh

    [event] = _events(org, EventKind.REFRESHED)
    assert event.trigger == Trigger.ON_DEMAND
    assert event.message == "transfer:abc"
    assert event.user is None and event.company_name == "Flugschule Demo AG"
    new = BexioConnection.objects.get(organisation=org)
    assert event.at == new.last_refresh_at
    _assert_no_token_in_events(
        org,
        [old.get_access_token(), old.get_refresh_token(), new.get_access_token(), new.get_refresh_token()],
    )


def test_refresh_now_on_demand(connected, org, bx):
    assert keepalive.refresh_now(org)
    [event] = _events(org, EventKind.REFRESHED)
    assert event.trigger == Trigger.ON_DEMAND


def test_keep_alive_refresh_is_in_the_history_and_on_the_page(connected, org, bx, admin_client):
    assert keep_alive.call()["refreshed"] == 1
    [event] = _events(org, EventKind.REFRESHED)
    assert event.trigger == Trigger.KEEP_ALIVE and event.message == ""
    conn = BexioConnection.objects.get(organisation=org)
    _assert_no_token_in_events(org, [conn.get_access_token(), conn.get_refresh_token()])
    html = admin_client.get(page_url(org)).content.decode()
    history = html[html.index('id="history"') :]
    assert "Token refreshed" in history and "Scheduled keep-alive" in history


def test_refused_compare_and_swap_writes_no_event(connected, org):
    store = DatabaseTokenStore(org.pk, trigger=Trigger.KEEP_ALIVE)
    current = store.load()
    stale = TokenSet("acc-0", "ref-0", timezone.now(), current.scopes)
    newer = TokenSet("acc-2", "ref-2", timezone.now() + timedelta(hours=1), current.scopes)
    assert store.save(newer, replaces=stale) is False
    assert _events(org, EventKind.REFRESHED) == [] and store.saved == 0
    assert store.save(newer, replaces=current) is True
    assert store.save(newer, replaces=current) is False
    [event] = _events(org, EventKind.REFRESHED)
    assert event.trigger == Trigger.KEEP_ALIVE and store.saved == 1


def test_event_and_token_are_one_transaction(connected, org):
    store = DatabaseTokenStore(org.pk)
    current = store.load()
    newer = TokenSet("acc-2", "ref-2", timezone.now() + timedelta(hours=1), current.scopes)
    with pytest.raises(RuntimeError), store.lock():
        assert store.save(newer, replaces=current)
        raise RuntimeError("the process dies before the commit")
    assert store.load().access_token == current.access_token
    assert _events(org, EventKind.REFRESHED) == []


def test_keep_alive_failure_is_in_the_history(connected, org, bx, admin_client):
    before = BexioConnection.objects.get(organisation=org).get_access_token()
    bx.fault(method="POST", path=r"/openid-connect/token$", when="before", effect="status:503")
    result = keep_alive.call()
    assert result["failed"] == 1 and result["refreshed"] == 0
    [event] = _events(org, EventKind.KEEP_ALIVE_FAILED)
    assert event.trigger == Trigger.KEEP_ALIVE and "503" in event.message
    assert _events(org, EventKind.REFRESHED) == []
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.is_connected and conn.get_access_token() == before
    html = admin_client.get(page_url(org)).content.decode()
    assert "Keep-alive failed" in html[html.index('id="history"') :]


def test_keep_alive_refused_grant_is_in_the_history(connected, org, bx):
    clients.bexio_auth().revoke(connected.get_refresh_token(), token_type_hint="refresh_token")
    assert keep_alive.call()["reconnect_needed"] == 1
    [event] = _events(org, EventKind.RECONNECT_NEEDED)
    assert event.trigger == Trigger.KEEP_ALIVE
    assert BexioConnection.objects.get(organisation=org).status == Status.RECONNECT_NEEDED
    assert _events(org, EventKind.REFRESHED) == []


def test_page_shows_the_latest_events(connected, org, admin_client):
    now = timezone.now()
    ConnectionEvent.objects.bulk_create(
        ConnectionEvent(
            organisation=org,
            kind=EventKind.REFRESHED,
            trigger=Trigger.KEEP_ALIVE,
            at=now + timedelta(minutes=i),
        )
        for i in range(HISTORY_SHOWN + 5)
    )
    total = ConnectionEvent.objects.filter(organisation=org).count()
    html = admin_client.get(page_url(org)).content.decode()
    history = html[html.index('id="history"') :]
    assert history.count('<tr class="event-') == HISTORY_SHOWN
    assert f"The latest {HISTORY_SHOWN} of {total} events." in history
