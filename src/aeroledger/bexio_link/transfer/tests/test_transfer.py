"""Transfer against the sandbox over HTTP: exactly once under faults, resumable, re-run writes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aeroledger.bexio_link.transfer import start
from aeroledger.bexio_link.transfer.invoices.plan import plan_invoice
from aeroledger.bexio_link.transfer.models import (
    InvoiceLink,
    ItemKind,
    ItemStatus,
    OutboxAttempt,
    OutboxItem,
    TransferBatch,
)
from aeroledger.bexio_link.transfer.outbox import enqueue, outcome, queue, worker
from aeroledger.billing.models import Invoice, InvoiceStatus

from .conftest import assert_exactly_once, make_client, write_requests

pytestmark = pytest.mark.django_db(transaction=True)

INVOICE_CREATE = r"^/2\.0/kb_invoice$"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(outcome, "backoff", lambda attempts: timedelta(0))


def run(org, client, **kw):
    kw.setdefault("concurrency", 4)
    return start.transfer_invoices(org, client=client, **kw)


def run_outbox(org, client, **kw):
    return worker.run_outbox(org_ids=[org.pk], client_factory=lambda _org: client, **kw)


def invoice_item(invoice, **fields):
    return OutboxItem.objects.create(
        organisation=invoice.organisation,
        kind=ItemKind.INVOICE,
        key=str(invoice.uuid),
        invoice=invoice,
        **fields,
    )


def test_full_month_then_rerun_writes_nothing(sb, client, demo):
    approved = Invoice.objects.filter(organisation=demo, status=InvoiceStatus.APPROVED).count()
    assert approved > 10
    stats = run(demo, client)
    assert stats.get("created") == approved
    assert_exactly_once(demo, client)
    assert Invoice.objects.filter(organisation=demo, status=InvoiceStatus.TRANSFERRED).count() == approved
    creates = [r for r in write_requests(sb) if r["path"] == "/2.0/kb_invoice"]
    assert len(creates) == approved

    mark = sb.requests()[-1]["id"]
    stats = run(demo, client)
    assert not stats.get("created")
    assert write_requests(sb, mark) == []


@pytest.mark.parametrize("effect", ["status:500", "drop", "timeout", "status:503"])
def test_fault_after_commit_leaves_exactly_one(sb, client, demo, effect):
    # bexio saves the invoice, then the answer is lost: 3 invoices hit it.
    sb.fault(method="POST", path=INVOICE_CREATE, when="after_commit", effect=effect, times=3)
    run(demo, client)
    in_bexio = assert_exactly_once(demo, client)
    adopted = OutboxAttempt.objects.filter(organisation=demo, outcome="adopted").count()
    assert adopted == 3
    assert (
        len(in_bexio) == Invoice.objects.filter(organisation=demo, status=InvoiceStatus.TRANSFERRED).count()
    )


def test_fault_before_and_429_bursts(sb, client, demo):
    sb.fault(method="POST", path=INVOICE_CREATE, when="before", effect="status:500", times=2)
    sb.fault(method="*", path=r"^/2\.0/", when="before", effect="status:429", probability=0.2, seed=7)
    run(demo, client)
    sb.clear_faults()
    run(demo, client)  # whatever exhausted the client's 429 retries goes now
    assert_exactly_once(demo, client)


def test_random_faults_everywhere(sb, client, demo):
    for effect in ("status:500", "drop", "timeout"):
        sb.fault(
            method="POST",
            path=r"^/2\.0/kb_invoice",
            when="after_commit",
            effect=effect,
            probability=0.15,
            seed=3,
        )
    run(demo, client)
    sb.clear_faults()
    run(demo, client)
    assert_exactly_once(demo, client)


def test_validation_error_stops_that_invoice_only(sb, client, demo):
    sb.fault(method="POST", path=INVOICE_CREATE, when="before", effect="status:422", times=1)
    run(demo, client)
    failed = OutboxItem.objects.filter(organisation=demo, status=ItemStatus.FAILED)
    assert failed.count() == 1
    assert failed[0].last_error_status == 422
    assert failed[0].last_error  # bexio's message, verbatim
    assert not failed[0].maybe_in_bexio  # bexio refused it: nothing to look up, it may be withdrawn
    done = OutboxItem.objects.filter(organisation=demo, status=ItemStatus.DONE).count()
    assert done == Invoice.objects.filter(organisation=demo).exclude(status="draft").count() - 1
    # retry: goes through now
    enqueue.retry(demo, enqueue=False)
    run_outbox(demo, client, concurrency=2)
    assert_exactly_once(demo, client)


def test_unauthorised_pauses_without_losing_anything(sb, client, demo):
    bad = make_client(sb, token="not-a-token")
    stats = run(demo, bad)
    assert stats.get("paused")
    assert not OutboxItem.objects.filter(organisation=demo, status__in=["done", "failed"]).exists()
    assert TransferBatch.objects.filter(organisation=demo, status="paused").exists()
    run_outbox(demo, client, concurrency=4)
    assert_exactly_once(demo, client)


def test_worker_crash_after_create_resumes_and_adopts(sb, client, demo):
    invoice = Invoice.objects.filter(organisation=demo, status=InvoiceStatus.APPROVED).first()
    # A worker sent the create, bexio saved it, then the worker was killed before storing anything.
    from aeroledger.bexio_link.masterdata.contacts import ensure_contact

    plan = plan_invoice(invoice)
    client.invoices.create(plan.create_body(ensure_contact(client, invoice.member)))
    past = timezone.now() - timedelta(seconds=5)
    item = invoice_item(
        invoice, status=ItemStatus.SENDING, attempts=1, claimed_by="dead-worker", claimed_until=past
    )
    run(demo, client)
    assert_exactly_once(demo, client)
    assert item.log.filter(outcome="adopted").exists()


def test_lease_held_by_a_live_worker_is_left_alone(sb, client, demo):
    invoice = Invoice.objects.filter(organisation=demo, status=InvoiceStatus.APPROVED).first()
    invoice_item(
        invoice,
        status=ItemStatus.SENDING,
        attempts=1,
        claimed_by="live-worker",
        claimed_until=timezone.now() + timedelta(minutes=5),
    )
    start.transfer_invoices(demo, client=client, concurrency=4, wait_for_retries_s=0)
    item = OutboxItem.objects.get(invoice=invoice)
    assert item.status == ItemStatus.SENDING and item.claimed_by == "live-worker"


def test_dry_run_plan_writes_nothing(sb, client, demo):
    mark = sb.requests()[-1]["id"] if sb.requests() else 0
    invoice = Invoice.objects.filter(organisation=demo, status=InvoiceStatus.APPROVED).first()
    plan = plan_invoice(invoice)
    assert plan.ok, plan.blockers
    assert plan.positions and all(p.body.account_id and p.body.tax_id for p in plan.positions)
    assert plan.create_body(1).api_reference == str(invoice.uuid)
    assert sb.requests(mark) == []
    assert not OutboxItem.objects.exists() and not InvoiceLink.objects.exists()


def test_database_lost_mid_batch_the_worker_reconnects_and_finishes_exactly_once(
    sb, client, demo, monkeypatch
):
    """A PostgreSQL restart makes the coordinator's next query fail: it must ride it out."""
    from django.db import OperationalError

    real = queue.orgs_with_due_work
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first slice went out: the server restarts
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(queue, "orgs_with_due_work", flaky)
    monkeypatch.setattr(worker.time, "sleep", lambda s: None)
    start.start_transfer(demo, enqueue_task=False)
    stats = run_outbox(demo, client, concurrency=2)
    assert stats["db_reconnects"] == 1
    assert_exactly_once(demo, client)


