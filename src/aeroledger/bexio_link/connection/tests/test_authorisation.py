"""The Authorisation page and the Get new token flow against the sandbox (no browser)."""

import logging
from datetime import timedelta

import pytest
from django.db import connection as db
from django.urls import reverse

from aeroledger.bexio_link.connection.models import (
    BexioConnection,
    ConnectionEvent,
    EventKind,
    PendingAuthorisation,
    Status,
)
from aeroledger.bexio_link.connection.scopes import OPTIONAL_SCOPES, REQUIRED_SCOPES, SCOPES, required_for

from .conftest import (
    callback_query,
    connect,
    make_org,
    make_staff,
    page_url,
    query_params,
    start_flow,
)

pytestmark = pytest.mark.django_db


# --- the page --------------------------------------------------------------------------------
def test_page_needs_manage_settings(client, org):
    clerk = make_staff(org, "clerk", manage_settings=False)
    client.force_login(clerk)
    assert client.get(page_url(org)).status_code == 403
    assert client.post(reverse("bexio_connection:start", args=[org.slug])).status_code == 403


def test_page_is_404_for_other_organisations(client, org):
    other = make_org("other")
    client.force_login(make_staff(other, "stranger"))
    assert client.get(page_url(org)).status_code == 404


def test_page_shows_prerequisites_and_scope_table(admin_client, org, bx):
    html = admin_client.get(page_url(org)).content.decode()
    assert "The bexio option is active" in html
    assert "client credentials are configured" in html
    assert "Get new token" in html
    for scope in SCOPES:
        assert f"<code>{scope.name}</code>" in html
    assert len(REQUIRED_SCOPES) == 6 and len(SCOPES) == 35
    assert set(REQUIRED_SCOPES) == {
        "article_show",
        "bank_account_show",
        "contact_show",
        "contact_edit",
        "kb_invoice_show",
        "kb_invoice_edit",
    }
    assert "Granted" not in html  # no token yet


def test_without_bexio_option_the_page_explains_and_offers_no_button(client, bx):
    org = make_org("nobexio", bexio_option=False)
    client.force_login(make_staff(org, "boss"))
    html = client.get(page_url(org)).content.decode()
    assert "The bexio option is not active" in html
    assert "Get new token" not in html
    resp = client.post(reverse("bexio_connection:start", args=[org.slug]))
    assert resp.status_code == 302 and "bexio" not in resp["Location"].split("/o/")[0]
    assert not PendingAuthorisation.objects.exists()


def test_without_credentials_no_button(admin_client, org, bx, settings):
    settings.BEXIO_CLIENT_SECRET = ""
    html = admin_client.get(page_url(org)).content.decode()
    assert "client credentials are missing" in html
    assert "Get new token" not in html


# --- starting the flow -----------------------------------------------------------------------
def test_get_new_token_redirects_to_bexio_with_state_pkce_nonce(admin_client, org, bx, admin):
    url = start_flow(admin_client, org, optional=["file", "not_a_scope"])
    assert url.startswith(bx.issuer + "/protocol/openid-connect/auth?")
    p = query_params(url)
    scopes = p["scope"].split()
    assert set(required_for(org)) == set(REQUIRED_SCOPES) | {"accounting"}  # a prepaid club books credit
    assert set(required_for(org)) | {
        "openid",
        "profile",
        "email",
        "company_profile",
        "offline_access",
        "file",
    } == set(scopes)
    assert p["code_challenge_method"] == "S256" and len(p["code_challenge"]) >= 43
    assert p["nonce"] and p["state"] and p["response_type"] == "code"
    assert p["redirect_uri"] == "http://127.0.0.1:8000/bexio/callback"
    pending = PendingAuthorisation.objects.get()
    assert pending.state_hash == PendingAuthorisation.hash_state(p["state"])
    assert p["state"] not in str(pending.__dict__)
    assert pending.user == admin and pending.organisation == org
    assert pending.session_key == admin_client.session.session_key
    # The choice is remembered for the next token.
    assert BexioConnection.objects.get(organisation=org).requested_optional_scopes == ["file"]
    html = admin_client.get(page_url(org)).content.decode()
    assert 'value="file" aria-label="file" checked' in html


