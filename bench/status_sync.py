"""Status sync of 10,000 transferred invoices of which 300 changed in bexio: how many requests.

Creates the invoices straight in the sandbox (its API, 16 connections in parallel, no latency) and
the matching transferred invoices here, runs a first sync (the baseline), then changes 300 invoices
in bexio (all issued, `--paid` of them also paid) and counts the requests of the second sync in the
sandbox's own request log: one search page per 2,000 changed invoices, plus one payment listing per
invoice whose received amount changed. A third sync (nothing changed) shows the idle cost.

    .venv/bin/python bench/status_sync.py [--invoices 10000] [--changed 300] [--paid 100]
                                          [--latency-ms 0] [--limit N]

The set-up (creating, issuing and paying in bexio) runs with the sandbox's default bucket raised to
1,000,000/min; each sync runs at bexio's recorded limits (`bexio.buckets.LIMITS`: default 1000/min,
invoice search 250/min; `--limit N` sets the default bucket instead), through a client with a
`RateGovernor`, and starts in a fresh window (the sandbox's windows are clock minutes: the set-up's
requests do not count against it). Per sync: requests per bucket, 429s, seconds. Exit status 1
unless every change reached the local invoices and no answer was a 429.

Runs on a throw-away SQLite database in a temporary directory; loopback only.
"""

import argparse
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import setup_django  # noqa: E402
from transfer_1000 import SandboxProcess, api_requests, bucket_report, print_buckets  # noqa: E402

