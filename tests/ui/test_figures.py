"""Overview figures are kept a few seconds per organisation; a change made through the pages shows
at once, for everybody; changes made elsewhere (task worker, command line) within the TTL."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from aeroledger.tenancy import figures
from aeroledger.tenancy.testing import PASSWORD, make_staff

from .conftest import invoice

pytestmark = pytest.mark.django_db


def drafts(client, org) -> int:
    return client.get(reverse("org_home", args=[org.slug])).context["drafts"].count


def test_kept_until_a_change_through_the_pages_or_the_ttl(client, club, settings, monkeypatch):
    settings.AEROLEDGER_FIGURES_TTL = 30
    cache.clear()
    org, m = club
    make_staff(org, "colleague")
    colleague = Client()
    colleague.login(username="colleague", password=PASSWORD)
    invoice(org, m["Muster"], "1", status="draft")
    assert drafts(client, org) == 1 and drafts(colleague, org) == 1

    invoice(org, m["Muster"], "2", status="draft")  # the task worker, say: not through the pages
    assert drafts(client, org) == 1 and drafts(colleague, org) == 1  # kept

    # The boss changes something (any POST that is not refused): fresh at once, for both.
    settings_page = reverse("org_settings", args=[org.slug])
    form = client.get(settings_page).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    assert client.post(settings_page, data).status_code == 302
    assert drafts(colleague, org) == 2 and drafts(client, org) == 2
    # A refused POST (read only, or another organisation's page) is no change.
    make_staff(org, "reader", perms=())
    reader = Client()
    reader.login(username="reader", password=PASSWORD)
    invoice(org, m["Muster"], "3", status="draft")
    assert reader.post(settings_page, data).status_code == 403
    assert drafts(colleague, org) == 2
    # Changes made elsewhere show once the figures are older than the TTL.
    now = figures.time.time()
    monkeypatch.setattr(figures.time, "time", lambda: now + 31)
    assert drafts(colleague, org) == 3
    assert "Figures as of" in colleague.get(reverse("org_home", args=[org.slug])).text
