"""connect_demo: the demo organisation is connected through the real flow, once."""

import io

import pytest

from aeroledger.bexio_link.connection.demo import connect_demo
from aeroledger.bexio_link.connection.models import BexioConnection, PendingAuthorisation

from .conftest import make_org, make_staff

pytestmark = pytest.mark.django_db


def test_connect_demo_uses_the_code_flow_and_is_idempotent(bx, admin, org):
    out = io.StringIO()
    assert connect_demo(org, out) is True
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.is_connected and conn.transfers_allowed and conn.obtained_by == admin
    assert conn.company_name == "Flugschule Demo AG"
    assert "accounting" in conn.granted_scopes  # the demo's master data needs taxes and accounts
    assert PendingAuthorisation.objects.get().used_at is not None
    assert "connected to the sandbox company Flugschule Demo AG" in out.getvalue()
    grants = [r for r in bx.requests() if r.get("grant_type") == "authorization_code"]
    assert len(grants) == 1

    out = io.StringIO()
    assert connect_demo(org, out) is True
    assert "already connected" in out.getvalue()
    assert len([r for r in bx.requests() if r.get("grant_type") == "authorization_code"]) == 1


def test_connect_demo_needs_the_option_and_an_admin(bx):
    out = io.StringIO()
    assert connect_demo(make_org("nooption", bexio_option=False), out) is False
    assert "bexio option is not active" in out.getvalue()
    lonely = make_org("lonely")
    make_staff(lonely, "reader", manage_settings=False)
    assert connect_demo(lonely, out) is False
    assert "no staff user with Manage settings" in out.getvalue()


def test_connect_demo_without_a_running_bexio_says_so(bx, admin, org, settings):
    settings.BEXIO_AUTH_ISSUER = "http://127.0.0.1:9/realms/bexio"  # nothing listens there
    out = io.StringIO()
    assert connect_demo(org, out) is False
    assert "cannot reach bexio" in out.getvalue()
    assert not BexioConnection.objects.get(organisation=org).has_token


def test_connect_demo_reconnects_when_bexio_forgot_the_grant(bx, admin, org):
    assert connect_demo(org, io.StringIO()) is True
    bx.reset()  # the sandbox's data is gone, the stored tokens with it
    out = io.StringIO()
    assert connect_demo(org, out) is True
    assert "no longer accepted; connecting again" in out.getvalue()
    assert BexioConnection.objects.get(organisation=org).is_connected
