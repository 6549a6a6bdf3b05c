"""Fault campaign: seeded, randomised fault schedules over an invoice transfer, checked against bexio.

Each schedule builds a fresh prepaid organisation (new members, invoices approved with the ORM, some
paid partly or fully from prepaid credit) directly with the ORM, connects it to the bexio sandbox
with a real token pair (the database token store refreshes and rotates it), starts a transfer (the
outbox: invoices and manual entries of the credit used) in a *worker subprocess* and meanwhile
mixes, at random:

- fail-after-commit on creates (invoices, contacts and manual entries): 500, dropped connection,
  timeout;
- 429 storms (a low sandbox rate limit and injected 429 bursts);
- 5xx on reads (GET and searches);
- an access token expiring mid-run (short `access_token_ttl_s`) and 401s forcing a refresh;
- the refresh token rotated by another process (this process calls `refresh_now` during the run);
- the worker killed with SIGKILL and restarted;
- PostgreSQL restarted mid-batch (`--postgres` only: `pg_ctlcluster ... restart`).

Then it recovers (faults cleared, failed writes retried, the worker run to the end) and checks by
reading bexio back. Per approved invoice: exactly one bexio invoice (by `api_reference`) for the
amount due, with the member's contact and the due part of each position (none when credit paid it
all, and never one of CHF 0.00); exactly one manual entry (by its reference number
`AL-<org>-U<number>`) for the credit it used, credit account -> revenue account and VAT per charge
type (none when it used none). Every member with something due exactly once as a contact; no bexio
invoice or manual entry that is not ours; the outbox items and invoice links equal bexio; the local
invoice status (transferred, or paid when credit paid it all); the credit ledgers untouched by the
transfer. A second invoice or entry is a duplicate, a missing one a loss, anything else a mismatch.

    .venv/bin/python bench/campaign.py [--schedules 200] [--seed 1] [--invoices 100] [--postgres] [--start 1]
                                       [--no-kill] [--json] [--verbose] [--self-check]

Prints one line per schedule and a summary: schedules run, faults injected (by kind), duplicates,
losses, mismatches (targets 0/0/0). Exit status 1 when any of the three is not zero.
`--self-check` plants two duplicates (an invoice, a manual entry), two losses and two mismatches
(one of each kind) and checks that the checker reports exactly those.
Loopback only. SQLite (a file shared with the worker) unless `--postgres` (database `campaign` on
127.0.0.1:5432, created and dropped here).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _common import pg_admin  # noqa: E402

PG_DB = "campaign"
ALL_SCOPES = [
    "openid", "offline_access", "accounting", "article_show", "bank_account_show",
    "contact_show", "contact_edit", "kb_invoice_show", "kb_invoice_edit",
]  # fmt: skip
CREATE_PATHS = r"^/(2\.0/(kb_invoice|contact|contact/_bulk_create)|3\.0/accounting/manual_entries)$"
READ_PATHS = r"^/(2\.0|3\.0)/"
AFTER_COMMIT_EFFECTS = ("status:500", "drop", "timeout", "status:503")
WORKER_TIMEOUT_S = 180
# --self-check: nothing found after a clean transfer; then 2 duplicates, 2 losses, 2 mismatches.
SELF_CHECK_EXPECTED = {"clean": [0, 0, 0], "planted": [2, 2, 2]}


# --- environment ---------------------------------------------------------------------------------
def setup_env(tmp: str, database_url: str, sandbox_url: str) -> None:
    os.environ["AEROLEDGER_VAR_DIR"] = tmp
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "aeroledger.settings"
    os.environ.setdefault("LOG_LEVEL", "CRITICAL")
    os.environ["BEXIO_SANDBOX_URL"] = sandbox_url
    os.environ["BEXIO_API_BASE"] = sandbox_url
    os.environ["BEXIO_AUTH_ISSUER"] = sandbox_url + "/realms/bexio"
    os.environ["BEXIO_CLIENT_ID"] = "aeroledger-demo"
    os.environ["BEXIO_CLIENT_SECRET"] = "aeroledger-demo-secret"
    os.environ["BEXIO_TIMEOUT_S"] = "1"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["DB_CONN_MAX_AGE"] = "0"


def django_setup() -> None:
    import django

    django.setup()
    import logging

    logging.disable(logging.CRITICAL)


# --- the worker (a subprocess the campaign kills) -------------------------------------------------
def worker_main(args) -> None:
    django_setup()
    from aeroledger.bexio_link.transfer.outbox import outcome
    from aeroledger.bexio_link.transfer.outbox.worker import run_outbox

    # The back-off policy (5 s, 10 s, ...) is not under test; the campaign shortens it so that 200
    # schedules fit in an hour. Everything else is the production code path (client_for, leases).
    outcome.backoff = lambda attempts: timedelta(seconds=min(1.0, 0.1 * attempts))
    stats = run_outbox(
        org_ids=[args.org],
        concurrency=args.concurrency,
        lease_s=args.lease_s,
        wait_for_retries_s=30,
        max_seconds=WORKER_TIMEOUT_S - 20,
    )
    print(json.dumps(stats), flush=True)


def spawn_worker(
    org_id: int, concurrency: int, lease_s: int, *, timeout_s: float | None = None
) -> subprocess.Popen:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--org", str(org_id)]
    cmd += ["--concurrency", str(concurrency), "--lease-s", str(lease_s)]
    env = dict(os.environ)
    if timeout_s is not None:
        env["BEXIO_TIMEOUT_S"] = str(timeout_s)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


# --- building one organisation ---------------------------------------------------------------------
def static_client(sb):
    from bexio import BexioClient, StaticToken

    return BexioClient(
        base_url=sb.url, token_provider=StaticToken(sb.token(scopes=ALL_SCOPES)), max_retries=2
    )


def map_everything(org, client, rnd: random.Random) -> None:
    """Master data from the sandbox; every charge type mapped (an article for some, else account+tax)."""
    from aeroledger.bexio_link.masterdata.contacts import ensure_contact_group
    from aeroledger.bexio_link.masterdata.mapping import mapping_for
    from aeroledger.bexio_link.masterdata.models import BexioRecord, ChargeMapping, InvoiceSettings, Kind
    from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
    from aeroledger.billing.models import ChargeType

    refresh_master_data(org, client)
    records = BexioRecord.objects.filter(organisation=org)
    bank = records.filter(kind=Kind.BANK_ACCOUNT).order_by("bexio_id").first()
    user = records.filter(kind=Kind.USER).order_by("bexio_id").first()
    tax = next(r for r in records.filter(kind=Kind.TAX, is_active=True) if r.data.get("type") == "sales_tax")
    account = next(r for r in records.filter(kind=Kind.ACCOUNT) if r.data.get("account_type") == 1)
    articles = list(records.filter(kind=Kind.ARTICLE).order_by("bexio_id"))
    # Members' credit: a liability account (what credit pays is booked from it to revenue).
    liability = next(
        r for r in records.filter(kind=Kind.ACCOUNT, is_active=True) if r.data.get("account_type") == 4
    )
    InvoiceSettings.objects.update_or_create(
        organisation=org,
        defaults={
            "bank_account": bank,
            "user": user,
            "issue_automatically": False,
            "credit_account": liability,
        },
    )
    for ct in ChargeType.values:
        article = articles[0] if articles and ct == ChargeType.INSTRUCTION and rnd.random() < 0.5 else None
        ChargeMapping.objects.update_or_create(
            organisation=org,
            charge_type=ct,
            aircraft=None,
            aerodrome=None,
            defaults={"account": account, "tax": tax, "article": article},
        )
    ensure_contact_group(client, mapping_for(org))


def build_org(index: int, n_invoices: int, rnd: random.Random, client, *, credit_share: float = 0.25):
    """A new prepaid organisation with new members and `n_invoices` invoices, approved as the billing
    page approves them (`Invoice.approve`: credit pays the oldest positions, the rest is due).

    `credit_share` of the invoices come with a deposit on the member's credit account first: a third
    of those cover the invoice in full (nothing due), the others a part (ORM, no web)."""
    from django.utils import timezone

    from aeroledger.billing.models import (
        ChargeType,
        CreditEntry,
        CreditKind,
        Invoice,
        InvoiceKind,
        InvoicePosition,
        InvoiceStatus,
    )
    from aeroledger.billing.money import position_amount
    from aeroledger.members.models import Member
    from aeroledger.tenancy.models import Organisation

    org = Organisation.objects.create(
        name=f"Campaign club {index}", slug=f"c{index}-{rnd.randrange(10**6)}", bexio_option=True,
        billing_mode="prepaid",
    )  # fmt: skip
    map_everything(org, client, rnd)
    n_members = max(1, int(n_invoices * 0.8))
    Member.objects.bulk_create(
        Member(
            organisation=org,
            number=f"{index:03d}{i:04d}",
            first_name=rnd.choice(["Anna", "Beat", "Chloé", "Luca", "Reto", "Zoë"]),
            last_name=f"Pilot {index}-{i}",
            street="Flugplatzstrasse",
            house_number=str(i % 90 + 1),
            postcode="5242",
            city=rnd.choice(["Lupfig", "Genève", "Lugano", "Zürich"]),
            country="CH",
            email=f"p{index}x{i}@example.ch",
            language=rnd.choice(["de", "fr", "it", "en"]),
        )
        for i in range(n_members)
    )
    members = list(Member.objects.filter(organisation=org).order_by("id"))
    today = timezone.localdate()
    invoices, positions, credits = [], [], []
    for k in range(n_invoices):
        member = members[k % n_members]
        lines = []
        for _p in range(rnd.choice([1, 1, 2, 3, 5])):
            ct = rnd.choice([ChargeType.AIRCRAFT_TIME, ChargeType.INSTRUCTION, ChargeType.LANDING_FEE])
            qty = Decimal(rnd.randrange(10, 1500)) / Decimal(10 ** rnd.choice([0, 1, 2]))
            price = Decimal(rnd.randrange(50, 50000)) / Decimal(10 ** rnd.choice([2, 3]))
            lines.append((ct, qty, price, position_amount(qty, price)))
        if rnd.random() < credit_share:
            subtotal = sum((amt for *_x, amt in lines), Decimal("0"))
            factor = Decimal(str(rnd.choice([0.2, 0.5, 0.8, 1.0, 1.3, 2.0])))
            credit = max(Decimal("1.00"), (subtotal * factor).quantize(Decimal("0.01")))
            credits.append(
                CreditEntry(
                    organisation=org, member=member, kind=CreditKind.DEPOSIT, amount=credit, text="top-up",
                    date=today,
                )
            )  # fmt: skip
        invoices.append(
            Invoice(
                organisation=org,
                number=f"{today.year}-{k + 1:05d}",
                member=member,
                kind=InvoiceKind.CHARGES,
                status=InvoiceStatus.DRAFT,
                language=member.language,
                date=today,
                due_date=today + timedelta(days=30),
                period_start=date(today.year, today.month, 1),
                period_end=today,
                title=f"Flights {k}",
            )
        )
        positions.append(lines)
    Invoice.objects.bulk_create(invoices)
    invoices = list(Invoice.objects.filter(organisation=org).order_by("id"))
    InvoicePosition.objects.bulk_create(
        InvoicePosition(
            invoice=inv,
            pos=i,
            charge_type=ct,
            text=f"{ct} {i}",
            quantity=q,
            unit_price=p,
            amount=a,
            date=today,
        )
        for inv, lines in zip(invoices, positions, strict=True)
        for i, (ct, q, p, a) in enumerate(lines, start=1)
    )
    # Deposits made before the club connected bexio: no booking of their own (the opening balance).
    CreditEntry.objects.bulk_create(credits)
    for inv in invoices:
        inv.approve(None)
    return org


def connect(org, sb) -> None:
    """A real token pair from the sandbox in the database token store (refreshable, rotating)."""
    from django.utils import timezone

    from aeroledger.bexio_link.connection.models import BexioConnection, Status

    issued = sb.tokens(scopes=ALL_SCOPES)
    conn = BexioConnection(organisation=org, status=Status.CONNECTED, company_id=str(issued["company_id"]))
    conn.set_tokens(issued["access_token"], issued["refresh_token"])
    conn.expires_at = timezone.now() + timedelta(seconds=int(issued["expires_in"]))
    conn.granted_scopes = sorted(set(issued["scope"].split()))
    conn.company_name = "Sandbox"
    conn.save()


# --- one schedule ----------------------------------------------------------------------------------
class Schedule:
    """The random choices of one schedule (all drawn from the schedule's own seed)."""

    def __init__(self, seed: int, *, kill: bool, postgres: bool):
        r = random.Random(seed)
        self.seed = seed
        self.concurrency = r.choice([1, 2, 4, 8])
        self.create_faults = [
            {
                "method": "POST",
                "path": CREATE_PATHS,
                "when": "after_commit",
                "effect": r.choice(["status:500", "drop", "timeout", "status:503"]),
                "probability": r.choice([0.05, 0.1, 0.2, 0.3]),
                "times": r.randint(2, 10),
                "seed": r.randrange(10**6),
            }
            for _ in range(r.choice([1, 2, 3]))
        ]
        self.storm = r.random() < 0.4  # low rate limit + 429 bursts
        self.rate_limit = r.choice([10, 20, 30])  # per second, for the first seconds of the run
        self.storm_s = r.uniform(1.0, 4.0)
        self.read_faults = r.random() < 0.6
        self.read_effect = r.choice(["status:500", "status:502", "status:503"])
        self.read_probability = r.choice([0.03, 0.08, 0.15])
        self.short_ttl = r.random() < 0.6  # access token expires mid-run (margin is 120 s)
        self.ttl_s = 120 + r.randint(2, 6)
        self.unauthorised = r.random() < 0.3  # bexio answers 401 now and then: forced refresh
        self.rotations = [r.uniform(0.2, 4.0) for _ in range(r.choice([0, 1, 1, 2]))]
        self.kill_at = (
            [r.uniform(0.3, 3.0) for _ in range(r.choice([1, 1, 2]))] if kill and r.random() < 0.7 else []
        )
        self.pg_restart_at = r.uniform(0.5, 3.0) if postgres and r.random() < 0.3 else None
        self.data_seed = r.randrange(10**9)

    def describe(self) -> str:
        parts = [f"c={self.concurrency}", "creates:" + ",".join(
            f"{f['effect']}@{f['probability']}" for f in self.create_faults)]  # fmt: skip
        if self.storm:
            parts.append(f"429-storm:{self.rate_limit}/s-for-{self.storm_s:.1f}s")
        if self.read_faults:
            parts.append(f"reads:{self.read_effect}@{self.read_probability}")
        if self.short_ttl:
            parts.append(f"ttl:{self.ttl_s}s")
        if self.unauthorised:
            parts.append("401s")
        if self.rotations:
            parts.append(f"rotations:{len(self.rotations)}")
        if self.kill_at:
            parts.append(f"SIGKILL:{len(self.kill_at)}")
        if self.pg_restart_at is not None:
            parts.append("pg-restart")
        return " ".join(parts)


def restart_postgres() -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"],
        check=False,
        capture_output=True,
        timeout=120,
    )