def test_items_that_may_be_in_bexio_are_looked_up_with_one_search(sb, client, demo):
    """bexio's searches have a budget of their own (250 a minute): the look-ups before retry of a
    slice go out as one `in` search, not one search per invoice."""
    from aeroledger.bexio_link.masterdata.contacts import ensure_contact

    invoices = list(Invoice.objects.filter(organisation=demo, status=InvoiceStatus.APPROVED)[:5])
    for invoice in invoices:  # bexio stored them; every answer was lost
        client.invoices.create(plan_invoice(invoice).create_body(ensure_contact(client, invoice.member)))
        invoice_item(invoice, status=ItemStatus.PENDING, attempts=1, maybe_in_bexio=True)
    mark = sb.requests()[-1]["id"]
    run_outbox(demo, client, concurrency=8)
    searches = [r for r in sb.requests(mark) if r["path"] == "/2.0/kb_invoice/search"]
    assert len(searches) == 1
    assert OutboxAttempt.objects.filter(outcome="adopted").count() == 5
    creates = [r for r in write_requests(sb, mark) if r["path"] == "/2.0/kb_invoice"]
    assert creates == []


def test_queueing_many_invoices_at_once_does_what_one_by_one_does(demo, monkeypatch):
    invoices = list(
        Invoice.objects.filter(organisation=demo, status=InvoiceStatus.APPROVED).select_related(
            "member", "organisation"
        )[:4]
    )
    done = invoice_item(invoices[0], status=ItemStatus.DONE)
    failed = invoice_item(invoices[1], status=ItemStatus.FAILED)
    batch = TransferBatch.objects.create(organisation=demo)
    writes = [w for invoice in invoices for w in start.invoice_writes(invoice)]
    items = enqueue.add_many(demo, writes, batch=batch)
    assert [i.key for i in items] == [w[1] for w in writes]
    assert all(i.pk for i in items)
    done.refresh_from_db()
    failed.refresh_from_db()
    assert (done.status, done.batch_id) == (ItemStatus.DONE, None)  # done stays done
    assert (failed.status, failed.batch_id) == (ItemStatus.PENDING, batch.pk)  # failed joins the batch
    new = OutboxItem.objects.filter(organisation=demo, key__in=[str(i.uuid) for i in invoices[2:]])
    assert [(i.status, i.batch_id, bool(i.label)) for i in new] == [(ItemStatus.PENDING, batch.pk, True)] * 2
    count = OutboxItem.objects.count()
    assert [i.pk for i in enqueue.add_many(demo, writes, batch=batch)] == [i.pk for i in items]
    assert OutboxItem.objects.count() == count

    # Another process inserts one of them at this moment: the insert is refused, each write goes
    # through `add` on its own, nothing is queued twice.
    more = list(
        Invoice.objects.filter(organisation=demo, status=InvoiceStatus.APPROVED).select_related(
            "member", "organisation"
        )[4:7]
    )
    assert len(more) == 3
    writes = [w for invoice in more for w in start.invoice_writes(invoice)]
    real_bulk_create = OutboxItem.objects.bulk_create

    raced = []

    def racing_bulk_create(objs, **kw):
        raced.append(invoice_item(more[1]))
        return real_bulk_create(objs, **kw)

    monkeypatch.setattr(OutboxItem.objects, "bulk_create", racing_bulk_create)
    items = enqueue.add_many(demo, writes, batch=batch)
    assert raced and [i.key for i in items] == [w[1] for w in writes]
    assert all(i.pk and i.batch_id == batch.pk for i in items)
    for invoice in more:
        assert OutboxItem.objects.filter(organisation=demo, key=str(invoice.uuid)).count() == 1