SETUP_LIMIT = 1_000_000  # the default bucket's limit per minute while the bench fills bexio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10000)
    parser.add_argument("--changed", type=int, default=300)
    parser.add_argument("--paid", type=int, default=100, help="of the changed ones, how many got a payment")
    parser.add_argument("--latency-ms", type=int, default=0, help="the sandbox's latency during the syncs")
    parser.add_argument("--limit", type=int, default=None, help="default bucket during the syncs (1000)")
    args = parser.parse_args()
    if not 0 <= args.paid <= args.changed <= args.invoices:
        parser.error("expected 0 <= --paid <= --changed <= --invoices")

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        from aeroledger.bexio_link.transfer.invoices import sync as sync_module
        from aeroledger.bexio_link.transfer.invoices.sync import sync_status
        from aeroledger.bexio_link.transfer.models import InvoiceLink
        from aeroledger.billing.models import Invoice, InvoicePayment, InvoiceStatus
        from aeroledger.members.models import Member
        from aeroledger.tenancy.models import Organisation
        from bexio import BexioClient, RateGovernor, StaticToken
        from bexio.buckets import DEFAULT, LIMITS

        sync_limit = args.limit or LIMITS[DEFAULT]
        sb = SandboxProcess(SETUP_LIMIT)
        try:
            token = sb.token()
            client = BexioClient(
                base_url=sb.url,
                token_provider=StaticToken(token),
                timeout=60,
                governor=RateGovernor("bench-sync"),
            )
            totals = {"429": 0}

            def measured(label: str, run, fresh_window: bool = True):
                """`run()` at the sync limits (in a fresh window after the set-up's burst); prints the
                requests per bucket."""
                sb.settings(rate_limit=sync_limit, latency_ms=args.latency_ms)
                if fresh_window:
                    time.sleep(60.2 - time.time() % 60)  # the next clock minute: the next window
                mark = sb.last_id()
                t = time.monotonic()
                result = run()
                seconds = time.monotonic() - t
                entries = sb.requests(since=mark)
                sb.settings(rate_limit=SETUP_LIMIT, latency_ms=0)
                buckets = bucket_report(entries, seconds, {DEFAULT: sync_limit})
                throttled = sum(row["429"] for row in buckets.values())
                totals["429"] += throttled
                print(f"{label}: {len(api_requests(entries))} requests, {seconds:.1f} s, {throttled} x 429")
                print_buckets(buckets)
                return result, entries, seconds

            org = Organisation.objects.create(name="Sync club", slug="sync", bexio_option=True)
            member = Member.objects.create(organisation=org, number="1", first_name="A", last_name="Pilot")
            uuids = [uuid.uuid4() for _ in range(args.invoices)]
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            local = threading_local_client(sb.url, headers)

            tax_id = next(t.id for t in client.taxes.list(scope="active", types="sales_tax"))
            account_id = next(a.id for a in client.accounts.list() if a.account_type == 1)

            def create(ref):
                body = {
                    "contact_id": 1,
                    "user_id": 1,
                    "api_reference": str(ref),
                    "title": "Flights",
                    "mwst_is_net": False,
                    "positions": [
                        {
                            "type": "KbPositionCustom",
                            "amount": "1",
                            "unit_price": "100",
                            "account_id": account_id,
                            "tax_id": tax_id,
                            "text": "Flight",
                        }
                    ],
                }
                r = local().post("/2.0/kb_invoice", json=body)
                r.raise_for_status()
                return ref, r.json()["id"]

            started = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                ids = dict(pool.map(create, uuids))
            print(f"created {len(ids)} invoices in the sandbox in {time.monotonic() - started:.0f} s")
            today = date.today()
            Invoice.objects.bulk_create(
                Invoice(
                    organisation=org,
                    uuid=u,
                    number=f"S-{i}",
                    member=member,
                    date=today,
                    due_date=today + timedelta(days=30),
                    title="Flights",
                    status=InvoiceStatus.TRANSFERRED,
                    total=Decimal("100.00"),
                    amount_due=Decimal("100.00"),
                )
                for i, u in enumerate(uuids)
            )
            by_uuid = dict(Invoice.objects.filter(organisation=org).values_list("uuid", "pk"))
            InvoiceLink.objects.bulk_create(
                InvoiceLink(
                    organisation=org,
                    invoice_id=by_uuid[u],
                    bexio_id=ids[u],
                    bexio_status=7,
                    bexio_total=Decimal("100.00"),
                )
                for u in uuids
            )

            # The invoices were all created a moment ago; in real life the baseline is long past. A
            # 1-second overlap keeps the second sync from re-reading them all (default: 120 s).
            sync_module.OVERLAP = timedelta(seconds=1)
            limits = ", ".join(f"{b} {n}" for b, n in {**LIMITS, DEFAULT: sync_limit}.items())
            print(
                f"syncs at {args.latency_ms} ms latency, limits per minute: {limits}; "
                f"load average {Path('/proc/loadavg').read_text().split()[:3]}"
            )
            first, _entries, _s = measured("first sync (baseline)", lambda: sync_status(org, client))
            print(f"  {first.seen} seen")

            changed = list(ids.values())[: args.changed]

            def change(n_and_id):
                n, bexio_id = n_and_id
                local().post(f"/2.0/kb_invoice/{bexio_id}/issue").raise_for_status()
                if n < args.paid:
                    local().post(
                        f"/2.0/kb_invoice/{bexio_id}/payment", json={"value": "100"}
                    ).raise_for_status()

            t = time.monotonic()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(change, enumerate(changed)))
            took = time.monotonic() - t
            print(f"changed {len(changed)} invoices in the sandbox ({args.paid} paid) in {took:.0f} s")
            time.sleep(1.1)  # bexio's timestamps have whole seconds

            second, entries, seconds = measured(
                f"second sync, {args.changed} changed", lambda: sync_status(org, client)
            )
            log = api_requests(entries)
            searches = sum(1 for e in log if e["path"].endswith("/search"))
            print(
                f"second sync, {args.changed} of {args.invoices} changed ({args.paid} paid): "
                f"{len(log)} requests = {searches} search + {len(log) - searches} payment listings, "
                f"{seconds:.1f} s"
            )
            print(f"  result: {second.as_dict()}")
            paid = Invoice.objects.filter(organisation=org, status=InvoiceStatus.PAID).count()
            opened = Invoice.objects.filter(organisation=org, status=InvoiceStatus.OPEN).count()
            booked = InvoicePayment.objects.filter(
                organisation=org, external_ref__startswith="bexio-payment:"
            ).count()
            print(f"  local: {paid} paid, {opened} open, {booked} payments booked")
            # Right after the second (same limits, no set-up in between): no wait for a new window.
            measured("third sync (nothing changed)", lambda: sync_status(org, client), fresh_window=False)
            # The work is done only when every change reached the local invoices.
            finished = (
                first.seen == args.invoices
                and paid == booked == args.paid
                and opened == args.changed - args.paid
            )
            print(
                f"all changes applied: {'yes' if finished else 'NO'} (baseline saw {first.seen} of "
                f"{args.invoices}; {paid} paid and {booked} payments of {args.paid}; {opened} open of "
                f"{args.changed - args.paid})"
            )
            ok = finished and totals["429"] == 0
            print(
                "verdict: OK"
                if ok
                else "verdict: FAIL: "
                + "; ".join(
                    p
                    for p in (
                        "" if finished else "not every change applied",
                        f"{totals['429']} answers 429" if totals["429"] else "",
                    )
                    if p
                )
            )
            if not ok:
                sys.exit(1)
        finally:
            sb.close()


def threading_local_client(url, headers):
    import threading

    store = threading.local()

    def get():
        if not hasattr(store, "client"):
            store.client = httpx.Client(base_url=url, headers=headers, timeout=60)
        return store.client

    return get


if __name__ == "__main__":
    main()
