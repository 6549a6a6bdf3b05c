"""Token storage, refresh (compare-and-swap), reconnect-needed, client_for, call log."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from aeroledger.bexio_link.connection import clients, reconnect
from aeroledger.bexio_link.connection.clients import NotConnected, ReconnectNeeded, client_for
from aeroledger.bexio_link.connection.models import (
    BexioCall,
    BexioConnection,
    ConnectionEvent,
    EventKind,
    Status,
    connection_for,
)
from aeroledger.bexio_link.connection.tokenstore import DatabaseTokenStore
from bexio.auth import ReconnectRequired, TokenSet

from .conftest import expire_access_token, make_org, make_staff, page_url

pytestmark = pytest.mark.django_db


def _refresh_grants(bx, since=0):
    return [r for r in bx.requests(since) if r.get("grant_type") == "refresh_token"]


def test_client_for_unconnected_organisation(org):
    with pytest.raises(NotConnected):
        client_for(org)
    assert connection_for(org) is None


def test_client_for_calls_the_api_and_logs_calls_without_tokens(connected, org, bx, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(org, context="test:1")
    me = client.users.me()
    assert me.email == "demo@bexio.test"
    call = BexioCall.objects.filter(organisation=org).get()
    assert (call.method, call.path, call.status, call.context) == ("GET", "/3.0/users/me", 200, "test:1")
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.last_success_at is not None
    for text in [str(v) for v in BexioCall.objects.values_list()] + [r.getMessage() for r in caplog.records]:
        assert conn.get_access_token() not in text and conn.get_refresh_token() not in text


def test_call_context_labels_calls(connected, org, bx):
    with clients.call_context("transfer:abc"):
        client_for(org).users.me()
    assert BexioCall.objects.get(organisation=org).context == "transfer:abc"


def test_store_save_is_compare_and_swap(connected, org):
    store = DatabaseTokenStore(org.pk)
    current = store.load()
    newer = TokenSet("acc-2", "ref-2", timezone.now() + timedelta(hours=1), current.scopes)
    stale = TokenSet("acc-0", "ref-0", timezone.now(), current.scopes)
    assert store.save(newer, replaces=stale) is False
    assert store.load().access_token == current.access_token
    assert store.save(newer, replaces=current) is True
    assert store.load().access_token == "acc-2" and store.load().refresh_token == "ref-2"
    assert store.save(TokenSet("acc-3", "ref-3", timezone.now(), current.scopes), replaces=current) is False
    assert BexioConnection.objects.get(organisation=org).last_refresh_at is not None


def test_expired_token_is_refreshed_once_and_rotated(connected, org, bx, caplog):
    caplog.set_level(logging.DEBUG)
    before = BexioConnection.objects.get(organisation=org)
    old_refresh = before.get_refresh_token()
    expire_access_token(org)
    client_for(org).users.me()
    client_for(org).users.me()
    assert len(_refresh_grants(bx)) == 1
    after = BexioConnection.objects.get(organisation=org)
    assert after.get_refresh_token() != old_refresh
    assert after.expires_at > timezone.now()
    assert after.last_refresh_at is not None
    secrets = [before.get_access_token(), old_refresh, after.get_access_token(), after.get_refresh_token()]
    for record in caplog.records:
        assert not any(secret[:32] in record.getMessage() for secret in secrets)


def test_keep_alive_refreshes_connected_organisations(connected, org, bx):
    from aeroledger.bexio_link.connection.tasks import keep_alive

    old = BexioConnection.objects.get(organisation=org).get_access_token()
    result = keep_alive.call()
    assert result["refreshed"] == 1
    assert BexioConnection.objects.get(organisation=org).get_access_token() != old
    assert len(_refresh_grants(bx)) == 1


def _revoke_at_bexio(conn):
    clients.bexio_auth().revoke(conn.get_refresh_token(), token_type_hint="refresh_token")


def test_revoked_grant_leads_to_reconnect_needed_and_mail(connected, org, bx, admin):
    make_staff(org, "reader", manage_settings=False, email="reader@example.test")
    _revoke_at_bexio(connected)
    expire_access_token(org)
    with pytest.raises(ReconnectNeeded) as raised:
        client_for(org).users.me()
    assert isinstance(raised.value, ReconnectRequired)  # callers may catch the client's error as well
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.status == Status.RECONNECT_NEEDED and not conn.has_token
    assert not conn.transfers_allowed
    assert connection_for(org) == conn
    with pytest.raises(ReconnectNeeded):
        client_for(org)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin.email]
    assert "reconnect needed" in mail.outbox[0].subject.lower()
    assert page_url(org) in mail.outbox[0].body
    assert ConnectionEvent.objects.filter(organisation=org, kind=EventKind.RECONNECT_NEEDED).count() == 1


def test_expired_offline_session_at_keep_alive(connected, org, bx, admin, client):
    from aeroledger.bexio_link.connection.tasks import keep_alive

    bx.settings(offline_idle_s=0)
    import time

    time.sleep(1.1)
    result = keep_alive.call()
    assert result["reconnect_needed"] == 1
    assert BexioConnection.objects.get(organisation=org).needs_reconnect
    assert len(mail.outbox) == 1
    client.force_login(admin)
    html = client.get(page_url(org)).content.decode()
    assert "Reconnect needed" in html and "Get new token" in html


def test_reconnect_after_reconnect_needed(connected, org, bx, admin_client):
    from .conftest import connect

    reconnect.mark_reconnect_needed(org, "test")
    assert connect(admin_client, org).status_code == 302
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.is_connected and conn.transfers_allowed and not conn.reconnect_reason


def test_test_connection_shows_company_and_latency(connected, org, admin_client):
    resp = admin_client.post(reverse("bexio_connection:test", args=[org.slug]), follow=True)
    html = resp.content.decode()
    assert "Connection OK" in html and "Flugschule Demo AG" in html and " ms" in html


def test_test_connection_explains_403(connected, org, admin_client, bx):
    bx.fault(path="^/3.0/users/me$", effect="status:403")
    html = admin_client.post(reverse("bexio_connection:test", args=[org.slug]), follow=True).content.decode()
    assert "The test failed" in html
    assert "the bexio user who granted access lacks this permission" in html
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.last_error and "403" in conn.last_error


def test_disconnect_revokes_deletes_tokens_keeps_history(connected, org, admin_client, bx):
    refresh = connected.get_refresh_token()
    resp = admin_client.post(reverse("bexio_connection:disconnect", args=[org.slug]), follow=True)
    assert "Disconnected" in resp.content.decode()
    conn = BexioConnection.objects.get(organisation=org)
    assert not conn.has_token and conn.status == Status.NOT_CONNECTED
    assert connection_for(org) is None
    kinds = set(ConnectionEvent.objects.filter(organisation=org).values_list("kind", flat=True))
    assert {EventKind.CONNECTED, EventKind.DISCONNECTED} <= kinds
    # The grant is gone at bexio too.
    revoked = clients.bexio_auth()
    with pytest.raises(Exception) as raised:
        revoked.refresh(refresh)
    assert getattr(raised.value, "error", "") == "invalid_grant"
    with pytest.raises(NotConnected):
        client_for(org)


def test_test_and_disconnect_are_post_only_and_need_manage_settings(connected, org, client):
    clerk = make_staff(org, "clerk", manage_settings=False)
    client.force_login(clerk)
    assert client.post(reverse("bexio_connection:disconnect", args=[org.slug])).status_code == 403
    other = make_org("other")
    client.force_login(make_staff(other, "x"))
    assert client.post(reverse("bexio_connection:disconnect", args=[org.slug])).status_code == 404
    assert BexioConnection.objects.get(organisation=org).is_connected


def test_rotate_fernet_key(connected, org, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    access = connected.get_access_token()
    new_key = Fernet.generate_key().decode()
    old_keys = list(settings.AEROLEDGER_FERNET_KEYS)
    settings.AEROLEDGER_FERNET_KEYS = [new_key, *old_keys]
    call_command("rotate_fernet_key", stdout=open("/dev/null", "w"))
    settings.AEROLEDGER_FERNET_KEYS = [new_key]
    assert BexioConnection.objects.get(organisation=org).get_access_token() == access


def test_governor_is_per_company(connected, org):
    from bexio import RateGovernor

    client = client_for(org)
    assert client.governor is RateGovernor.for_company("aero5demo7kz")


def test_revoked_grant_found_by_test_connection(connected, org, bx, admin, admin_client):
    _revoke_at_bexio(connected)  # the access token has not expired: bexio answers 401
    html = admin_client.post(reverse("bexio_connection:test", args=[org.slug]), follow=True).content.decode()
    assert "The test failed" in html and "Reconnect needed" in html
    assert BexioConnection.objects.get(organisation=org).needs_reconnect
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [admin.email]


def test_transfers_stop_when_the_option_is_withdrawn(connected, org):
    assert connection_for(org).transfers_allowed
    type(org).objects.filter(pk=org.pk).update(bexio_option=False)
    assert not connection_for(org).transfers_allowed
