"""Every navigation entry reverses: club entries always, bexio entries once their app has URLs."""

import importlib

import pytest

from aeroledger.tenancy.navigation import NAVIGATION, build_navigation
from aeroledger.tenancy.testing import make_org

pytestmark = pytest.mark.django_db

BEXIO_URLCONFS = {
    "bexio_connection": "aeroledger.bexio_link.connection.urls",
    "bexio_masterdata": "aeroledger.bexio_link.masterdata.urls",
    "bexio_transfer": "aeroledger.bexio_link.transfer.urls",
    "bexio_books": "aeroledger.bexio_link.books.urls",
}


def entries(items=NAVIGATION):
    for entry in items:
        yield entry
        yield from entries(entry.children)


def test_club_entries_reverse_strictly():
    org = make_org("club", bexio=False)
    items = build_navigation(org, "/", strict=True)
    assert [i.label for i in items] == ["Members", "Flights", "Credit accounts", "Invoicing"]
    assert all(not c.url.startswith("/o/club/invoicing/bexio") for i in items for c in i.children)


def test_bexio_entries_reverse_once_their_app_has_urls():
    from django.urls import NoReverseMatch, reverse

    for entry in entries():
        if not entry.needs_bexio:
            continue
        namespace = entry.url_name.split(":")[0]
        urls = importlib.import_module(BEXIO_URLCONFS[namespace])
        if not urls.urlpatterns:
            continue  # that app has no pages yet
        try:
            reverse(entry.url_name, args=["club"])
        except NoReverseMatch:
            pytest.fail(f"navigation entry {entry.url_name} does not reverse although {namespace} has URLs")


def test_bexio_entries_only_with_the_option():
    org = make_org("club", bexio=True)
    labels = [c.label for i in build_navigation(org, "/") for c in i.children]
    assert "Bexio > Authorisation" in labels