def test_get_new_token_is_post_only(admin_client, org, bx):
    assert admin_client.get(reverse("bexio_connection:start", args=[org.slug])).status_code == 405


def test_get_new_token_needs_csrf(org, admin, bx):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    assert strict.post(reverse("bexio_connection:start", args=[org.slug])).status_code == 403


# --- the callback ----------------------------------------------------------------------------
def test_full_flow_stores_encrypted_tokens_and_shows_the_token_is_available(
    admin_client, org, bx, admin, caplog
):
    caplog.set_level(logging.DEBUG)
    resp = connect(admin_client, org, optional=["file"])
    assert resp.status_code == 302 and resp["Location"] == page_url(org)
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.status == Status.CONNECTED and conn.transfers_allowed
    assert set(REQUIRED_SCOPES) <= set(conn.granted_scopes) and "file" in conn.granted_scopes
    assert conn.company_id == "aero5demo7kz" and conn.company_name == "Flugschule Demo AG"
    assert conn.bexio_user_email == "demo@bexio.test" and conn.bexio_user_id == "1"
    assert conn.obtained_by == admin and conn.obtained_at is not None
    access, refresh = conn.get_access_token(), conn.get_refresh_token()
    assert access and refresh

    # The raw row holds ciphertext only.
    with db.cursor() as cur:
        cur.execute("SELECT * FROM bexio_connection_bexioconnection WHERE organisation_id = %s", [org.pk])
        raw = " ".join(str(v) for v in cur.fetchone())
    assert access not in raw and refresh not in raw
    assert access[:20] not in raw and refresh[:20] not in raw

    page = admin_client.get(page_url(org)).content.decode()
    assert "The token is available" in page
    assert "Flugschule Demo AG" in page
    assert "Granted" in page and "missing" not in page.replace("missing-scopes", "")
    assert access not in page and refresh not in page
    for record in caplog.records:
        text = record.getMessage()
        assert access not in text and refresh not in text and access[:40] not in text
    assert ConnectionEvent.objects.filter(organisation=org, kind=EventKind.CONNECTED).count() == 1


def test_unticked_required_scope_is_named_and_disables_transfers(admin_client, org, bx):
    connect(admin_client, org, untick=("contact_edit",))
    conn = BexioConnection.objects.get(organisation=org)
    assert "contact_edit" not in conn.granted_scopes
    assert [s.name for s in conn.missing_scopes] == ["contact_edit"]
    assert not conn.transfers_allowed
    html = admin_client.get(page_url(org)).content.decode()
    assert "Required scopes are missing" in html
    assert "<code>contact_edit</code> (Write access to contacts)" in html
    assert "Members cannot be created or updated as bexio contacts" in html
    assert "Get new token" in html


def test_cancel_at_consent_stores_nothing(admin_client, org, bx):
    resp = connect(admin_client, org, cancel=True)
    assert resp.status_code == 302
    conn = BexioConnection.objects.get(organisation=org)
    assert not conn.has_token and conn.status == Status.NOT_CONNECTED
    html = admin_client.get(page_url(org)).content.decode()
    assert "You cancelled at bexio" in html
    assert "The token is available" not in html


def test_other_error_is_shown(admin_client, org, bx):
    p = query_params(start_flow(admin_client, org))
    resp = admin_client.get(
        reverse("bexio_callback"),
        {
            "state": p["state"],
            "iss": bx.issuer,
            "error": "invalid_scope",
            "error_description": "Invalid scopes: x",
        },
        follow=True,
    )
    html = resp.content.decode()
    assert "bexio reported an error: invalid_scope" in html
    assert not BexioConnection.objects.get(organisation=org).has_token


