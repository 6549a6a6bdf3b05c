"""Invoice transfer to bexio: exactly once, resumable, concurrent, fair between organisations.

The pieces, top to bottom:
- `start_transfer(org, invoice_ids=None, user=None)` marks approved invoices pending in a new
  `TransferBatch` and enqueues the `transfer_batch` task (a db_worker runs it).
- `run_transfers(...)` is what the task runs: it claims small slices of due `TransferState` rows per
  organisation, round-robin, and works on up to `concurrency` invoices per organisation at once in a
  thread pool; the bexio client's rate governor paces the requests.
- `transfer_invoice(invoice, client)` transfers one invoice (the unit the above runs in parallel).
- `transfer_invoices(org, invoice_ids=None, client=None)` does all of an organisation's due
  invoices now, in this process (used by the CLI and tests).

Exactly once: a state row is marked "sending" (attempts + 1) and committed *before* the create is
sent (by `prepare` for a whole claimed slice at once, in one transaction, before its rows go to the
threads). Every attempt after the first looks the invoice up in bexio by `api_reference` (our UUID)
first and adopts what it finds, so a timeout, dropped connection, 5xx or crash between bexio saving
and us storing never creates a second invoice. More than 150 positions: the create carries the first
150, the rest are added one by one and counted in `positions_confirmed`; a resumed attempt recounts
them from bexio before adding more.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.bexio_link.masterdata.contacts import ContactSyncError
from aeroledger.billing.models import Invoice, InvoiceStatus
from bexio import errors

from .models import OrgLease, TransferAttempt, TransferBatch, TransferState, TransferStatus, backoff
from .plan import InvoicePlan, plan_invoice

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8
SLICE = 8  # rows claimed at once per organisation
# A claimed row / an organisation's batch is ours for this long (renewed while working); after a
# worker is killed, its invoices wait this long before another worker resumes them.
LEASE_S = int(os.environ.get("BEXIO_TRANSFER_LEASE_S", "120"))
DB_RETRIES = 10  # consecutive database failures a worker rides out (~1 min) before giving up
MAX_ATTEMPTS = 10  # transient failures before a person has to look
MAX_ORGS_IN_PARALLEL = 4  # per worker process; the rest wait their turn (round-robin)
ITEM_TYPES = {"KbPositionArticle", "KbPositionCustom", "KbPositionDiscount"}


class Paused(Exception):
    """The organisation's transfers must wait for a person (reconnect needed / not connected)."""


def concurrency_default() -> int:
    return int(getattr(settings, "BEXIO_TRANSFER_CONCURRENCY", DEFAULT_CONCURRENCY))


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# --- SQLite: one writer at a time -----------------------------------------------------------------
_sqlite_lock = threading.RLock()


def _needs_serialising() -> bool:
    """SQLite has one writer at a time: its busy handler makes competing threads sleep and retry,
    and an in-memory SQLite (the test database) is one shared cache whose table locks fail at once.
    So the transfer threads take turns in this process (measured faster, too); PostgreSQL locks rows
    by itself."""
    return connection.vendor == "sqlite"


@contextlib.contextmanager
def db_section():
    """Serialise the transfer threads' database work where the database cannot do it itself."""
    if _needs_serialising():
        with _sqlite_lock:
            yield
    else:
        yield


