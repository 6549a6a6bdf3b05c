"""End to end with the real connection: Get new token (scripted) -> import -> contacts, via client_for."""

from io import StringIO

import pytest

from aeroledger.bexio_link.connection.models import BexioCall

from .. import tasks
from ..contact_sync import sync_contacts
from ..contacts import ensure_contact
from ..master import MasterData
from ..models import InvoiceSettings, Kind, MasterDataRefresh
from ..refresh import refresh_master_data
from .conftest import member
from .test_views import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(org, bexio_settings, django_capture_on_commit_callbacks):
    from aeroledger.bexio_link.connection.demo import connect_demo

    staff(org, "boss", manage_settings=True, manage_members=True)
    enqueued = []

    class Recorder:
        def enqueue(self, *args):
            enqueued.append(args)

    original, tasks.refresh_organisation = tasks.refresh_organisation, Recorder()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert connect_demo(org, StringIO())
    finally:
        tasks.refresh_organisation = original
    assert enqueued == [(org.pk, "connect")]  # the import after connecting
    return org


def test_import_and_contacts_through_client_for(connected, sb):
    org = connected
    run = tasks.refresh_organisation.call(org.pk, "connect")
    assert run and MasterDataRefresh.objects.get(organisation=org).ok
    assert BexioCall.objects.filter(organisation=org, path="/2.0/article").exists()  # the call log
    master = MasterData(org)
    InvoiceSettings.objects.create(organisation=org, user=master.all(Kind.USER)[0])
    m = member(org, 1)
    contact_id = ensure_contact(None, m)
    assert contact_id
    member(org, 2)
    report = sync_contacts(org)
    assert report.summary()["created"] == 1 and report.summary()["unchanged"] == 1
    # the contact group created at the first sync was recorded then: nothing new to import
    assert refresh_master_data(org).changes == 0


def test_mapping_suggests_the_consenting_user_and_a_qr_bank_without_preselecting(connected, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    org = connected
    refresh_master_data(org)
    client.force_login(get_user_model().objects.get(username="boss"))
    page = client.get(reverse("bexio_masterdata:mapping", args=[org.slug]))
    form = page.context["settings_form"]
    master = MasterData(org)
    user = next(u for u in master.all(Kind.USER) if u.data.get("email") == "demo@bexio.test")
    # What the page shows as chosen is what is saved: nothing yet, the choice is a hint beside it.
    assert form["user"].value() is None and form["bank_account"].value() is None
    hints = " ".join(page.context["suggestions"])
    assert user.name in hints
    assert master.bank_accounts()[0].name in hints
