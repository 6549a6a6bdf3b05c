"""Issue 13: a strict Content-Security-Policy, no caching of pages with member data, and login
throttling (20 wrong passwords, then the right one must not log in during the lock)."""

import pytest
from django.test import Client
from django.urls import reverse

from aeroledger.tenancy.testing import PASSWORD, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    org = make_org("club")
    make_staff(org, "boss")
    make_member(org, "1")
    return org


def csp_of(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.strip() for d in header.split(";") if d.strip()}


def test_every_page_has_a_strict_content_security_policy(client, org):
    client.force_login(org.memberships.get().user)
    for url in (reverse("login"), reverse("members:list", args=["club"]), "/o/club/does-not-exist/"):
        policy = csp_of(client.get(url))
        assert policy["script-src"] == "script-src 'self'"
        assert policy["style-src"] == "style-src 'self' 'sha256-faU7yAF8NxuMTNEwVmBz+VcYeIoBQ2EMHW3WaVxCvnk='"
        assert policy["default-src"] == "default-src 'self'"
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert policy["object-src"] == "object-src 'none'" and policy["base-uri"] == "base-uri 'none'"
        assert "unsafe-inline" not in str(policy) and "unsafe-eval" not in str(policy)


def test_forms_may_post_to_the_site_and_bexio_login_only(client, settings):
    settings.BEXIO_AUTH_ISSUER = "https://auth.bexio.com/realms/bexio"
    policy = csp_of(client.get(reverse("login")))
    assert policy["form-action"].split()[1:] == ["'self'", "https://auth.bexio.com"]


def test_no_template_has_inline_script_or_style():
    """What the policy forbids must not be in the pages: no <script> body, no style=, no on...=."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "src" / "aeroledger"
    bad = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"", re.IGNORECASE)
    found = [
        f"{p.relative_to(root)}:{n}"
        for p in root.rglob("templates/**/*.html")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if bad.search(line)
    ]
    assert found == [], found


def test_logged_in_pages_are_not_stored(client, org):
    client.force_login(org.memberships.get().user)
    for name, args in (("members:list", ["club"]), ("members:detail", ["club", org.members.get().pk])):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store, private"


def login(client, password):
    return client.post(reverse("login"), {"username": "boss", "password": password})


def test_twenty_wrong_passwords_lock_the_login_even_for_the_right_one(org):
    client = Client()
    statuses = [login(client, f"wrong-{i}").status_code for i in range(20)]
    assert statuses[0] == 200  # the form again, "didn't match"
    assert 429 in statuses
    locked = login(client, PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    page = locked.content.decode()
    assert (
        "Login locked" in page and "After 10 wrong passwords" in page and "Try again in 15 minutes." in page
    )
    assert client.get(reverse("members:list", args=["club"])).status_code == 302  # to the login page


def test_the_lock_is_per_username_and_address_and_ends(org, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    client = Client()
    for i in range(10):
        login(client, f"wrong-{i}")
    assert login(client, PASSWORD).status_code == 429
    # From another address, another username is not locked; the lock ends after the cool-off.
    make_staff(make_org("other"), "anna")
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert other.post(reverse("login"), {"username": "anna", "password": PASSWORD}).status_code == 302
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16)
    )
    assert login(client, PASSWORD).status_code == 302


def test_a_few_typos_do_not_lock(org):
    client = Client()
    for i in range(3):
        login(client, f"typo-{i}")
    assert login(client, PASSWORD).status_code == 302
