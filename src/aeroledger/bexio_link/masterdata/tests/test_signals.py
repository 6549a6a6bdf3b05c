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


def test_edit_of_a_linked_member_is_sent_by_the_task(
    org, bx, ready, sb, monkeypatch, django_capture_on_commit_callbacks, use_client
):
    m = member(org, 21)
    contact_id = ensure_contact(bx, m)
    connect(org)
    worker_task = tasks.sync_member_contact
    recorder = Recorder()
    monkeypatch.setattr(tasks, "sync_member_contact", recorder)
    use_client(bx)
    log = Log(sb)
    for city in ("Grenchen", "Bern"):
        with django_capture_on_commit_callbacks(execute=True):
            m.city = city
            m.save()
        (member_id,) = recorder.calls.pop()
        assert worker_task.call(member_id) == contact_id  # what the worker runs
    assert [(w["method"], w["path"]) for w in log.writes()] == [("POST", f"/2.0/contact/{contact_id}")] * 2
    assert bx.contacts.get(contact_id).city == "Bern"


def test_unlinked_member_edit_enqueues_nothing(org, monkeypatch, django_capture_on_commit_callbacks):
    connect(org)
    recorder = Recorder()
    monkeypatch.setattr(tasks, "sync_member_contact", recorder)
    m = member(org, 22)
    with django_capture_on_commit_callbacks(execute=True):
        m.city = "Sion"
        m.save()
    assert recorder.calls == []
