"""Overview figures are kept a few seconds per organisation; a person's own change shows at once."""

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


def test_kept_for_others_fresh_for_whoever_changed_something(client, club, settings, monkeypatch):
    settings.AEROLEDGER_FIGURES_TTL = 30
    cache.clear()
    org, m = club
    make_staff(org, "colleague")
    colleague = Client()
    colleague.login(username="colleague", password=PASSWORD)
    invoice(org, m["Muster"], "1", status="draft")
    assert drafts(client, org) == 1 and drafts(colleague, org) == 1

    invoice(org, m["Muster"], "2", status="draft")  # a background job, say: nobody's POST
    assert drafts(client, org) == 1 and drafts(colleague, org) == 1  # kept

    # The boss changes something (any successful POST in the organisation): fresh for the boss ...
    settings_page = reverse("org_settings", args=[org.slug])
    form = client.get(settings_page).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    assert client.post(settings_page, data).status_code == 302
    assert drafts(client, org) == 2
    # ... and, recomputed, for the colleague too; later changes show once the figures are old.
    assert drafts(colleague, org) == 2
    invoice(org, m["Muster"], "3", status="draft")
    assert drafts(colleague, org) == 2
    now = figures.time.time()
    monkeypatch.setattr(figures.time, "time", lambda: now + 31)
    assert drafts(colleague, org) == 3
    page = colleague.get(reverse("org_home", args=[org.slug])).text
    assert "Figures as of" in page
