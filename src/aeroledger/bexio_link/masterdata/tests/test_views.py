"""Mapping and contacts pages: who may read, who may change, what they show."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from aeroledger.tenancy.models import Membership

from ..master import MasterData
from ..models import (
    BexioRecord,
    ChargeMapping,
    ContactLink,
    ContactSyncRun,
    InvoiceSettings,
    Kind,
    LinkState,
    MasterDataRefresh,
)
from ..refresh import refresh_master_data
from .conftest import member

pytestmark = pytest.mark.django_db


def staff(org, name, **perms):
    user = get_user_model().objects.create_user(name, password="pw-" + name)
    Membership.objects.create(user=user, organisation=org, **perms)
    return user


@pytest.fixture
def admin(org):
    return staff(org, "admin", manage_settings=True, manage_members=True)


@pytest.fixture
def reader(org):
    return staff(org, "reader")


def test_reader_sees_mapping_but_cannot_change(client, org, reader):
    client.force_login(reader)
    response = client.get(reverse("bexio_masterdata:mapping", args=[org.slug]))
    assert response.status_code == 200
    assert b'id="refresh-button"' not in response.content
    assert b"Manage settings" in response.content
    assert client.post(reverse("bexio_masterdata:mapping_save", args=[org.slug])).status_code == 403
    assert client.post(reverse("bexio_masterdata:refresh", args=[org.slug])).status_code == 403
    assert client.post(reverse("bexio_masterdata:contacts_sync", args=[org.slug])).status_code == 403


def test_outsider_gets_404(client, org):
    other = get_user_model().objects.create_user("outsider", password="x")
    client.force_login(other)
    assert client.get(reverse("bexio_masterdata:mapping", args=[org.slug])).status_code == 404
    assert client.get(reverse("bexio_masterdata:contacts", args=[org.slug])).status_code == 404


def test_save_mapping_shows_broken_after_bexio_dropped_it(client, org, admin, sb):
    from .conftest import make_client

    with make_client(sb) as bx:
        refresh_master_data(org, bx)
    master = MasterData(org)
    bank = master.bank_accounts()[0]
    user = master.all(Kind.USER)[0]
    art = master.all(Kind.ARTICLE)[0]
    client.force_login(admin)
    url = reverse("bexio_masterdata:mapping", args=[org.slug])
    page = client.get(url)
    assert b"QR-IBAN" in page.content
    data = {
        "bank_account": bank.pk,
        "user": user.pk,
        "contact_group_name": "Aeroledger",
        "payment_terms_days": 20,
        "m-manual-0-0-article": art.pk,
        "m-top_up-0-0-account": master.earnings_accounts()[0].pk,  # account without tax: refused
    }
    response = client.post(reverse("bexio_masterdata:mapping_save", args=[org.slug]), data)
    assert response.status_code == 400
    assert b"choose both an account and a tax" in response.content
    del data["m-top_up-0-0-account"]
    response = client.post(reverse("bexio_masterdata:mapping_save", args=[org.slug]), data)
    assert response.status_code == 302
    settings_row = InvoiceSettings.objects.get(organisation=org)
    assert (settings_row.bank_account, settings_row.user, settings_row.payment_terms_days) == (bank, user, 20)
    assert ChargeMapping.objects.get(organisation=org, charge_type="manual").article == art
    # bexio no longer has the article: the row shows as broken, the choice is kept
    art.is_active = False
    art.save()
    page = client.get(url)
    assert b"inactive in bexio" in page.content and b"broken" in page.content


def test_contacts_page_lists_conflicts_and_links_by_hand(client, org, admin):
    m1 = member(org, 1)
    m2 = member(org, 2)
    ContactLink.objects.create(
        organisation=org,
        member=m2,
        state=LinkState.CONFLICT,
        candidates=[{"id": 41, "nr": "", "name": "A", "mail": "m2@example.ch", "city": ""}],
    )
    client.force_login(admin)
    page = client.get(reverse("bexio_masterdata:contacts", args=[org.slug]))
    assert page.status_code == 200
    text = page.content.decode()
    assert f'id="unlinked-{m1.pk}"' in text and f'id="conflict-{m2.pk}"' in text
    assert "Link to this bexio contact…" in text


@pytest.fixture
def patched(use_client, sb):
    from .conftest import make_client

    bx = use_client(make_client(sb))
    yield bx
    bx.close()


def _queued():
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.ready())


def _run_queued():
    """What the db_worker does with each queued task (called here, in the test's transaction)."""
    for result in _queued():
        result.task.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
        result.set_successful(None)


def test_refresh_button_enqueues_once_and_the_worker_runs_it(client, org, admin, patched, sb):
    from .conftest import Log

    client.force_login(admin)
    url = reverse("bexio_masterdata:mapping", args=[org.slug])
    log = Log(sb)
    response = client.post(reverse("bexio_masterdata:refresh", args=[org.slug]), follow=True)
    assert b"Refresh from bexio started." in response.content
    assert log.entries() == []  # the request itself asks bexio nothing
    queued = _queued()
    assert [r.task_path.rsplit(".", 1)[-1] for r in queued] == ["refresh_organisation"]
    assert queued[0].queue_name == "bexio"
    page = response.content.decode()
    assert "running" in page and 'hx-get="' in page and "refresh/state/" in page
    assert 'id="refresh-button" disabled' in page
    # A second click while it is queued enqueues nothing.
    response = client.post(reverse("bexio_masterdata:refresh", args=[org.slug]), follow=True)
    assert b"already running" in response.content
    assert len(_queued()) == 1
    assert MasterDataRefresh.objects.filter(organisation=org).count() == 1
    # The poll while it runs: the card, still polling.
    state_url = reverse("bexio_masterdata:refresh_state", args=[org.slug]) + "?was=running"
    card = client.get(state_url, HTTP_HX_REQUEST="true")
    assert card.status_code == 200 and b'hx-trigger="every 1s"' in card.content

    _run_queued()
    assert log.entries()  # the worker did ask bexio
    run = MasterDataRefresh.objects.get(organisation=org)
    assert run.ok and run.finished_at and run.changes
    # The poll sees it finished: the whole page reloads.
    done = client.get(state_url, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    page = client.get(url).content.decode()
    assert "successful" in page and "refresh/state/" not in page
    assert 'id="refresh-button" disabled' not in page
    assert BexioRecord.objects.filter(organisation=org, kind=Kind.TAX).exists()
    # Once finished, a new click starts a new run.
    client.post(reverse("bexio_masterdata:refresh", args=[org.slug]))
    assert len(_queued()) == 1


def test_contacts_sync_enqueues_once_and_the_worker_runs_it(client, org, admin, patched, sb):
    from .conftest import Log

    refresh_master_data(org, patched)
    master = MasterData(org)
    InvoiceSettings.objects.create(organisation=org, user=master.all(Kind.USER)[0])
    m1, m2 = member(org, 3), member(org, 4)
    client.force_login(admin)
    log = Log(sb)
    response = client.post(reverse("bexio_masterdata:contacts_sync", args=[org.slug]), follow=True)
    assert b"Contact sync started." in response.content
    assert log.entries() == []
    assert [r.task_path.rsplit(".", 1)[-1] for r in _queued()] == ["sync_contacts"]
    page = response.content.decode()
    assert "Waiting for a worker to pick the contact sync up" in page and "contacts/sync/state/" in page
    assert 'id="sync-all" disabled' in page
    response = client.post(reverse("bexio_masterdata:contacts_sync", args=[org.slug]), follow=True)
    assert b"already running" in response.content
    assert len(_queued()) == 1
    assert ContactSyncRun.objects.filter(organisation=org).count() == 1

    _run_queued()
    run = ContactSyncRun.objects.get(organisation=org)
    assert run.status == ContactSyncRun.Status.DONE and run.summary["created"] == 2
    assert ContactLink.objects.filter(member__in=[m1, m2], state=LinkState.LINKED).count() == 2
    state_url = reverse("bexio_masterdata:contacts_sync_state", args=[org.slug]) + "?was=running"
    assert client.get(state_url, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"
    page = client.get(reverse("bexio_masterdata:contacts", args=[org.slug])).content.decode()
    assert "2 created" in page and "successful" in page and "contacts/sync/state/" not in page


def test_contacts_sync_failure_is_shown(client, org, admin):
    """Not connected: the task fails, the page says why."""
    client.force_login(admin)
    client.post(reverse("bexio_masterdata:contacts_sync", args=[org.slug]))
    with pytest.raises(Exception):  # noqa: B017 - whatever the task raises, it is recorded
        _run_queued()
    run = ContactSyncRun.objects.get(organisation=org)
    assert run.status == ContactSyncRun.Status.FAILED and run.error
    page = client.get(reverse("bexio_masterdata:contacts", args=[org.slug])).content.decode()
    assert "failed" in page


def test_single_member_actions_stay_synchronous(client, org, admin, patched):
    refresh_master_data(org, patched)
    master = MasterData(org)
    InvoiceSettings.objects.create(organisation=org, user=master.all(Kind.USER)[0])
    client.force_login(admin)
    m = member(org, 3)
    response = client.post(reverse("bexio_masterdata:contact_sync", args=[org.slug, m.pk]), follow=True)
    link = ContactLink.objects.get(member=m)
    assert f"is bexio contact {link.bexio_id}".encode() in response.content
    response = client.post(reverse("bexio_masterdata:contact_unlink", args=[org.slug, m.pk]), follow=True)
    assert not ContactLink.objects.filter(member=m).exists()
    response = client.post(
        reverse("bexio_masterdata:contact_link", args=[org.slug, m.pk]),
        {"bexio_id": link.bexio_id, "confirm": "1"},  # the contact sync made: a candidate, in our group
        follow=True,
    )
    assert ContactLink.objects.get(member=m).matched_by == "hand"
    assert _queued() == []


def test_mapping_page_lists_blocked_invoices(client, org, admin, invoice):
    client.force_login(admin)
    page = client.get(reverse("bexio_masterdata:mapping", args=[org.slug])).content.decode()
    assert 'id="waiting"' in page
    assert "Aircraft time (HB-KFA) is not mapped" in page
    assert "0 ready for bexio, 1 blocked" in page
