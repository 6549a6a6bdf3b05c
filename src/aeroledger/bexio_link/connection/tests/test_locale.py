"""German translations of this app are complete and used."""

from pathlib import Path

import polib
import pytest

from aeroledger.tenancy.models import StaffProfile

from .conftest import connect, page_url

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def test_german_catalogue_is_complete_and_compiled():
    po = polib.pofile(str(LOCALE / "de" / "LC_MESSAGES" / "django.po"))
    assert po.percent_translated() == 100, [e.msgid for e in po.untranslated_entries()]
    assert not po.fuzzy_entries()
    assert (LOCALE / "de" / "LC_MESSAGES" / "django.mo").exists()


@pytest.mark.django_db
def test_page_in_german(admin_client, admin, org, bx):
    StaffProfile.objects.update_or_create(user=admin, defaults={"language": "de"})
    connect(admin_client, org, untick=("kb_invoice_edit",))
    html = admin_client.get(page_url(org)).content.decode()
    assert "Das Token ist verfügbar" in html
    assert "Neues Token holen" in html
    assert "Rechnungen können nicht an bexio übertragen werden." in html
