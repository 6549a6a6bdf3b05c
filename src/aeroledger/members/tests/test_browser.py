"""In a real browser: log in as the demo admin, open the members, create one, find it in the list."""

import pytest

from aeroledger.billing.demo import seed_demo
from aeroledger.members.models import Member

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


def shots(page, name):
    """With AEROLEDGER_SHOTS=<dir>: the page at 1280 and 390 px."""
    import os
    from pathlib import Path

    folder = os.environ.get("AEROLEDGER_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_salutation_title_and_house_number_in_the_form_and_on_the_page(live_server, browser_page):
    page = browser_page
    seed_demo()
    member = Member.objects.get(organisation__slug="demo", number="1003")  # a demo member with "Dr."
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "aeroledger")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/o/demo/members/{member.pk}/")
    address = page.locator("address").inner_text()
    assert address.startswith(f"Herr Dr. {member.first_name} {member.last_name}\n"), address
    page.goto(f"{live_server.url}/o/demo/members/{member.pk}/edit/")
    assert page.locator("#id_salutation").input_value() == "mr"
    assert page.locator("#id_title").input_value() == "Dr."
    page.fill("#id_street", "Seestrasse 12")
    page.fill("#id_house_number", "")
    page.click("button:has-text('Save')")
    error = page.locator(".field.has-error").filter(has=page.locator("#id_street"))
    assert "house number “12”" in error.inner_text()
    shots(page, "member-form")
    page.fill("#id_street", "Seestrasse")
    page.fill("#id_house_number", "12")
    page.select_option("#id_salutation", "ms")
    page.fill("#id_title", "Prof. Dr.")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=was saved")
    address = page.locator("address").inner_text()
    assert address.startswith(f"Frau Prof. Dr. {member.first_name} {member.last_name}\nSeestrasse 12\n")
    shots(page, "member-detail")
