"""The outbox worker: when bexio work runs, and what happens when it fails.

When: a `transfer_batch` task (started by a person, the CLI, a booking, or the scheduled
`resume_transfers` every few minutes) runs `Worker(...).run()` in a `db_worker` process. It serves
every organisation with due items, round-robin, holding one organisation at a time per worker
(`queue.hold_org`), up to `concurrency` items of an organisation in flight at once in a thread pool;
the bexio client's rate governor paces the requests. It stops when nothing is due; items waiting
for a longer back-off get a follow-up task.

One item (`attempt`): claimed and marked "sending" before anything is sent (`queue.start_attempts`),
then its sender delivers it exactly once (`Sender.deliver`: look up, else send). Success: the item
is "done" and its local consequences are saved in the same transaction. Failure: `outcome.decide`
says whether it waits and retries, stops for a person, or pauses the organisation. A lost database
connection is ridden out; a killed worker's items resume when their lease expires.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone

from aeroledger.bexio_link.connection.clients import call_context, client_for
from aeroledger.tenancy.models import Organisation

from ..models import ItemStatus, OutboxAttempt, OutboxItem, TransferBatch
from . import queue
from .db import close_kept, db_section, keep_connections, prepare_client, serialised
from .outcome import decide, is_reconnect
from .senders import OrgState, Progress, registered_kinds, sender_for

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
SLICE = 8  # items claimed at once per organisation
DB_RETRIES = 10  # consecutive database failures a worker rides out (~1 min) before giving up
MAX_ORGS_IN_PARALLEL = 4  # per worker process; the rest wait their turn (round-robin)


class Paused(Exception):
    """The organisation's outbox waits for a person (reconnect needed / not connected)."""


def concurrency_default() -> int:
    return int(getattr(settings, "BEXIO_TRANSFER_CONCURRENCY", DEFAULT_CONCURRENCY))


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# --- one item --------------------------------------------------------------------------------
def attempt(started: queue.Started, client, worker: str, org: OrgState) -> str:
    """Deliver one claimed item; returns the attempt's outcome. Raises `Paused` (item released)."""
    begun = time.monotonic()
    item = started.item
    sender = sender_for(item.kind)
    progress = Progress()
    outcome, message, http_status = OutboxAttempt.Outcome.RUNNING, "", None
    maybe = started.look_up_first or item.maybe_in_bexio
    pause = False
    try:
        with call_context(f"{item.kind}:{item.key}"):
            outcome = sender.deliver(item, client, org, progress, look_up_first=maybe)
        item.status, item.done_at = ItemStatus.DONE, timezone.now()
        item.last_error, item.last_error_status, item.next_try_at = "", None, None
        message = item.bexio_ref
        maybe = False
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the item, none is lost
        decision = decide(exc, attempts=item.attempts)
        outcome, message, http_status, pause = (
            decision.outcome,
            decision.message,
            decision.http_status,
            decision.pause,
        )
        item.status, item.next_try_at = decision.status, decision.next_try_at
        item.last_error, item.last_error_status = decision.message, decision.http_status
        if item.bexio_id:
            maybe = False  # bexio has it and we know its id: the next attempt goes on from there
        elif progress.wrote:  # the write went out: unless bexio refused it, it may be there
            maybe = not decision.refused
        if outcome == OutboxAttempt.Outcome.RETRY and not hasattr(exc, "status"):
            log.exception("%s %s failed", item.kind, item.key)
    finally:
        item.maybe_in_bexio = maybe
        item.claimed_by, item.claimed_until = "", None
        with db_section(), transaction.atomic():
            if item.status == ItemStatus.DONE:
                sender.lock_local(item)
            item.save()
            if item.status == ItemStatus.DONE:
                sender.done(item)
            OutboxAttempt.objects.filter(pk=started.attempt.pk).update(
                outcome=outcome,
                message=str(message)[:4000],
                http_status=http_status,
                duration_ms=int((time.monotonic() - begun) * 1000),
            )
    if pause:
        raise Paused(message)
    return outcome


# --- many items, many organisations ----------------------------------------------------------
@serialised
def _mark_running(org_id: int) -> None:
    TransferBatch.objects.filter(organisation_id=org_id, status=TransferBatch.Status.QUEUED).update(
        status=TransferBatch.Status.RUNNING, started_at=timezone.now()
    )


@serialised
def _pause_org(org_id: int, message: str) -> None:
    TransferBatch.objects.filter(
        organisation_id=org_id, status__in=[TransferBatch.Status.QUEUED, TransferBatch.Status.RUNNING]
    ).update(status=TransferBatch.Status.PAUSED, paused_reason=message[:2000])


@serialised
def _finish_batches(org_id: int) -> None:
    for batch in TransferBatch.objects.filter(
        organisation_id=org_id, status__in=[TransferBatch.Status.QUEUED, TransferBatch.Status.RUNNING]
    ):
        if not batch.items.filter(status__in=queue.OPEN).exists():
            TransferBatch.objects.filter(pk=batch.pk).update(
                status=TransferBatch.Status.FINISHED, finished_at=timezone.now()
            )