def wait_worker(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err = f"worker timed out after {timeout:.0f} s\n{err}"
    return out, err


def run_schedule(index: int, sched: Schedule, sb, n_invoices: int, *, verbose: bool = False) -> dict:
    from django.db import connection

    from aeroledger.bexio_link.connection.keepalive import refresh_now
    from aeroledger.bexio_link.transfer.models import ItemStatus, OutboxItem
    from aeroledger.bexio_link.transfer.outbox import enqueue
    from aeroledger.bexio_link.transfer.start import start_transfer

    tb = time.monotonic()
    sb.reset()
    rnd = random.Random(sched.data_seed)
    with static_client(sb) as client:
        org = build_org(index, n_invoices, rnd, client)
    ledger_before = _ledgers(org)
    faults = Counter()

    # The token settings come first: the connection's pair is issued with them.
    sb.settings(latency_ms=0, timeout_hold_s=2, access_token_ttl_s=sched.ttl_s if sched.short_ttl else 3600)
    connect(org, sb)
    start_transfer(org, enqueue_task=False)
    for rule in sched.create_faults:
        sb.fault(**rule)
    if sched.storm:
        sb.settings(rate_limit=sched.rate_limit, rate_window_s=1)
        sb.fault(method="*", path=READ_PATHS, when="before", effect="status:429", probability=0.05,
                 times=20, seed=sched.seed)  # fmt: skip
    if sched.read_faults:
        sb.fault(method="GET", path=READ_PATHS, when="before", effect=sched.read_effect,
                 probability=sched.read_probability, times=15, seed=sched.seed + 1)  # fmt: skip
        sb.fault(method="POST", path=r"/search$", when="before", effect=sched.read_effect,
                 probability=sched.read_probability, times=10, seed=sched.seed + 2)  # fmt: skip
    if sched.unauthorised:
        sb.fault(method="*", path=READ_PATHS, when="before", effect="status:401", probability=0.02,
                 times=3, seed=sched.seed + 3)  # fmt: skip
    connection.close()
    if verbose:
        print(f"      built in {time.monotonic() - tb:.1f}s", flush=True)

    # --- the faulty run: a worker subprocess; kills, rotations and a PG restart on a timeline ---
    events = sorted(
        [(t, "kill") for t in sched.kill_at]
        + [(t, "rotate") for t in sched.rotations]
        + ([(sched.pg_restart_at, "pg")] if sched.pg_restart_at is not None else [])
        + ([(sched.storm_s, "storm_end")] if sched.storm else [])
    )
    errors_seen: list[str] = []
    t0 = time.monotonic()
    proc = spawn_worker(org.pk, sched.concurrency, lease_s=3)
    for at, what in events:
        delay = at - (time.monotonic() - t0)
        if delay > 0:
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                pass
        if what == "kill":
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                faults["sigkill"] += 1
            proc = spawn_worker(org.pk, sched.concurrency, lease_s=3)
        elif what == "rotate":
            try:
                if refresh_now(org):
                    faults["rotation"] += 1
            except Exception as exc:  # noqa: BLE001 - recorded, the run continues
                errors_seen.append(f"rotation: {exc!r}")
            finally:
                connection.close()
        elif what == "storm_end":
            sb.settings(rate_limit=1000, rate_window_s=60)
        elif what == "pg":
            restart_postgres()
            faults["pg_restart"] += 1
    out, err = wait_worker(proc, WORKER_TIMEOUT_S)
    if verbose:
        print(f"      faulty run {time.monotonic() - t0:.1f}s: {out.strip()[-300:]}", flush=True)
    if proc.returncode not in (0, None) and "Traceback" in err:
        errors_seen.append("worker: " + err.strip().splitlines()[-1][:300])

    # --- count what was injected, then recover ---
    for rule in sb.control.get("faults").json():
        kind = f"{rule['when']}:{rule['effect']}"
        faults[kind] += rule.get("hits", 0)
    log = [e for e in sb.requests() if str(e.get("path", "")).startswith(("/2.0", "/3.0", "/realms"))]
    # Refreshes the worker made itself (expiring access tokens, 401s), besides this process's rotations.
    refreshes = sum(1 for e in log if e.get("grant_type") == "refresh_token" and e.get("status") == 200)
    faults["worker_token_refresh"] += max(0, refreshes - faults.get("rotation", 0))
    # 429s from the rate limit itself (the injected ones are counted above).
    faults["rate_limit:429"] += max(
        0, sum(1 for e in log if e.get("status") == 429) - faults.get("before:status:429", 0)
    )
    # Which creates the fail-after-commit faults hit (a breakdown of the after_commit:* counts).
    hit_creates = Counter(
        "creates hit: " + str(e["path"]).rsplit("/", 1)[-1]
        for e in log
        if e.get("method") == "POST"
        and re.match(CREATE_PATHS, str(e.get("path", "")))
        and e.get("fault") in AFTER_COMMIT_EFFECTS
    )
    sb.clear_faults()
    sb.settings(rate_limit=1000, rate_window_s=60, access_token_ttl_s=3600)

    from aeroledger.bexio_link.connection.models import BexioConnection, Status

    conn = BexioConnection.objects.get(organisation=org)
    reconnect = conn.status != Status.CONNECTED
    if reconnect:
        errors_seen.append(f"connection needs a reconnect: {conn.reconnect_reason[:200]}")
        connect_again(org, sb)
    for _round in range(3):
        left = OutboxItem.objects.filter(
            organisation=org, status__in=[ItemStatus.PENDING, ItemStatus.SENDING, ItemStatus.FAILED]
        )
        if not left.exists():
            break
        failed = list(
            OutboxItem.objects.filter(organisation=org, status=ItemStatus.FAILED).values_list(
                "last_error", flat=True
            )
        )
        if failed:
            faults["gave_up_then_retried"] += len(failed)
            enqueue.retry(org, enqueue=False)
        connection.close()
        # Faults are cleared: a generous client timeout, so that a loaded machine is not a fault.
        out, err = wait_worker(spawn_worker(org.pk, 4, lease_s=3, timeout_s=15), WORKER_TIMEOUT_S)
        if "Traceback" in err:
            errors_seen.append("recovery worker: " + err.strip().splitlines()[-1][:300])

    if verbose:
        print(f"      recovered at {time.monotonic() - t0:.1f}s", flush=True)
    result = verify(org, sb, ledger_before)
    result.update(
        index=index,
        seed=sched.seed,
        faults=dict(faults),
        creates_hit=dict(hit_creates),
        errors=errors_seen,
        reconnect=reconnect,
        seconds=round(time.monotonic() - t0, 1),
        describe=sched.describe(),
    )
    return result


def connect_again(org, sb) -> None:
    from aeroledger.bexio_link.connection.models import BexioConnection

    BexioConnection.objects.filter(organisation=org).delete()
    connect(org, sb)


def _ledgers(org) -> dict:
    from django.db.models import Count, Sum

    from aeroledger.billing.models import CreditEntry

    rows = (
        CreditEntry.objects.filter(organisation=org)
        .values("member_id")
        .annotate(s=Sum("amount"), n=Count("id"))
    )
    return {r["member_id"]: (r["s"], r["n"]) for r in rows}


# --- the check: read bexio back -----------------------------------------------------------------
CENT = Decimal("0.01")


def dec(value) -> Decimal:
    return Decimal(str(value if value is not None else 0)).quantize(CENT)


def verify(org, sb, ledger_before: dict) -> dict:
    """Duplicates, losses and mismatches between Aeroledger and what the sandbox holds.

    Per approved invoice: one bexio invoice for the amount due (none when nothing is due) and one
    manual entry for the credit used (none when none was used), found by `api_reference` and by
    the entry's reference number. One line per invoice and per booking that is not right.
    """
    from aeroledger.bexio_link.masterdata.mapping import mapping_for
    from aeroledger.bexio_link.masterdata.models import ContactLink
    from aeroledger.bexio_link.transfer.bookings.plan import usage_reference
    from aeroledger.bexio_link.transfer.models import InvoiceLink, ItemKind, ItemStatus, OutboxItem
    from aeroledger.billing.models import Invoice, InvoiceStatus
    from aeroledger.members.models import Member

    duplicates, losses, mismatches = [], [], []
    mapping = mapping_for(org)
    with static_client(sb) as client:
        by_ref: dict[str, list] = {}
        for b in client.invoices.iter():
            by_ref.setdefault(str(b.api_reference or ""), []).append(b)
        entries_by_ref: dict[str, list] = {}
        for e in client.manual_entries.iter():
            entries_by_ref.setdefault(str(e.reference_nr or ""), []).append(e)
        contacts = list(client.contacts.iter())
        invoices = list(
            Invoice.objects.filter(organisation=org).select_related("member").prefetch_related("positions")
        )
        items = {
            (i.kind, i.invoice_id): i
            for i in OutboxItem.objects.filter(organisation=org, invoice__isnull=False)
        }
        links = {link.invoice_id: link for link in InvoiceLink.objects.filter(organisation=org)}
        contact_links = {link.member_id: link for link in ContactLink.objects.filter(organisation=org)}
        ours = {str(i.uuid) for i in invoices}
        our_entries = {usage_reference(i) for i in invoices}
        for ref, found in by_ref.items():
            if ref not in ours:
                mismatches.append(
                    f"bexio invoice(s) {[b.id for b in found]} with unknown api_reference {ref!r}"
                )
        for ref, found in entries_by_ref.items():
            if ref not in our_entries:
                mismatches.append(
                    f"manual entr(y/ies) {[e.id for e in found]} with unknown reference {ref!r}"
                )
        contacts_by_nr: dict[str, list] = {}
        for c in contacts:
            contacts_by_nr.setdefault(str(c.nr or ""), []).append(c)

        for inv in invoices:
            if inv.status == InvoiceStatus.DRAFT:
                mismatches.append(f"invoice {inv.number}: still a draft (the bench approves every one)")
                continue
            # the invoice: one for the amount due, none when credit paid it all
            found = by_ref.get(str(inv.uuid), [])
            problems = []
            if inv.amount_due <= 0:
                if found:
                    problems.append(f"credit paid it all, yet bexio has invoice(s) {[b.id for b in found]}")
                if inv.status != InvoiceStatus.PAID:
                    problems.append(f"local status {inv.status}, not paid (from credit)")
            elif len(found) > 1:
                duplicates.append(f"invoice {inv.number}: {len(found)} in bexio ({[b.id for b in found]})")
            elif not found:
                losses.append(f"invoice {inv.number}: not in bexio")
            if inv.amount_due > 0 and found:
                b = client.invoices.get(min(found, key=lambda x: x.id).id)
                problems += compare_invoice(inv, b)
                problems += compare_invoice_state(
                    inv, b, items.get((ItemKind.INVOICE, inv.pk)), links.get(inv.pk)
                )
                if inv.status not in (InvoiceStatus.TRANSFERRED, InvoiceStatus.OPEN):
                    problems.append(f"local invoice status {inv.status}")
                link = contact_links.get(inv.member_id)
                if link is None or link.bexio_id != b.contact_id:
                    problems.append(
                        f"contact {b.contact_id} but member linked to {getattr(link, 'bexio_id', None)}"
                    )
                else:
                    contact = next((c for c in contacts if c.id == b.contact_id), None)
                    if contact is None or str(contact.nr) != inv.member.number:
                        problems.append(f"contact {b.contact_id} is not member {inv.member.number}")
            if problems:
                mismatches.append(f"invoice {inv.number}: " + "; ".join(problems))

            # the booking of the credit it used: one manual entry, none when it used none
            ref = usage_reference(inv)
            entries = entries_by_ref.get(ref, [])
            problems = []
            if inv.credit_applied <= 0:
                if entries:
                    problems.append(
                        f"no credit used, yet bexio has manual entr(y/ies) {[e.id for e in entries]}"
                    )
            elif len(entries) > 1:
                duplicates.append(f"booking {ref}: {len(entries)} manual entries ({[e.id for e in entries]})")
            elif not entries:
                losses.append(f"booking {ref}: not in bexio (credit used {inv.credit_applied})")
            if inv.credit_applied > 0 and entries:
                entry = min(entries, key=lambda x: x.id)
                problems += compare_booking(inv, entry, mapping)
                item = items.get((ItemKind.MANUAL_ENTRY, inv.pk))
                if item is None or item.status != ItemStatus.DONE:
                    problems.append(item_problem(item))
                elif item.bexio_id != entry.id:
                    problems.append(f"local bexio id {item.bexio_id} != {entry.id}")
            if problems:
                mismatches.append(f"booking {ref}: " + "; ".join(problems))

        owing = {i.member_id for i in invoices if i.amount_due > 0}
        for member in Member.objects.filter(organisation=org):
            n = len(contacts_by_nr.get(member.number, []))
            if n > 1:
                duplicates.append(f"member {member.number}: {n} bexio contacts")
            elif n == 0 and member.pk in owing:
                losses.append(f"member {member.number}: no bexio contact")
    if _ledgers(org) != ledger_before:
        mismatches.append("credit ledgers changed during the transfer")
    return {
        "invoices": len(invoices),
        "duplicates": duplicates,
        "losses": losses,
        "mismatches": mismatches,
    }


def compare_invoice(inv, b) -> list[str]:
    """The bexio invoice `b` against the due part of the local invoice: positions and total."""
    problems = []
    due = [
        (p, p.amount - p.credit_covered)
        for p in sorted(inv.positions.all(), key=lambda p: (p.pos, p.id))
        if p.amount - p.credit_covered > 0
    ]
    items = [p for p in (b.positions or []) if p.type in ("KbPositionCustom", "KbPositionArticle")]
    discounts = [p for p in (b.positions or []) if p.type == "KbPositionDiscount"]
    if len(items) != len(due):
        problems.append(f"{len(items)} positions in bexio, {len(due)} due here")
    for (mine, amount_due), theirs in zip(due, items, strict=False):
        amount = (Decimal(str(theirs.amount)) * Decimal(str(theirs.unit_price))).quantize(CENT)
        if amount != amount_due:
            problems.append(f"position {mine.pos}: {amount} in bexio, {amount_due} due here")
        if not str(theirs.text or "").startswith(mine.text):
            problems.append(f"position {mine.pos}: text {theirs.text!r}")
    if discounts:
        problems.append(
            f"discount(s) in bexio: {[d.value for d in discounts]} (credit is booked, not discounted)"
        )
    if dec(b.total) == 0:
        problems.append("a bexio invoice of CHF 0.00")
    if dec(b.total) != inv.amount_due:
        problems.append(f"total {b.total} in bexio, {inv.amount_due} due here")
    return problems


def item_problem(item) -> str:
    if item is None:
        return "no local outbox item"
    return f"local item {item.status} ({item.last_error[:200]})"


def compare_invoice_state(inv, b, item, link) -> list[str]:
    """The outbox item and the invoice link against bexio's invoice."""
    problems = []
    if item is None or item.status != "done":
        problems.append(item_problem(item))
    elif item.bexio_id != b.id:
        problems.append(f"local item bexio id {item.bexio_id} != {b.id}")
    if link is None:
        problems.append("no local invoice link")
        return problems
    if link.bexio_id != b.id:
        problems.append(f"local bexio id {link.bexio_id} != {b.id}")
    if (link.document_nr or "") != (b.document_nr or ""):
        problems.append(f"local document_nr {link.document_nr!r} != {b.document_nr!r}")
    if link.bexio_total is None or dec(link.bexio_total) != dec(b.total):
        problems.append(f"local bexio_total {link.bexio_total} != {b.total}")
    if link.bexio_status is not None and link.bexio_status != b.kb_item_status_id:
        problems.append(f"local bexio status {link.bexio_status} != {b.kb_item_status_id}")
    return problems


def expected_booking(inv, mapping) -> Counter:
    """The lines the credit an invoice used must be booked with, from the mapping rows themselves:
    credit account (debit) -> each charge type's revenue account and tax (credit), as
    (debit account, credit account, tax, amount)."""
    lines = Counter()
    by_target: dict[tuple, Decimal] = {}
    for p in inv.positions.all():
        if p.credit_covered > 0:
            t = mapping.target_for(p.charge_type, p.aircraft_id, p.aerodrome_id)
            key = (t.account_id, t.tax_id) if t is not None else (None, None)
            by_target[key] = by_target.get(key, Decimal("0")) + p.credit_covered
    lines[(mapping.credit_account_id, None, None, dec(inv.credit_applied))] += 1
    for (account, tax), amount in by_target.items():
        lines[(None, account, tax, dec(amount))] += 1
    return lines


def compare_booking(inv, entry, mapping) -> list[str]:
    """bexio's manual entry against the credit the invoice used: date, amounts, accounts, VAT."""
    problems = []
    if entry.date != inv.date:
        problems.append(f"date {entry.date} in bexio, {inv.date} here")
    covered = sum((p.credit_covered for p in inv.positions.all()), Decimal("0"))
    if dec(covered) != dec(inv.credit_applied):
        problems.append(f"positions paid {covered} from credit, the invoice {inv.credit_applied}")
    got = Counter(
        (line.debit_account_id, line.credit_account_id, line.tax_id if line.credit_account_id else None,
         dec(line.amount))
        for line in entry.entries or []
    )  # fmt: skip
    want = expected_booking(inv, mapping)
    if got != want:
        fmt = lambda c: sorted((str(k), n) for k, n in c.items())  # noqa: E731
        problems.append(f"lines {fmt(got)} in bexio, {fmt(want)} here")
    debit = sum((dec(line.amount) for line in entry.entries or [] if line.debit_account_id), Decimal("0"))
    if debit != dec(inv.credit_applied):
        problems.append(f"booked {debit}, credit used {inv.credit_applied}")
    return problems


def self_check(sb) -> dict:
    """The checker must see what it is there to see. Planted after a clean transfer: a duplicate
    invoice and a duplicate manual entry, a lost invoice and a lost manual entry, a mismatch of an
    invoice (its local number) and of a manual entry (its amount)."""
    from django.conf import settings

    from aeroledger.bexio_link.masterdata.mapping import mapping_for
    from aeroledger.bexio_link.transfer.bookings.plan import plan_usage
    from aeroledger.bexio_link.transfer.bookings.sender import body
    from aeroledger.bexio_link.transfer.invoices.plan import plan_invoice
    from aeroledger.bexio_link.transfer.models import InvoiceLink, ItemKind, OutboxItem
    from aeroledger.bexio_link.transfer.start import transfer_invoices
    from aeroledger.billing.models import Invoice

    settings.BEXIO_TIMEOUT_S = 15  # no faults here: a loaded machine must not look like one
    sb.reset()
    with static_client(sb) as client:
        org = build_org(0, 12, random.Random(0), client, credit_share=0.7)
        ledger = _ledgers(org)
        connect(org, sb)
        transfer_invoices(org, concurrency=1)
        clean = verify(org, sb, ledger)
        invoices = list(Invoice.objects.filter(organisation=org).order_by("id"))
        due = [i for i in invoices if i.amount_due > 0]
        used = [i for i in invoices if i.credit_applied > 0]
        assert len(due) >= 3 and len(used) >= 3, (len(due), len(used))
        mapping = mapping_for(org)
        link = InvoiceLink.objects.get(invoice=due[0])
        duplicate = plan_invoice(due[0], mapping=mapping).create_body(link.contact_id)
        client.invoices.create(duplicate)  # a duplicate
        client.invoices.delete(InvoiceLink.objects.get(invoice=due[1]).bexio_id)  # a loss
        InvoiceLink.objects.filter(invoice=due[2]).update(document_nr="RE-bogus")  # a mismatch
        client.manual_entries.create(body(plan_usage(used[0], mapping), mapping.currency_id))  # a duplicate
        item = OutboxItem.objects.get(invoice=used[1], kind=ItemKind.MANUAL_ENTRY)
        client.manual_entries.delete(item.bexio_id)  # a loss
        item = OutboxItem.objects.get(invoice=used[2], kind=ItemKind.MANUAL_ENTRY)
        wrong = plan_usage(used[2], mapping)  # a mismatch: booked 1.00 more on both sides
        wrong.lines[0].amount += 1
        wrong.lines[1].amount += 1
        client.manual_entries.update(item.bexio_id, body(wrong, mapping.currency_id))
        planted = verify(org, sb, ledger)
    for key in ("duplicates", "losses", "mismatches"):
        for line in clean[key] + planted[key]:
            print(f"{key}: {line}", file=sys.stderr)
    return {
        "clean": [len(clean[k]) for k in ("duplicates", "losses", "mismatches")],
        "planted": [len(planted[k]) for k in ("duplicates", "losses", "mismatches")],
    }


# --- the campaign ---------------------------------------------------------------------------------
def run_campaign(args) -> dict:
    from bexio_sandbox.testing import running_sandbox

    tmp = tempfile.mkdtemp(prefix="campaign-")
    if args.postgres:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        pg_admin(f"CREATE DATABASE {PG_DB}")
        database_url = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    else:
        database_url = f"sqlite:///{tmp}/campaign.sqlite3"
    totals = Counter()
    faults = Counter()
    creates_hit = Counter()
    bad: list[dict] = []
    started = time.monotonic()
    try:
        with running_sandbox(timeout_hold_s=2) as sb:
            setup_env(tmp, database_url, sb.url)
            django_setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            if args.self_check:
                return self_check(sb)
            master = random.Random(args.seed)
            for index in range(1, args.start + args.schedules):
                seed = master.randrange(10**9)
                if index < args.start:
                    continue  # the same seeded sequence: schedule i is the same whatever --start is
                sched = Schedule(seed, kill=not args.no_kill, postgres=args.postgres)
                result = run_schedule(index, sched, sb, args.invoices, verbose=args.verbose)
                totals["schedules"] += 1
                totals["invoices"] += result["invoices"]
                for key in ("duplicates", "losses", "mismatches"):
                    totals[key] += len(result[key])
                totals["reconnects"] += int(result["reconnect"])
                totals["errors"] += len(result["errors"])
                faults.update(result["faults"])
                creates_hit.update(result["creates_hit"])
                flag = (
                    "ok" if not (result["duplicates"] or result["losses"] or result["mismatches"]) else "FAIL"
                )
                if not args.json:
                    injected = sum(result["faults"].values())
                    print(
                        f"[{index:3d}] {flag} {result['seconds']:5.1f}s faults={injected:3d} "
                        f"dup={len(result['duplicates'])} lost={len(result['losses'])} "
                        f"mismatch={len(result['mismatches'])} | {result['describe']}",
                        flush=True,
                    )
                    for line in (
                        result["errors"] + result["duplicates"] + result["losses"] + result["mismatches"]
                    )[:8]:
                        print(f"      {line}", flush=True)
                if flag == "FAIL" or result["errors"]:
                    bad.append(result)
    finally:
        if args.postgres:
            try:
                from django.db import connections

                connections.close_all()
                pg_admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            except Exception as exc:  # noqa: BLE001
                print(f"could not drop database {PG_DB}: {exc}", file=sys.stderr)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    summary = {
        "schedules": totals["schedules"],
        "invoices": totals["invoices"],
        "faults_injected": sum(faults.values()),
        "faults": dict(sorted(faults.items())),
        "after_commit_by_create": dict(sorted(creates_hit.items())),
        "duplicates": totals["duplicates"],
        "losses": totals["losses"],
        "mismatches": totals["mismatches"],
        "reconnects": totals["reconnects"],
        "errors": totals["errors"],
        "seconds": round(time.monotonic() - started, 1),
        "failed_schedules": [
            {k: r[k] for k in ("index", "seed", "describe", "duplicates", "losses", "mismatches", "errors")}
            for r in bad
        ],
    }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--start", type=int, default=1, help="first schedule number (to resume a campaign)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (and restart it mid-batch)")
    parser.add_argument("--no-kill", action="store_true", help="no SIGKILL of the worker")
    parser.add_argument("--json", action="store_true", help="print only the summary as JSON")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--self-check", action="store_true", help="plant duplicates, losses and mismatches")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--org", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--lease-s", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return
    summary = run_campaign(args)
    if args.self_check:
        print(json.dumps(summary))
        sys.exit(0 if summary == SELF_CHECK_EXPECTED else 1)
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        print()
        print(
            f"schedules run:   {summary['schedules']} "
            f"({summary['invoices']} invoices, {summary['seconds']} s)"
        )
        print(f"faults injected: {summary['faults_injected']}")
        for kind, n in summary["faults"].items():
            print(f"    {kind:28s} {n}")
        for kind, n in summary["after_commit_by_create"].items():
            print(f"    ({kind}: {n})")
        print(f"duplicates:      {summary['duplicates']}")
        print(f"losses:          {summary['losses']}")
        print(f"mismatches:      {summary['mismatches']}")
        print(
            f"reconnects needed (token handling): {summary['reconnects']}; other errors: {summary['errors']}"
        )
    sys.exit(1 if summary["duplicates"] or summary["losses"] or summary["mismatches"] else 0)


if __name__ == "__main__":
    main()
