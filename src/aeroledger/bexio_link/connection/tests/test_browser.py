"""The setup as an admin does it, in chromium: Invoicing > Bexio > Authorisation > Get new token."""

import pytest

from aeroledger.bexio_link.connection.models import BexioConnection, Status
from aeroledger.bexio_link.connection.scopes import REQUIRED_SCOPES

from .conftest import make_org, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def live_bexio(bx, live_server, settings):
    bx.register_client(
        "aeroledger-browser-test", "browser-test-secret", [live_server.url + "/bexio/callback"]
    )
    settings.BEXIO_CLIENT_ID = "aeroledger-browser-test"
    settings.BEXIO_CLIENT_SECRET = "browser-test-secret"
    settings.AEROLEDGER_BASE_URL = live_server.url
    return bx


def _open_authorisation(page):
    nav = page.get_by_role("navigation", name="Main navigation")
    nav.get_by_role("link", name="Invoicing", exact=True).hover()
    nav.get_by_role("link", name="Bexio > Authorisation").click()
    page.wait_for_url("**/invoicing/bexio/authorisation")


def _get_new_token(page, button="#get-new-token-top"):
    page.click(button)
    page.wait_for_selector("#kc-oauth, #kc-form-login")


def test_setup_in_a_browser(transactional_db, live_bexio, live_server, browser_page, log_in):
    org = make_org("aeroclub", name="Aero Club Browser")
    admin = make_staff(org, "chief")
    admin.set_password("chief-password-1")
    admin.save()
    page = browser_page

    log_in("chief", org, "chief-password-1")

    # 1. Cancel at consent: a clear message, nothing stored.
    _open_authorisation(page)
    _get_new_token(page, "#get-new-token button.primary")  # the button under the scope table
    page.fill("#username", "demo@bexio.test")
    page.fill("#password", "sandbox")
    page.click("#kc-login")
    page.wait_for_selector("#kc-oauth")
    page.click("#kc-cancel")
    page.wait_for_url("**/invoicing/bexio/authorisation")
    assert "You cancelled at bexio" in page.content()
    assert "The token is available" not in page.content()
    conn = BexioConnection.objects.get(organisation=org)
    assert not conn.has_token and conn.status == Status.NOT_CONNECTED

    # 2. Get new token, consent with all scopes: "The token is available".
    _get_new_token(page)  # bexio remembers the login (SSO): straight to consent
    page.wait_for_selector("#kc-oauth")
    page.click("#kc-oauth button[name=accept]")
    page.wait_for_url("**/invoicing/bexio/authorisation")
    page.get_by_text("The token is available").wait_for()
    assert "Flugschule Demo AG" in page.inner_text("#company")
    for scope in REQUIRED_SCOPES:
        assert page.inner_text(f"#scope-{scope} td.granted").strip().startswith("✓")
    assert page.locator("#missing-scopes").count() == 0
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.transfers_allowed
    assert conn.get_access_token() not in page.content()
    page.get_by_role("button", name="Test connection").click()
    page.wait_for_selector("#test-result")
    assert "Connection OK" in page.inner_text("#test-result")
    assert "Flugschule Demo AG" in page.inner_text("#test-result")

    # 3. Again, unticking contact_edit at bexio: the warning names it.
    _get_new_token(page)
    page.wait_for_selector("#kc-oauth")
    page.uncheck("#kc-oauth input[name=scope][value=contact_edit]")
    page.click("#kc-oauth button[name=accept]")
    page.wait_for_url("**/invoicing/bexio/authorisation")
    warning = page.inner_text("#missing-scopes")
    assert "contact_edit" in warning and "Transfers to bexio are disabled" in warning
    assert "contact_show" not in warning
    assert page.get_by_role("button", name="Get new token").first.is_visible()
    assert not BexioConnection.objects.get(organisation=org).transfers_allowed
