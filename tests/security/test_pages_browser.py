"""The pages issue 13 changed, in chromium: import limits and preview, bounded forms, the 400 page,
the login lockout. No page breaks the Content-Security-Policy (console errors are collected).

Set AEROLEDGER_SHOTS=<dir> to keep screenshots at 1280 and 390 px.
"""

import pytest

from aeroledger.tenancy.testing import (
    PASSWORD,
    make_fleet,
    make_flight,
    make_member,
    make_org,
    make_staff,
    shoot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_hardened_pages_in_a_browser(transactional_db, live_server, browser_page, log_in, tmp_path, settings):
    settings.AEROLEDGER_CSV_MAX_BYTES = 64 * 1024  # a small limit, so the test file stays small
    org = make_org("club", name="Aero Club Hardening")
    make_staff(org, "chief")
    aircraft, aerodrome = make_fleet(org)
    pilot = make_member(org, "1", first_name="Berta", last_name="Beispiel")
    flight = make_flight(org, aircraft, pilot, minutes=60)
    page = browser_page
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    log_in("chief", org)
    base = live_server.url + f"/o/{org.slug}"

    # Members import: the limits are named; a big file is refused with its size; a good one previews.
    page.goto(base + "/members/import/")
    assert "At most 0.1 MB and 10'000 rows per file." in page.content()
    shoot(page, "members-import")
    big = tmp_path / "big.csv"
    big.write_text("number;last_name\n" + "".join(f"{i};Muster{i}\n" for i in range(10, 10_000)))
    page.set_input_files("input[type=file]", str(big))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector(".errorlist, .error, ul.errorlist", state="attached")
    assert "at most 0.1 MB can be imported at once" in page.content()
    shoot(page, "members-import-too-big")
    good = tmp_path / "good.csv"
    good.write_text("number;first_name;last_name;city;language;invoice_to\n2;Carla;Cortesi;Lugano;it;1\n"
                    "3;Dario;Duss;Chur;deutsch;\n")  # fmt: skip
    page.set_input_files("input[type=file]", str(good))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector(".error-card")
    assert "'deutsch' is not one of de, fr, it, en." in page.inner_text(".error-card")
    shoot(page, "members-import-errors")
    page.goto(base + "/members/import/")
    good.write_text("number;first_name;last_name;city;language\n2;Carla;Cortesi;Lugano;it\n")
    page.set_input_files("input[type=file]", str(good))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("input[name=token]", state="attached")
    shoot(page, "members-import-preview")
    page.get_by_role("button", name="Import all rows").click()
    page.wait_for_url("**/members/")
    assert "1 members were imported." in page.content() or "members were imported" in page.content()

    # Flights import page names its own row limit.
    page.goto(base + "/flights/import/")
    assert "3'000 rows per file" in page.content()
    shoot(page, "flights-import")

    # A charge cannot be edited into credit; a flight with absurd numbers is refused, field named.
    charge = flight.charges.get()
    page.goto(base + f"/flights/charges/{charge.pk}/edit/")
    page.fill("#id_quantity", "-1000")
    page.evaluate("document.querySelector('form:not(.inline)').noValidate = true")
    page.locator("main form").get_by_role("button").first.click()
    page.wait_for_selector(".errorlist", state="attached")
    assert "The quantity must be from 0 to 10'000." in page.content()
    shoot(page, "charge-form-error")
    page.goto(base + "/flights/new/")
    page.fill("#id_date", "2026-11-24")
    page.select_option("#id_aircraft", value=str(aircraft.pk))
    page.select_option("#id_pilot", value=str(pilot.pk))
    page.fill("#id_block_minutes", "99999999999")
    page.fill(f"#id_landings_{aerodrome.pk}", "1000000000000")
    page.evaluate("document.querySelector('main form').noValidate = true")
    page.locator("main form").get_by_role("button").first.click()
    page.wait_for_selector(".errorlist", state="attached")
    content = page.content()
    assert "Block minutes must be a whole number from 1 to 1'440." in content
    assert f"Landings at {aerodrome.icao}: a whole number from 0 to 99." in content
    shoot(page, "flight-form-errors")

    # A bad URL parameter: the 400 page with the message (here: the flight list's month filter
    # is a form error; tenancy.params' 400 shows through a view that raises BadParameter).
    page.goto(base + "/flights/?month=0000-01")
    assert "Month must be a month from 1900 to 2100, e.g. 11.2026 (not '0000-01')." in page.inner_text("body")
    shoot(page, "flights-bad-month")

    # Login lockout: ten wrong passwords, then the right one is refused with the lockout page.
    page.get_by_role("button", name="Log out").click()
    for i in range(10):
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", "chief")
        page.fill("#id_password", f"wrong-{i}")
        page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert "Login locked" in page.content() and "Try again in 15 minutes." in page.content()
    shoot(page, "login-locked")

    csp = [p for p in problems if "Content Security Policy" in p]
    assert not csp, csp
