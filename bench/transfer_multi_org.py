"""Several worker processes on PostgreSQL transferring several organisations at once.

Three organisations (different sizes, so fairness shows) are connected to the bexio sandbox with
real token pairs (the database token store; the sandbox has two companies, so two organisations
share one bexio company and its rate limit). N worker processes each run the outbox worker
(`run_outbox()`) for all organisations at once, as `aeroledger db_worker` does. The organisations
are prepaid (the campaign's builder): a quarter of the invoices were paid partly or fully from
credit, so the outbox holds invoices (for what is due) and manual entries (for the credit used).
Prints per organisation: writes done, completion time, duplicates and losses in bexio (invoices by
`api_reference`, manual entries by reference number, read back per company); per bexio company:
the requests, the 429s the sandbox answered and the most requests accepted in one rate window
against the limit, and whether every write was done.

    .venv/bin/python bench/transfer_multi_org.py [--workers 4] [--sizes 150,60,20]
        [--latency-ms 100] [--limit 600] [--concurrency 8] [--db multiorg]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth); creates and drops the database `--db` (`multiorg`).
The sandbox runs in its own process on a free loopback port.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from _common import pg_admin, pg_url, teardown_postgres  # noqa: E402

DB = "multiorg"


def worker_main(args) -> None:
    import campaign

    campaign.django_setup()
    from aeroledger.bexio_link.transfer.outbox.worker import run_outbox

    stats = run_outbox(concurrency=args.concurrency, wait_for_retries_s=60, max_seconds=900)
    print(json.dumps(stats), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sizes", default="150,60,20")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--limit", type=int, default=600, help="sandbox requests per minute per company")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--db", default=DB, help="PostgreSQL database to create and drop")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return

    import transfer_1000

    import campaign

    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = tempfile.mkdtemp(prefix="multiorg-")
    db = args.db
    pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {db}")
    sb = transfer_1000.SandboxProcess(args.limit)
    procs = []
    ok = False
    try:
        campaign.setup_env(tmp, pg_url(db), sb.url)
        os.environ["BEXIO_TIMEOUT_S"] = "30"
        campaign.django_setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        from aeroledger.bexio_link.connection.models import BexioConnection, Status
        from aeroledger.bexio_link.transfer.bookings.plan import usage_reference
        from aeroledger.bexio_link.transfer.models import OutboxItem
        from aeroledger.bexio_link.transfer.start import start_transfer
        from aeroledger.billing.models import Invoice
        from bexio import BexioClient, StaticToken

        companies = [c["company_id"] for c in sb.control.get("companies").json()]
        orgs = []
        for i, size in enumerate(sizes):
            company = companies[i % len(companies)]
            tokens = sb.control.post(
                "tokens", json={"company_id": company, "scopes": campaign.ALL_SCOPES}
            ).json()
            with BexioClient(base_url=sb.url, token_provider=StaticToken(tokens["access_token"])) as client:
                org = campaign.build_org(100 + i, size, random.Random(i), client)
            conn = BexioConnection(organisation=org, status=Status.CONNECTED, company_id=company)
            conn.set_tokens(tokens["access_token"], tokens["refresh_token"])
            conn.expires_at = timezone.now() + timezone.timedelta(seconds=int(tokens["expires_in"]))
            conn.granted_scopes = sorted(set(tokens["scope"].split()))
            conn.save()
            orgs.append((org, company))
        sb.settings(latency_ms=args.latency_ms, rate_limit=args.limit, rate_window_s=60)
        mark = sb.last_id()
        for org, _c in orgs:
            start_transfer(org, enqueue_task=False)
        connection.close()

        started = time.monotonic()
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            "--concurrency",
            str(args.concurrency),
        ]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(args.workers)]  # fmt: skip
        finished: dict[int, float] = {}
        while len(finished) < len(orgs) and time.monotonic() - started < 900:
            for org, _c in orgs:
                if org.pk in finished:
                    continue
                left = OutboxItem.objects.filter(organisation=org, status__in=["pending", "sending"]).count()
                if left == 0:
                    finished[org.pk] = time.monotonic() - started
            connection.close()
            time.sleep(0.5)
        outputs = [p.communicate(timeout=300) for p in procs]
        total = time.monotonic() - started
        log = [e for e in sb.requests(since=mark) if str(e.get("path", "")).startswith(("/2.0", "/3.0"))]

        print(
            f"{args.workers} worker processes, {len(orgs)} organisations {sizes}, PostgreSQL, "
            f"{args.latency_ms} ms latency, limit {args.limit}/min per bexio company, "
            f"concurrency {args.concurrency}"
        )
        worst = {"duplicates": 0, "losses": 0, "unfinished": 0}
        for org, company in orgs:
            tokens = sb.control.post(
                "tokens", json={"company_id": company, "scopes": campaign.ALL_SCOPES}
            ).json()
            with BexioClient(base_url=sb.url, token_provider=StaticToken(tokens["access_token"])) as client:
                refs = Counter(str(b.api_reference) for b in client.invoices.iter())
                refs.update(str(e.reference_nr) for e in client.manual_entries.iter())
            # What bexio must hold: an invoice for each invoice with something due, a manual entry
            # for each invoice that used credit.
            invoices = list(Invoice.objects.filter(organisation=org).select_related("organisation"))
            wanted = [str(i.uuid) for i in invoices if i.amount_due > 0]
            wanted += [usage_reference(i) for i in invoices if i.credit_applied > 0]
            dup = sum(1 for u in wanted if refs[u] > 1)
            lost = sum(1 for u in wanted if refs[u] == 0)
            worst["duplicates"] += dup
            worst["losses"] += lost
            items = OutboxItem.objects.filter(organisation=org)
            done, total_items = items.filter(status="done").count(), items.count()
            worst["unfinished"] += total_items - done
            print(
                f"  org {org.slug:>14} (company {company}): {done}/{total_items} done, "
                f"finished at {finished.get(org.pk, float('nan')):.1f} s, duplicates {dup}, losses {lost} "
                f"({len(invoices)} invoices: {len(wanted)} writes)"
            )
        per_company = defaultdict(lambda: {"requests": 0, "429": 0, "windows": Counter()})
        for e in log:
            c = per_company[e.get("company") or "-"]
            c["requests"] += 1
            if e.get("status") == 429:
                c["429"] += 1
            else:
                c["windows"][e["time"][:16]] += 1  # the sandbox's 60 s windows start on the minute
        over = 0
        for company, c in sorted(per_company.items()):
            peak = max(c["windows"].values() or [0])
            over += int(peak > args.limit)
            print(
                f"  company {company}: {c['requests']} requests, {c['429']} answered 429, "
                f"most accepted in one window {peak} (limit {args.limit})"
            )
        errors = [err.strip().splitlines()[-1] for _out, err in outputs if "Traceback" in err]
        print(f"  workers: {[o.strip()[-120:] for o, _e in outputs]}")
        if errors:
            print(f"  worker errors: {errors}")
        print(
            f"total: {total:.1f} s, duplicates {worst['duplicates']}, losses {worst['losses']}, "
            f"companies over the limit {over}, 429s {sum(c['429'] for c in per_company.values())}"
        )
        print(
            f"all writes done: {'yes' if not worst['unfinished'] else 'NO'} ({worst['unfinished']} not done)"
        )
        ok = not (worst["unfinished"] or worst["duplicates"] or worst["losses"] or over)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        teardown_postgres(sb, db, tmp)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
