"""Member edits reach bexio through a task; connecting imports the master data."""

import pytest
from django.utils import timezone

from aeroledger.bexio_link.connection.models import BexioConnection
from aeroledger.bexio_link.connection.scopes import required_for

from .. import tasks
from ..contacts import ensure_contact
from .conftest import Log, member

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self):
        self.calls = []

    def enqueue(self, *args):
        self.calls.append(args)


def connect(org):
    return BexioConnection.objects.create(
        organisation=org,
        status="connected",
        refresh_token_enc="x",
        granted_scopes=list(required_for(org)),
        obtained_at=timezone.now(),
    )


def test_connecting_enqueues_the_import(org, monkeypatch, django_capture_on_commit_callbacks):
    recorder = Recorder()
    monkeypatch.setattr(tasks, "refresh_organisation", recorder)
    with django_capture_on_commit_callbacks(execute=True):
        connect(org)
    assert recorder.calls == [(org.pk, "connect")]


def test_edit_of_a_linked_member_is_one_outbox_write_per_change(
    org, bx, ready, sb, django_capture_on_commit_callbacks, use_client
):
    from aeroledger.bexio_link.transfer.models import ItemKind, OutboxItem
    from aeroledger.bexio_link.transfer.outbox.worker import run_outbox

    m = member(org, 21)
    contact_id = ensure_contact(bx, m)
    connect(org)
    use_client(bx)
    log = Log(sb)
    for city in ("Grenchen", "Bern"):
        with django_capture_on_commit_callbacks(execute=False):
            m.city = city
            m.save()
            m.save()  # saved twice without a change in between: one write
        assert OutboxItem.objects.filter(kind=ItemKind.CONTACT, status="pending").count() == 1
        run_outbox(org_ids=[org.pk], concurrency=1)  # what the worker does
    items = OutboxItem.objects.filter(kind=ItemKind.CONTACT)
    assert items.count() == 2 and set(items.values_list("status", flat=True)) == {"done"}
    assert set(items.values_list("bexio_id", flat=True)) == {contact_id}
    assert [(w["method"], w["path"]) for w in log.writes()] == [("POST", f"/2.0/contact/{contact_id}")] * 2
    assert bx.contacts.get(contact_id).city == "Bern"


def test_unlinked_member_edit_queues_nothing(org):
    from aeroledger.bexio_link.transfer.models import OutboxItem

    connect(org)
    m = member(org, 22)
    m.city = "Sion"
    m.save()
    assert not OutboxItem.objects.exists()