def serialised(func):
    """Run `func` inside `db_section()` (for the functions the coordinator thread calls)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with db_section():
            return func(*args, **kwargs)

    return wrapper


@functools.cache
def _call_context_manager():
    """connection's `call_context`, imported once (an import per invoice costs the threads the
    import lock)."""
    try:
        from aeroledger.bexio_link.connection.services import call_context
    except ImportError:  # pragma: no cover - connection app always present
        return None
    return call_context


def _call_context(label: str):
    manager = _call_context_manager()
    return manager(label) if manager is not None else contextlib.nullcontext()


def _prepare_client(client):
    """On an in-memory SQLite, the client's database work (call-log hook, token store) joins
    `db_section`."""
    if not _needs_serialising():
        return client
    hook = getattr(client, "on_request", None)
    if hook is not None and not getattr(hook, "_serialised", False):
        client.on_request = serialised(hook)
        client.on_request._serialised = True
    provider = getattr(client, "token_provider", None)
    if provider is not None and hasattr(provider, "access_token"):
        provider.access_token()  # load (or refresh) the token once, here, not in eight threads
    return client


def client_for(org):
    from aeroledger.bexio_link.connection.services import client_for as connection_client_for

    return connection_client_for(org)


def _is_reconnect(exc: BaseException) -> bool:
    if isinstance(exc, errors.ReconnectRequired | errors.AuthenticationError):
        return True
    try:
        from aeroledger.bexio_link.connection.services import NotConnected
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, NotConnected)


# --- starting ------------------------------------------------------------------------------------
def start_transfer(org, invoice_ids=None, *, user=None, enqueue: bool = True) -> TransferBatch:
    """Mark the approved invoices (all, or `invoice_ids`) pending in a new batch; enqueue the task.

    Invoices already transferred are left alone; failed ones are retried.
    """
    now = timezone.now()
    with transaction.atomic():
        batch = TransferBatch.objects.create(
            organisation=org, created_by=user, status=TransferBatch.Status.QUEUED
        )
        invoices = Invoice.objects.filter(organisation=org).filter(
            Q(status=InvoiceStatus.APPROVED)
            | Q(bexio_transfer__status__in=[TransferStatus.PENDING, TransferStatus.FAILED])
        )
        if invoice_ids:
            invoices = invoices.filter(pk__in=list(invoice_ids))
        existing = {
            s.invoice_id: s for s in TransferState.objects.filter(organisation=org, invoice__in=invoices)
        }
        new = []
        for inv_id in invoices.values_list("pk", flat=True):
            state = existing.get(inv_id)
            if state is None:
                new.append(TransferState(organisation=org, invoice_id=inv_id, batch=batch, created_at=now))
        TransferState.objects.bulk_create(new, ignore_conflicts=True)
        TransferState.objects.filter(
            organisation=org, invoice__in=invoices, status__in=[TransferStatus.PENDING, TransferStatus.FAILED]
        ).update(batch=batch, status=TransferStatus.PENDING, next_try_at=None)
        # A row still "sending" (a worker died) joins the batch; its lease decides when it resumes.
        TransferState.objects.filter(
            organisation=org, invoice__in=invoices, status=TransferStatus.SENDING
        ).update(batch=batch)
        if enqueue:
            transaction.on_commit(lambda: enqueue_batch(batch))
    return batch


def retry_failed(org, state_ids=None, *, user=None, enqueue: bool = True) -> TransferBatch:
    """Put failed invoices (all or `state_ids`) back in the queue, in a new batch."""
    failed = TransferState.objects.filter(organisation=org, status=TransferStatus.FAILED)
    if state_ids is not None:
        failed = failed.filter(pk__in=list(state_ids))
    return start_transfer(
        org, list(failed.values_list("invoice_id", flat=True)) or [0], user=user, enqueue=enqueue
    )


def enqueue_batch(batch: TransferBatch) -> None:
    from .tasks import transfer_batch

    result = transfer_batch.enqueue(organisation_id=batch.organisation_id, batch_id=batch.pk)
    TransferBatch.objects.filter(pk=batch.pk).update(task_id=str(getattr(result, "id", ""))[:64])


# --- claiming ------------------------------------------------------------------------------------
def _due(qs, now):
    return (
        qs.filter(status__in=[TransferStatus.PENDING, TransferStatus.SENDING])
        .filter(Q(next_try_at__isnull=True) | Q(next_try_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
    )


@serialised
def claim_states(org_id: int, worker: str, limit: int, *, lease_s: int = LEASE_S) -> list[int]:
    """Claim up to `limit` due rows of one organisation for `worker`; returns their ids.

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so concurrent workers never claim the same row.
    SQLite: one atomic UPDATE (the database has a single writer) stamped with a unique lease end.
    """
    now = timezone.now()
    until = now + timedelta(seconds=lease_s, microseconds=uuid.uuid4().int % 997)
    base = TransferState.objects.filter(organisation_id=org_id)
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(
                _due(base, now)
                .select_for_update(skip_locked=True)
                .order_by("id")
                .values_list("id", flat=True)[:limit]
            )
            if ids:
                base.filter(pk__in=ids).update(claimed_by=worker, claimed_until=until)
        return ids
    with transaction.atomic():
        ids = list(_due(base, now).order_by("id").values_list("id", flat=True)[:limit])
        if not ids:
            return []
        _due(base.filter(pk__in=ids), now).update(claimed_by=worker, claimed_until=until)
        return list(
            base.filter(pk__in=ids, claimed_by=worker, claimed_until=until).values_list("id", flat=True)
        )


@serialised
def release(state_ids, worker: str) -> None:
    TransferState.objects.filter(pk__in=list(state_ids), claimed_by=worker).update(
        claimed_by="", claimed_until=None
    )


@serialised
def renew(state_ids, worker: str, *, lease_s: int = LEASE_S) -> None:
    until = timezone.now() + timedelta(seconds=lease_s)
    TransferState.objects.filter(pk__in=list(state_ids), claimed_by=worker).update(claimed_until=until)


@serialised
def hold_org(org_id: int, worker: str, *, lease_s: int = LEASE_S) -> bool:
    """Take or extend the organisation's lease: one worker runs an organisation's transfers."""
    now = timezone.now()
    OrgLease.objects.get_or_create(organisation_id=org_id)
    n = (
        OrgLease.objects.filter(organisation_id=org_id)
        .filter(Q(claimed_by=worker) | Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_by=worker, claimed_until=now + timedelta(seconds=lease_s))
    )
    return n == 1


@serialised
def let_go_org(org_id: int, worker: str) -> None:
    OrgLease.objects.filter(organisation_id=org_id, claimed_by=worker).update(
        claimed_by="", claimed_until=None
    )


# --- one invoice ---------------------------------------------------------------------------------
class _Fail(Exception):
    """Stop this invoice: a person has to act (message shown verbatim)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


