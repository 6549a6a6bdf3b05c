"""The translations of this app (de, fr, it) are complete and used."""

from pathlib import Path

import polib
import pytest

from aeroledger.tenancy.models import StaffProfile

from .conftest import connect, page_url

LOCALE = Path(__file__).resolve().parent.parent / "locale"


@pytest.mark.parametrize("language", ["de", "fr", "it"])
def test_catalogue_is_complete_and_compiled(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert po.percent_translated() == 100, [e.msgid for e in po.untranslated_entries()]
    assert not po.fuzzy_entries()
    assert (LOCALE / language / "LC_MESSAGES" / "django.mo").exists()


@pytest.mark.django_db
def test_page_in_german(admin_client, admin, org, bx):
    StaffProfile.objects.update_or_create(user=admin, defaults={"language": "de"})
    connect(admin_client, org, untick=("kb_invoice_edit",))
    html = admin_client.get(page_url(org)).content.decode()
    assert "Das Token ist verfügbar" in html
    assert "Neues Token holen" in html
    assert "Rechnungen können nicht an bexio übertragen werden." in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("fr", ["Bexio &gt; Autorisation", "Le jeton est disponible", "Obtenir un nouveau jeton"]),
        ("it", ["Bexio &gt; Autorizzazione", "Il token è disponibile", "Ottieni nuovo token"]),
    ],
)
def test_page_in_french_and_italian(admin_client, admin, org, bx, language, texts):
    StaffProfile.objects.update_or_create(user=admin, defaults={"language": language})
    connect(admin_client, org)
    html = admin_client.get(page_url(org)).content.decode()
    for text in texts:
        assert text in html