def _load_for_senders(items: list[OutboxItem]) -> None:
    by_kind: dict[str, list[OutboxItem]] = defaultdict(list)
    for item in items:
        by_kind[item.kind].append(item)
    for kind, group in by_kind.items():
        sender_for(kind).load(group)


class Worker:
    """Works through the due items of the organisations (all, or `org_ids`) until none is left.

    Per organisation at most `concurrency` items are in flight; organisations take turns (round-robin
    over small slices), so a big batch never starves a small one. Items waiting for a back-off shorter
    than `wait_for_retries_s` are waited for; longer waits are left to a follow-up task.
    """

    def __init__(
        self,
        *,
        org_ids=None,
        worker: str | None = None,
        concurrency: int | None = None,
        client_factory=None,
        lease_s: int = queue.LEASE_S,
        max_seconds: float | None = None,
        wait_for_retries_s: float = 30,
        on_progress=None,
        exclusive_orgs: bool = True,
    ):
        self.org_ids = org_ids
        self.worker = worker or default_worker_id()
        self.concurrency = max(1, concurrency or concurrency_default())
        self.client_factory = client_factory or client_for
        self.lease_s = lease_s
        self.max_seconds = max_seconds
        self.wait_for_retries_s = wait_for_retries_s
        self.on_progress = on_progress
        self.exclusive_orgs = exclusive_orgs
        self.stats: dict = defaultdict(int)
        self.clients: dict[int, object] = {}
        self.orgs: dict[int, OrgState] = {}
        self.paused: set[int] = set()
        self.inflight: dict[int, dict] = defaultdict(dict)  # org -> {future: item id}
        self.held: dict[int, float] = {}  # org -> until when our organisation lease needs no renewal
        self.kept: dict = {}  # the pool threads' database connections, closed at the end
        self.pool = (
            ThreadPoolExecutor(max_workers=self.concurrency * MAX_ORGS_IN_PARALLEL)
            if self.concurrency > 1
            else None
        )
        self._turn = 0
        self._last_scan = 0.0
        self._last_renew = time.monotonic()

    # the loop ----------------------------------------------------------------------------------
    def run(self) -> dict:
        started, db_failures = time.monotonic(), 0
        try:
            while self.max_seconds is None or time.monotonic() - started <= self.max_seconds:
                try:
                    claimed = self._fill_slots()
                    if not self._collect_finished() and not claimed and not self._wait_for_work():
                        break
                    self._renew_leases()
                except (OperationalError, InterfaceError) as exc:
                    # The database went away (a PostgreSQL restart, a failover): nothing is lost, every
                    # item is committed before its send and looked up after. Reconnect and carry on.
                    db_failures += 1
                    if db_failures > DB_RETRIES:
                        raise
                    self.stats["db_reconnects"] += 1
                    log.warning("outbox worker lost the database (%s); reconnecting", type(exc).__name__)
                    close_old_connections()
                    connection.close()
                    time.sleep(min(2.0 * db_failures, 10.0))
                else:
                    db_failures = 0
        finally:
            self._shut_down()
        self.stats["paused_orgs"] = len(self.paused)
        return dict(self.stats)

    def _due_orgs(self) -> list[int]:
        """Organisations with due items, rotated; not re-scanned while every busy one is nearly full."""
        in_flight = any(self.inflight.values())
        nearly_full = all(
            self.concurrency - len(d) < min(SLICE, self.concurrency) // 2 for d in self.inflight.values() if d
        )
        if in_flight and nearly_full and time.monotonic() - self._last_scan < 1.0:
            return []
        self._last_scan = time.monotonic()
        due = [o for o in queue.orgs_with_due_work(self.org_ids) if o not in self.paused]
        if due:
            self._turn = (self._turn + 1) % len(due)
            due = due[self._turn :] + due[: self._turn]
        return due

    def _fill_slots(self) -> bool:
        """Claim a slice for each organisation with free slots; True when anything was claimed."""
        claimed_any = False
        busy_orgs = sum(1 for d in self.inflight.values() if d)
        for org_id in self._due_orgs():
            free = self.concurrency - len(self.inflight[org_id])
            if free <= 0:
                continue
            if not self.inflight[org_id] and self.pool is not None and busy_orgs >= MAX_ORGS_IN_PARALLEL:
                continue
            if not self._hold(org_id) or not self._open(org_id):
                continue
            ids = queue.claim(org_id, self.worker, min(free, SLICE), lease_s=self.lease_s)
            if not ids:
                continue
            claimed_any = True
            busy_orgs += not self.inflight[org_id]
            self._dispatch(org_id, ids)
        return claimed_any

    def _hold(self, org_id: int) -> bool:
        if not self.exclusive_orgs or self.held.get(org_id, 0) >= time.monotonic():
            return True
        if not queue.hold_org(org_id, self.worker, lease_s=self.lease_s):
            return False
        self.held[org_id] = time.monotonic() + self.lease_s / 3  # re-taken (extended) after that
        return True

    def _open(self, org_id: int) -> bool:
        """The organisation's client and shared state, made once per run; False when it must wait."""
        if org_id in self.clients:
            return True
        try:
            with db_section():
                org = Organisation.objects.get(pk=org_id)
                client = prepare_client(self.client_factory(org))
                state = OrgState(org)
                for kind in registered_kinds():
                    sender_for(kind).prepare(state, client)
        except Exception as exc:
            if not is_reconnect(exc):
                raise
            self._pause(org_id, getattr(exc, "message", "") or str(exc))
            queue.let_go_org(org_id, self.worker)
            return False
        self.clients[org_id], self.orgs[org_id] = client, state
        _mark_running(org_id)
        return True

    def _dispatch(self, org_id: int, ids: list[int]) -> None:
        started = queue.start_attempts(ids, self.worker, load=_load_for_senders)
        self._look_up_together(org_id, started)
        for item_id in ids:
            s = started.get(item_id)
            if s is None:
                continue  # no longer ours (another worker's lease, or done meanwhile)
            if self.pool is None:
                try:
                    self._record(org_id, attempt(s, self.clients[org_id], self.worker, self.orgs[org_id]))
                except Paused as exc:
                    self._record(org_id, exc)
                    queue.release(ids, self.worker)
                    break
            else:
                future = self.pool.submit(self._run_in_thread, s, self.clients[org_id], self.orgs[org_id])
                self.inflight[org_id][future] = item_id

    def _look_up_together(self, org_id: int, started: dict) -> None:
        """Items that may be in bexio are looked up per kind in one go (a failure leaves each item
        to look itself up in its own attempt)."""
        by_kind: dict[str, list] = defaultdict(list)
        for s in started.values():
            if s.look_up_first and not s.item.bexio_id:
                by_kind[s.item.kind].append(s.item)
        for kind, items in by_kind.items():
            if len(items) < 2:
                continue
            try:
                with call_context(f"{kind}:look-up"):
                    sender_for(kind).find_many(items, self.clients[org_id], self.orgs[org_id])
            except Exception as exc:  # noqa: BLE001 - each attempt looks its item up again
                log.info("batched look-up of %s items failed: %s", kind, exc)
                for item in items:
                    item.__dict__.pop("looked_up", None)

    def _run_in_thread(self, s: queue.Started, client, org: OrgState) -> str:
        try:
            return attempt(s, client, self.worker, org)
        finally:
            if threading.current_thread() is not threading.main_thread():
                keep_connections(self.kept)

    def _collect_finished(self) -> bool:
        """Record the items that finished; True while any item is in flight."""
        futures = [f for d in self.inflight.values() for f in d]
        if not futures:
            return False
        done, _pending = wait(futures, timeout=0.5, return_when=FIRST_COMPLETED)
        for org_id, futs in self.inflight.items():
            for future in [f for f in futs if f in done]:
                futs.pop(future)
                exc = future.exception()
                self._record(org_id, exc if exc is not None else future.result())
        return True

    def _wait_for_work(self) -> bool:
        """Nothing in flight, nothing claimed: wait for a back-off or a lease; False to stop."""
        delay = queue.seconds_until_work(self.org_ids, self.paused)
        if delay is None:
            return False
        if delay > self.wait_for_retries_s:
            self.stats["next_try_in_s"] = int(delay)
            return False
        time.sleep(max(0.05, min(delay, 1.0)))
        return True

    def _renew_leases(self) -> None:
        if time.monotonic() - self._last_renew <= self.lease_s / 3:
            return
        self._last_renew = time.monotonic()
        for org_id, futs in self.inflight.items():
            if futs:
                queue.hold_org(org_id, self.worker, lease_s=self.lease_s)
                queue.renew(futs.values(), self.worker, lease_s=self.lease_s)

    def _record(self, org_id: int, outcome_or_exc) -> None:
        if isinstance(outcome_or_exc, Paused):
            self.stats["paused"] += 1
            self._pause(org_id, str(outcome_or_exc))
        elif isinstance(outcome_or_exc, BaseException):
            self.stats["error"] += 1
            log.error("outbox worker error: %r", outcome_or_exc)
        else:
            self.stats[str(outcome_or_exc)] += 1
        if self.on_progress:
            self.on_progress(dict(self.stats))

    def _pause(self, org_id: int, message: str) -> None:
        self.paused.add(org_id)
        _pause_org(org_id, message)

    def _shut_down(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            close_kept(self.kept)
        for org_id in set(self.inflight) | set(self.clients):
            _finish_batches(org_id)
            queue.let_go_org(org_id, self.worker)
        for org_id in self.paused:
            with db_section():
                OutboxItem.objects.filter(organisation_id=org_id, claimed_by=self.worker).update(
                    claimed_by="", claimed_until=None
                )
            queue.let_go_org(org_id, self.worker)


def run_outbox(**kwargs) -> dict:
    """Work through the due items (see `Worker`); returns counters by outcome."""
    return Worker(**kwargs).run()