def _dec(value) -> Decimal:
    try:
        return Decimal(str(value if value is not None else "0"))
    except ArithmeticError:
        return Decimal("0")


def _items(bexio_invoice) -> list:
    positions = getattr(bexio_invoice, "positions", None) or []
    return [p for p in positions if getattr(p, "type", None) in ITEM_TYPES]


def _status_id(bexio_invoice) -> int | None:
    value = getattr(bexio_invoice, "kb_item_status_id", None)
    return int(value) if value is not None else None


def _position_model(p):
    from bexio import models as bm

    body = p.body(inline=False)
    body = {k: v for k, v in body.items() if v is not None}
    cls = {
        "article": bm.PositionArticleCreate,
        "custom": bm.PositionCustomCreate,
        "discount": bm.PositionDiscountCreate,
    }[p.kind]
    return cls(**body)


def verify(bexio_invoice, plan: InvoicePlan) -> list[str]:
    """Differences between what bexio has and what we planned (empty = it matches)."""
    problems = []
    items = _items(bexio_invoice)
    if len(items) != len(plan.positions):
        problems.append(
            _("bexio has %(got)s positions, Aeroledger %(want)s.")
            % {"got": len(items), "want": len(plan.positions)}
        )
    total = _dec(getattr(bexio_invoice, "total", None))
    if abs(total - plan.expected_total) >= Decimal("0.01"):
        problems.append(
            _("bexio's total is %(got)s, Aeroledger's %(want)s.")
            % {"got": total, "want": plan.expected_total}
        )
    return problems


def _save(state: TransferState, *fields: str) -> None:
    with db_section():
        state.save(update_fields=[*fields, "updated_at"])


def _batch_mapping(mapping, client=None):
    """The organisation's mapping, read once for a whole run of transfers.

    masterdata's `Mapping` caches its lookups (records by id, currency/country/language ids) and the
    organisation-wide `problems()` once per instance, so every invoice of the run reuses them. A
    change of the mapping during a run applies from the next run on.
    """
    if client is not None and not mapping.contact_group_id:
        # The members' contact group, created once here (not by eight threads at once).
        from aeroledger.bexio_link.masterdata.contacts import ensure_contact_group

        try:
            ensure_contact_group(client, mapping)
        except errors.BexioError as exc:  # the invoices report it, one by one
            log.warning("contact group for %s: %s", mapping.org, exc)
    # Build the mapping's lookups (records by id, problems, currency) here, once, before the threads.
    mapping.problems()
    mapping.currency_id  # noqa: B018 - warms the index
    return mapping


def _ensure_contact(client, member, mapping=None) -> int:
    """masterdata's ensure_contact, reusing the organisation's mapping when we have it."""
    from aeroledger.bexio_link.masterdata.services import ensure_contact

    return ensure_contact(client, member, mapping=mapping)


def _with_invoices(qs):
    """State rows with everything a transfer reads: invoice, member (and its contact link),
    organisation and the positions (with aircraft and aerodrome): two queries for any number."""
    from django.db.models import Prefetch

    from aeroledger.billing.models import InvoicePosition

    positions = InvoicePosition.objects.select_related("aircraft", "aerodrome").order_by("pos", "id")
    return qs.select_related("invoice__member__bexio_link", "invoice__organisation").prefetch_related(
        Prefetch("invoice__positions", queryset=positions)
    )


def _share_organisation(invoice) -> None:
    """The member is of the invoice's organisation: one object, not one more join."""
    if invoice.member.organisation_id == invoice.organisation_id:
        invoice.member.organisation = invoice.organisation


