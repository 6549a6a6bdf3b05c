"""In a real browser: log in as the demo admin, open the members, create one, find it in the list."""

import os

import pytest

from aeroledger.billing.demo import seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(live_server):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_admin_creates_a_member(live_server, page):
    seed_demo()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "aeroledger")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/o/demo/members/")
    assert page.locator("h1").inner_text() == "Members"
    page.click("text=New member")
    page.fill("#id_number", "9001")
    page.fill("#id_first_name", "Greta")
    page.fill("#id_last_name", "Glarner")
    page.fill("#id_city", "Glarus")
    page.select_option("#id_language", "de")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Member Greta Glarner was created.")
    page.goto(f"{live_server.url}/o/demo/members/?q=Glarner")
    assert page.locator("table tbody tr").count() == 1
    assert "Greta Glarner" in page.locator("table tbody").inner_text()