def test_replayed_state_is_refused(admin_client, org, bx):
    query = callback_query(start_flow(admin_client, org))
    assert admin_client.get(reverse("bexio_callback") + "?" + query).status_code == 302
    first = BexioConnection.objects.get(organisation=org).get_access_token()
    resp = admin_client.get(reverse("bexio_callback") + "?" + query, follow=True)
    assert "already used" in resp.content.decode()
    assert BexioConnection.objects.get(organisation=org).get_access_token() == first


def test_foreign_state_is_refused(admin_client, org, bx):
    resp = admin_client.get(reverse("bexio_callback"), {"state": "made-up", "code": "x", "iss": bx.issuer})
    assert resp.status_code == 400
    assert "unknown" in resp.content.decode()
    resp = admin_client.get(reverse("bexio_callback"), {"code": "x"})
    assert resp.status_code == 400


def test_user_of_another_organisation_cannot_finish_the_flow(admin_client, client_factory, org, bx):
    query = callback_query(start_flow(admin_client, org))
    other = make_org("other")
    intruder = client_factory()
    intruder.force_login(make_staff(other, "intruder"))
    resp = intruder.get(reverse("bexio_callback") + "?" + query)
    assert resp.status_code == 400
    assert "another user" in resp.content.decode()
    assert not BexioConnection.objects.get(organisation=org).has_token
    assert not BexioConnection.objects.filter(organisation=other).exists()
    # The rightful user can still finish it.
    assert admin_client.get(reverse("bexio_callback") + "?" + query).status_code == 302
    assert BexioConnection.objects.get(organisation=org).is_connected


def test_same_user_other_session_is_refused(admin_client, client_factory, org, admin, bx):
    query = callback_query(start_flow(admin_client, org))
    second = client_factory()
    second.force_login(admin)
    assert second.get(reverse("bexio_callback") + "?" + query).status_code == 400
    assert not BexioConnection.objects.get(organisation=org).has_token


def test_expired_state_is_refused(admin_client, org, bx):
    query = callback_query(start_flow(admin_client, org))
    PendingAuthorisation.objects.update(
        created=PendingAuthorisation.objects.get().created - timedelta(minutes=11)
    )
    resp = admin_client.get(reverse("bexio_callback") + "?" + query, follow=True)
    assert "expired" in resp.content.decode()
    assert not BexioConnection.objects.get(organisation=org).has_token


def test_wrong_issuer_is_refused(admin_client, org, bx):
    query = callback_query(start_flow(admin_client, org)).replace("iss=", "iss=x")
    resp = admin_client.get(reverse("bexio_callback") + "?" + query, follow=True)
    assert "did not come from the configured bexio" in resp.content.decode()
    assert not BexioConnection.objects.get(organisation=org).has_token


def test_callback_requires_login(client, bx):
    resp = client.get(reverse("bexio_callback"), {"state": "x", "code": "y"})
    assert resp.status_code == 302 and "/login/" in resp["Location"]


def test_user_who_lost_manage_settings_cannot_finish(admin_client, org, admin, bx):
    query = callback_query(start_flow(admin_client, org))
    from aeroledger.tenancy.models import Membership

    Membership.objects.filter(user=admin).update(manage_settings=False)
    resp = admin_client.get(reverse("bexio_callback") + "?" + query)
    assert resp.status_code == 400
    assert not BexioConnection.objects.get(organisation=org).has_token


def test_optional_scopes_are_only_known_ones():
    assert "openid" not in OPTIONAL_SCOPES and "all" not in OPTIONAL_SCOPES
    assert len(OPTIONAL_SCOPES) == 29


def test_token_for_another_company_is_pointed_out(admin_client, org, bx):
    connect(admin_client, org)
    companies = [c["company_id"] for c in bx.companies()]
    other = next(c for c in companies if c != "aero5demo7kz")
    resp = connect(admin_client, org, login="multi@bexio.test", company=other)
    assert resp.status_code == 302
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.company_id == other and conn.bexio_user_email == "multi@bexio.test"
    html = admin_client.get(page_url(org)).content.decode()
    assert "no longer Flugschule Demo AG" in html