@serialised
def prepare(state_ids, worker: str) -> dict[int, TransferState]:
    """Start the attempts of a slice of just claimed rows at once, before any of them is sent.

    What `_process` does per row when it runs alone, here in one transaction for the slice: read
    the rows with their invoices, members and positions, mark them "sending" (attempts + 1), mark an
    attempt still "running" from a stopped worker interrupted, and log the new attempts. Committed
    before the rows go to the threads, so exactly-once holds as with one row at a time. Returns the
    prepared rows (`_prepared` = (was_sending, attempt)); a row not ours (any more) is left out and
    `_process` handles it alone.
    """
    now = timezone.now()
    with transaction.atomic():
        states = {
            s.pk: s
            for s in _with_invoices(
                TransferState.objects.filter(
                    pk__in=list(state_ids),
                    claimed_by=worker,
                    status__in=[TransferStatus.PENDING, TransferStatus.SENDING],
                )
            )
        }
        if not states:
            return {}
        interrupted = [pk for pk, s in states.items() if s.status == TransferStatus.SENDING]
        if interrupted:  # attempts still "running" belonged to a worker stopped (killed) midway
            TransferAttempt.objects.filter(
                state_id__in=interrupted, outcome=TransferAttempt.Outcome.RUNNING
            ).update(outcome=TransferAttempt.Outcome.INTERRUPTED)
        TransferState.objects.filter(pk__in=list(states)).update(
            status=TransferStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
        )
        attempts = [
            TransferAttempt(
                organisation_id=s.organisation_id, state=s, batch_id=s.batch_id, worker=worker[:100], at=now
            )
            for s in states.values()
        ]
        if connection.features.can_return_rows_from_bulk_insert:
            TransferAttempt.objects.bulk_create(attempts)
        else:  # pragma: no cover - SQLite >= 3.35 and PostgreSQL return the ids
            for attempt in attempts:
                attempt.save()
    for state, attempt in zip(states.values(), attempts, strict=True):
        _share_organisation(state.invoice)
        was_sending = state.status == TransferStatus.SENDING
        state.status, state.attempts, state.updated_at = TransferStatus.SENDING, state.attempts + 1, now
        state._prepared = (was_sending, attempt)
    return states


def _load_state(state_id: int, preloaded: TransferState | None = None) -> TransferState:
    """The state row, fresh (inside the caller's transaction), with its invoice (the given one's,
    when it is the same invoice, else read here)."""
    if preloaded is None:
        state = _with_invoices(TransferState.objects.all()).get(pk=state_id)
        _share_organisation(state.invoice)
        return state
    state = TransferState.objects.get(pk=state_id)
    if state.invoice_id == preloaded.invoice_id:
        state.invoice = preloaded.invoice
    return state


def _find_by_reference(client, api_reference: str):
    from bexio import Criterion

    found = client.invoices.search([Criterion.eq("api_reference", api_reference)])
    found = [f for f in found if str(getattr(f, "api_reference", "")) == api_reference]
    return min(found, key=lambda f: f.id) if found else None


