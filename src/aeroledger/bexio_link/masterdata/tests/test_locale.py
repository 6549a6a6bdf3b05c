"""The catalogues of this app are complete, compiled and used."""

from pathlib import Path

import polib
import pytest
from django.urls import reverse

from aeroledger.tenancy.models import StaffProfile

from .test_views import staff

LOCALE = Path(__file__).resolve().parent.parent / "locale"


@pytest.mark.parametrize("lang", ["de", "fr", "it"])
def test_catalogue_is_complete_and_compiled(lang):
    po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    assert po.percent_translated() == 100, [e.msgid for e in po.untranslated_entries()]
    assert not po.fuzzy_entries()
    assert (LOCALE / lang / "LC_MESSAGES" / "django.mo").exists()


@pytest.mark.django_db
def test_pages_in_german(client, org):
    user = staff(org, "leser")
    StaffProfile.objects.create(user=user, language="de")
    client.force_login(user)
    html = client.get(reverse("bexio_masterdata:mapping", args=[org.slug])).content.decode()
    assert "Bexio > Zuordnung" in html and "Die Stammdaten wurden noch nicht aus bexio importiert" in html
    html = client.get(reverse("bexio_masterdata:contacts", args=[org.slug])).content.decode()
    assert "Bexio > Kontakte" in html
