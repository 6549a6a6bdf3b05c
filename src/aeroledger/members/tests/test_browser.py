"""In a real browser: log in as the demo admin, open the members, create one, find it in the list."""

import pytest

from aeroledger.billing.demo import seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_creates_a_member(live_server, browser_page):
    page = browser_page
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