def _process(state_id: int, client, worker: str, *, mapping=None, preloaded=None) -> str:
    """Transfer the invoice of one claimed state row. Returns the attempt's outcome.

    Raises `Paused` when the organisation has to reconnect (the row is released, nothing lost).
    """
    started = time.monotonic()
    prepared = getattr(preloaded, "_prepared", None)
    if prepared is not None:  # `prepare` started this attempt for the whole slice
        state = preloaded
        was_sending, attempt = prepared
    else:
        with db_section(), transaction.atomic():
            state = _load_state(state_id, preloaded)
            if state.claimed_by != worker:
                return "lost"
            if state.status == TransferStatus.DONE:
                release([state.pk], worker)
                return "done"
            was_sending = state.status == TransferStatus.SENDING
            state.status = TransferStatus.SENDING
            state.attempts += 1
            state.save(update_fields=["status", "attempts", "updated_at"])
            if was_sending:  # an attempt still "running" belonged to a worker stopped (killed) midway
                TransferAttempt.objects.filter(state=state, outcome=TransferAttempt.Outcome.RUNNING).update(
                    outcome=TransferAttempt.Outcome.INTERRUPTED
                )
            attempt = TransferAttempt.objects.create(
                organisation_id=state.organisation_id,
                state=state,
                batch_id=state.batch_id,
                worker=worker[:100],
            )
    invoice = state.invoice
    outcome = TransferAttempt.Outcome.RUNNING
    message = ""
    http_status = None
    try:
        with _call_context(f"transfer:{invoice.uuid}"):
            outcome = _transfer(state, invoice, client, was_sending=was_sending, mapping=mapping)
        message = state.document_nr
    except ContactSyncError as exc:
        outcome, message = TransferAttempt.Outcome.FAILED, str(exc)
        state.status = TransferStatus.FAILED
        state.last_error, state.last_error_status = message, None
        state.next_try_at = None
    except _Fail as exc:
        outcome, message, http_status = TransferAttempt.Outcome.FAILED, exc.message, exc.status
        state.status = TransferStatus.FAILED
        state.last_error, state.last_error_status = exc.message, exc.status
        state.next_try_at = None
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row, none is lost
        http_status = getattr(exc, "status", None)
        message = getattr(exc, "message", "") or str(exc) or type(exc).__name__
        if _is_reconnect(exc):
            outcome = TransferAttempt.Outcome.PAUSED
            state.status = (
                TransferStatus.PENDING if state.bexio_id is None and not was_sending else state.status
            )
            state.next_try_at = None
        elif (
            isinstance(exc, errors.BexioError)
            and exc.status is not None
            and 400 <= exc.status < 500
            and exc.status != 429
        ):
            outcome = TransferAttempt.Outcome.FAILED
            state.status = TransferStatus.FAILED
            state.next_try_at = None
        elif state.attempts >= MAX_ATTEMPTS:
            outcome = TransferAttempt.Outcome.FAILED
            state.status = TransferStatus.FAILED
            message = _("Gave up after %(n)s attempts: %(message)s") % {
                "n": state.attempts,
                "message": message,
            }
        else:
            # Transient (5xx, timeout, dropped, 429 after the client's retries, a crash): try again
            # later. The row stays "sending" when bexio may have the invoice: the next attempt looks
            # it up first.
            outcome = TransferAttempt.Outcome.RETRY
            state.next_try_at = timezone.now() + backoff(state.attempts)
            if not isinstance(exc, errors.BexioError):
                log.exception("transfer of invoice %s failed", invoice.pk)
        state.last_error, state.last_error_status = message, http_status
    finally:
        state.claimed_by, state.claimed_until = "", None
        with db_section(), transaction.atomic():
            state.save()
            if getattr(state, "mark_invoice", False):
                _lock_invoice(invoice, issued=state.issued)
            TransferAttempt.objects.filter(pk=attempt.pk).update(
                outcome=outcome,
                message=message[:4000],
                http_status=http_status,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
    if outcome == TransferAttempt.Outcome.PAUSED:
        raise Paused(message)
    return outcome


def _transfer(state: TransferState, invoice: Invoice, client, *, was_sending: bool, mapping=None) -> str:
    outcome = TransferAttempt.Outcome.CREATED
    bexio_invoice = None
    if state.bexio_id is None and (was_sending or state.attempts > 1):
        # An earlier attempt may have reached bexio: look it up before sending anything.
        found = _find_by_reference(client, str(invoice.uuid))
        if found is not None:
            outcome = TransferAttempt.Outcome.ADOPTED
            state.bexio_id = found.id
            state.document_nr = found.document_nr or ""
            state.contact_id = getattr(found, "contact_id", None) or state.contact_id
            _save(state, "bexio_id", "document_nr", "contact_id")
    with db_section():
        plan = plan_invoice(invoice, mapping=mapping, with_contact=False)
        state.positions_total = len(plan.positions)
        if state.bexio_id is None:
            if plan.blockers:
                raise _Fail("; ".join(plan.blockers))
            state.contact_id = _ensure_contact(client, invoice.member, mapping)
    if state.bexio_id is None:
        bexio_invoice = client.invoices.create(plan.create_body(state.contact_id))
        state.bexio_id = bexio_invoice.id
        state.document_nr = bexio_invoice.document_nr or ""
        state.bexio_status = _status_id(bexio_invoice)
        state.positions_confirmed = len(_items(bexio_invoice))
        if state.positions_confirmed < len(plan.positions):
            # Positions follow one by one: remember the invoice now (a crash before the final save
            # is covered anyway: the row stays "sending" and the next attempt looks it up).
            _save(state, "bexio_id", "document_nr", "bexio_status", "positions_confirmed", "positions_total")
    else:
        if outcome != TransferAttempt.Outcome.ADOPTED:
            outcome = TransferAttempt.Outcome.ADOPTED
        try:
            bexio_invoice = client.invoices.get(state.bexio_id)
        except errors.NotFoundError:
            state.gone_in_bexio = True
            raise _Fail(
                _("The invoice %(nr)s no longer exists in bexio.") % {"nr": state.document_nr}, 404
            ) from None
        state.positions_confirmed = len(_items(bexio_invoice))
        state.bexio_status = _status_id(bexio_invoice)
        _save(state, "positions_confirmed", "bexio_status", "positions_total")

    # More than 150 positions: add the rest one by one, counting each one bexio confirmed.
    added = False
    positions_api = (
        client.invoices.positions(state.bexio_id) if state.positions_confirmed < len(plan.positions) else None
    )
    while state.positions_confirmed < len(plan.positions):
        positions_api.create(_position_model(plan.positions[state.positions_confirmed]))
        state.positions_confirmed += 1
        _save(state, "positions_confirmed")
        added = True
    if added:
        bexio_invoice = client.invoices.get(state.bexio_id)

    problems = verify(bexio_invoice, plan)
    state.bexio_total = _dec(getattr(bexio_invoice, "total", None))
    state.bexio_status = _status_id(bexio_invoice)
    state.document_nr = getattr(bexio_invoice, "document_nr", "") or state.document_nr
    state.bexio_updated_at = _bexio_ts(getattr(bexio_invoice, "updated_at", None))
    state.mark_invoice = True  # the invoice is in bexio: locked here ("transferred") in the final save
    if problems:
        raise _Fail(" ".join(problems))

    if plan.issue and not state.issued:
        if state.bexio_status in (None, 7):
            client.invoices.issue(state.bexio_id)
            state.bexio_status = 8
        state.issued = True  # a crash before the final save: the next attempt sees bexio's status
    if plan.send and not state.sent and plan.send_to:
        from bexio.models import InvoiceSend

        client.invoices.send(
            state.bexio_id,
            InvoiceSend(
                recipient_email=plan.send_to,
                subject=plan.header.get("title") or state.document_nr,
                message=_("Your invoice %(nr)s: [Network Link]") % {"nr": state.document_nr},
                mark_as_open=True,
                attach_pdf=True,
            ),
        )
        state.sent = True
        _save(state, "sent")
    state.status = TransferStatus.DONE
    state.done_at = timezone.now()
    state.last_error, state.last_error_status = "", None
    return outcome


def _lock_invoice(invoice: Invoice, *, issued: bool) -> None:
    """The invoice is in bexio: transferred (and open, once issued) here."""
    if invoice.status == InvoiceStatus.APPROVED:
        invoice.mark_transferred()
    if issued and invoice.status == InvoiceStatus.TRANSFERRED:
        invoice.set_status_from_bexio(InvoiceStatus.OPEN)


def _bexio_ts(value) -> str:
    """bexio's updated_at as its own Zurich local "YYYY-MM-DD HH:MM:SS" string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:19]
    from zoneinfo import ZoneInfo

    if getattr(value, "tzinfo", None) is not None:
        value = value.astimezone(ZoneInfo("Europe/Zurich"))
    return value.strftime("%Y-%m-%d %H:%M:%S")


def transfer_invoice(
    invoice: Invoice, client, *, worker: str | None = None, batch: TransferBatch | None = None
) -> TransferState:
    """Transfer one invoice now (claims its row; a row leased by another worker is left alone)."""
    worker = worker or default_worker_id()
    state, _created = TransferState.objects.get_or_create(
        invoice=invoice, defaults={"organisation_id": invoice.organisation_id, "batch": batch}
    )
    if state.status == TransferStatus.FAILED:
        TransferState.objects.filter(pk=state.pk).update(status=TransferStatus.PENDING, next_try_at=None)
    now = timezone.now()
    claimed = (
        TransferState.objects.filter(pk=state.pk)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now) | Q(claimed_by=worker))
        .update(claimed_by=worker, claimed_until=now + timedelta(seconds=LEASE_S))
    )
    if claimed:
        _process(state.pk, client, worker)
    state.refresh_from_db()
    return state


# --- many invoices, many organisations -----------------------------------------------------------
@serialised
def _orgs_with_due_work(org_ids=None) -> list[int]:
    qs = _due(TransferState.objects.all(), timezone.now())
    if org_ids is not None:
        qs = qs.filter(organisation_id__in=list(org_ids))
    return sorted(set(qs.values_list("organisation_id", flat=True).distinct()))


@serialised
def _seconds_until_work(org_ids=None, paused=()) -> float | None:
    """How long until a row becomes claimable: back-off ends, or another worker's lease expires.

    None: no row is waiting at all (everything is done or failed).
    """
    now = timezone.now()
    qs = TransferState.objects.filter(status__in=[TransferStatus.PENDING, TransferStatus.SENDING])
    if org_ids is not None:
        qs = qs.filter(organisation_id__in=list(org_ids))
    if paused:
        qs = qs.exclude(organisation_id__in=list(paused))
    if not qs.exists():
        return None
    times = [
        qs.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)).aggregate(t=Min("next_try_at"))[
            "t"
        ],
        qs.filter(claimed_until__gt=now).aggregate(t=Min("claimed_until"))["t"],
        OrgLease.objects.filter(
            organisation_id__in=qs.values("organisation_id"), claimed_until__gt=now
        ).aggregate(t=Min("claimed_until"))["t"],
    ]
    times = [t for t in times if t is not None]
    if not times:
        return 0.0
    return max(0.0, (min(times) - now).total_seconds())


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
        if not batch.states.filter(status__in=[TransferStatus.PENDING, TransferStatus.SENDING]).exists():
            TransferBatch.objects.filter(pk=batch.pk).update(
                status=TransferBatch.Status.FINISHED, finished_at=timezone.now()
            )


def _run_one(state_id, client, worker, mapping, preloaded=None, kept=None):
    try:
        return _process(state_id, client, worker, mapping=mapping, preloaded=preloaded)
    finally:
        if threading.current_thread() is not threading.main_thread():
            if kept is None:
                close_old_connections()
            else:
                _keep_connections(kept)


def _keep_connections(kept: dict) -> None:
    """A pool thread keeps its database connections from one invoice to the next (opening one costs
    more CPU than a transfer's queries); a broken one (e.g. PostgreSQL restarted) is closed, so the
    next invoice reconnects. `run_transfers` closes the kept ones when its pool has finished."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        conn.close_at = None  # not "obsolete" after CONN_MAX_AGE: closed at the end of the run
        conn.close_if_unusable_or_obsolete()
        if conn.connection is not None:
            kept[(threading.get_ident(), conn.alias)] = conn


def _close_kept(kept: dict) -> None:
    for conn in kept.values():
        conn.inc_thread_sharing()  # its thread is idle (the pool has shut down)
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - a broken connection is gone anyway
            log.debug("closing a transfer thread's connection failed", exc_info=True)
        finally:
            conn.dec_thread_sharing()
    kept.clear()


def run_transfers(
    *,
    org_ids=None,
    worker: str | None = None,
    concurrency: int | None = None,
    client_factory=None,
    lease_s: int = LEASE_S,
    max_seconds: float | None = None,
    wait_for_retries_s: float = 30,
    on_progress=None,
    exclusive_orgs: bool = True,
) -> dict:
    """Work through due transfers of the organisations (all, or `org_ids`) until none is left.

    Per organisation at most `concurrency` invoices are in flight; organisations take turns
    (round-robin over small slices), so a big batch never starves a small one. Rows waiting for a
    back-off shorter than `wait_for_retries_s` are waited for; longer waits are left to a follow-up
    task (see tasks.transfer_batch). Returns counters by outcome.
    """
    from aeroledger.tenancy.models import Organisation

    worker = worker or default_worker_id()
    concurrency = max(1, concurrency or concurrency_default())
    client_factory = client_factory or client_for
    started = time.monotonic()
    stats: dict = defaultdict(int)
    clients: dict[int, object] = {}
    mappings: dict[int, object] = {}
    paused: set[int] = set()
    inflight: dict[int, dict] = defaultdict(dict)  # org -> {future: state id}
    pool = ThreadPoolExecutor(max_workers=concurrency * MAX_ORGS_IN_PARALLEL) if concurrency > 1 else None
    kept: dict = {}  # the pool threads' database connections, closed at the end
    last_renew = time.monotonic()
    last_scan = 0.0
    held: dict[int, float] = {}  # org -> until when our organisation lease needs no renewal
    turn = 0
    db_failures = 0

    def handle(org_id, outcome_or_exc):
        if isinstance(outcome_or_exc, Paused):
            paused.add(org_id)
            stats["paused"] += 1
            _pause_org(org_id, str(outcome_or_exc))
        elif isinstance(outcome_or_exc, BaseException):
            stats["error"] += 1
            log.error("transfer worker error: %r", outcome_or_exc)
        else:
            stats[str(outcome_or_exc)] += 1
        if on_progress:
            on_progress(dict(stats))

    try:
        while True:
            try:
                if max_seconds is not None and time.monotonic() - started > max_seconds:
                    break
                # Look for due work when a slot is worth filling: an organisation has no invoice in
                # flight, or at least a small slice of slots is free (not after every single invoice).
                in_flight = sum(len(d) for d in inflight.values())
                if (
                    in_flight
                    and all(
                        concurrency - len(d) < min(SLICE, concurrency) // 2 for d in inflight.values() if d
                    )
                    and time.monotonic() - last_scan < 1.0
                ):
                    due = []
                else:
                    last_scan = time.monotonic()
                    due = [o for o in _orgs_with_due_work(org_ids) if o not in paused]
                if due:
                    turn = (turn + 1) % len(due)
                    due = due[turn:] + due[:turn]
                busy_orgs = sum(1 for o in inflight if inflight[o])
                claimed_any = False
                for org_id in due:
                    free = concurrency - len(inflight[org_id])
                    if free <= 0:
                        continue
                    if not inflight[org_id] and pool is not None and busy_orgs >= MAX_ORGS_IN_PARALLEL:
                        continue
                    if exclusive_orgs and held.get(org_id, 0) < time.monotonic():
                        if not hold_org(org_id, worker, lease_s=lease_s):
                            continue
                        held[org_id] = time.monotonic() + lease_s / 3  # re-taken (extended) after that

                    if org_id not in clients:
                        try:
                            with db_section():
                                org = Organisation.objects.get(pk=org_id)
                                clients[org_id] = _prepare_client(client_factory(org))
                                from aeroledger.bexio_link.masterdata.services import mapping_for

                                mappings[org_id] = _batch_mapping(mapping_for(org), clients[org_id])
                        except Exception as exc:
                            if not _is_reconnect(exc):
                                raise
                            paused.add(org_id)
                            _pause_org(org_id, getattr(exc, "message", "") or str(exc))
                            let_go_org(org_id, worker)
                            stats["paused"] += 1
                            continue
                        _mark_running(org_id)
                    ids = claim_states(org_id, worker, min(free, SLICE), lease_s=lease_s)
                    if not ids:
                        continue
                    claimed_any = True
                    if not inflight[org_id]:
                        busy_orgs += 1
                    loaded = prepare(ids, worker)
                    for sid in ids:
                        if pool is None:
                            try:
                                outcome = _process(
                                    sid,
                                    clients[org_id],
                                    worker,
                                    mapping=mappings[org_id],
                                    preloaded=loaded.get(sid),
                                )
                                handle(org_id, outcome)
                            except Paused as exc:
                                handle(org_id, exc)
                                release(ids, worker)
                                break
                        else:
                            fut = pool.submit(
                                _run_one,
                                sid,
                                clients[org_id],
                                worker,
                                mappings[org_id],
                                loaded.get(sid),
                                kept,
                            )
                            inflight[org_id][fut] = sid
                all_futures = [f for d in inflight.values() for f in d]
                if all_futures:
                    done, _pending = wait(all_futures, timeout=0.5, return_when=FIRST_COMPLETED)
                    for org_id in list(inflight):
                        for fut in [f for f in inflight[org_id] if f in done]:
                            inflight[org_id].pop(fut)
                            exc = fut.exception()
                            handle(org_id, exc if exc is not None else fut.result())
                elif not claimed_any:
                    delay = _seconds_until_work(org_ids, paused)
                    if delay is None:
                        break
                    if delay > wait_for_retries_s:
                        stats["next_try_in_s"] = int(delay)
                        break
                    time.sleep(max(0.05, min(delay, 1.0)))
                if time.monotonic() - last_renew > lease_s / 3:
                    last_renew = time.monotonic()
                    for org_id, futs in inflight.items():
                        if futs:
                            hold_org(org_id, worker, lease_s=lease_s)
                            renew(futs.values(), worker, lease_s=lease_s)
            except (OperationalError, InterfaceError) as exc:
                # The database went away (a PostgreSQL restart, a failover): nothing is lost, every
                # row is committed before its send and looked up by api_reference after. Reconnect
                # and carry on instead of dying; give up only when it stays away.
                db_failures += 1
                if db_failures > DB_RETRIES:
                    raise
                stats["db_reconnects"] += 1
                log.warning("transfer worker lost the database (%s); reconnecting", type(exc).__name__)
                close_old_connections()
                connection.close()
                time.sleep(min(2.0 * db_failures, 10.0))
            else:
                db_failures = 0
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
            _close_kept(kept)
        for org_id in set(inflight) | set(clients):
            _finish_batches(org_id)
            let_go_org(org_id, worker)
        for org_id in paused:
            with db_section():
                TransferState.objects.filter(organisation_id=org_id, claimed_by=worker).update(
                    claimed_by="", claimed_until=None
                )
    stats["paused_orgs"] = len(paused)
    return dict(stats)


def transfer_invoices(org, invoice_ids=None, *, client=None, user=None, **run_kw) -> dict:
    """Transfer the organisation's approved (or the given) invoices now, in this process.

    `run_kw` go to `run_transfers` (concurrency, on_progress, wait_for_retries_s, ...).
    """
    batch = start_transfer(org, invoice_ids, user=user, enqueue=False)
    factory = (lambda _org: client) if client is not None else None
    stats = run_transfers(org_ids=[org.pk], client_factory=factory, **run_kw)
    stats["batch"] = batch.pk
    return stats


def progress(org, batch: TransferBatch | None = None) -> dict:
    """Counts and the current rate for the progress bar."""
    batch = batch or TransferBatch.objects.filter(organisation=org).first()
    if batch is None:
        return {"batch": None, "total": 0, "done": 0, "failed": 0, "remaining": 0, "percent": 0, "rate": 0}
    counts = batch.counts()
    total = counts["total"] or 0
    finished = counts[TransferStatus.DONE] + counts[TransferStatus.FAILED]
    since = timezone.now() - timedelta(seconds=30)
    per_30s = TransferState.objects.filter(batch=batch, done_at__gte=since).count()
    requests_30s = 0
    try:
        from aeroledger.bexio_link.connection.models import BexioCall

        requests_30s = BexioCall.objects.filter(organisation=org, at__gte=since).count()
    except Exception:  # noqa: BLE001 - the call log is optional for the progress bar
        requests_30s = 0
    return {
        "batch": batch,
        "total": total,
        "done": counts[TransferStatus.DONE],
        "failed": counts[TransferStatus.FAILED],
        "remaining": counts["remaining"],
        "percent": int(100 * finished / total) if total else 100,
        "rate": per_30s * 2,  # invoices per minute
        "requests_per_min": requests_30s * 2,
        "running": batch.status in (TransferBatch.Status.QUEUED, TransferBatch.Status.RUNNING),
    }
