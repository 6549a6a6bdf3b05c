"""Status sync of 10,000 transferred invoices of which 300 changed in bexio: how many requests.

Creates the invoices straight in the sandbox (its API, 16 connections in parallel, no latency) and
the matching transferred invoices here, runs a first sync (the baseline), then changes 300 invoices
in bexio (all issued, `--paid` of them also paid) and counts the requests of the second sync in the
sandbox's own request log: one search page per 2,000 changed invoices, plus one payment listing per
invoice whose received amount changed. A third sync (nothing changed) shows the idle cost.

    .venv/bin/python bench/status_sync.py [--invoices 10000] [--changed 300] [--paid 100]

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
from transfer_1000 import SandboxProcess  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10000)
    parser.add_argument("--changed", type=int, default=300)
    parser.add_argument("--paid", type=int, default=100, help="of the changed ones, how many got a payment")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        from aeroledger.bexio_link.transfer.invoices import sync as sync_module
        from aeroledger.bexio_link.transfer.invoices.sync import sync_status
        from aeroledger.bexio_link.transfer.models import InvoiceLink
        from aeroledger.billing.models import Invoice, InvoicePayment, InvoiceStatus
        from aeroledger.members.models import Member
        from aeroledger.tenancy.models import Organisation
        from bexio import BexioClient, StaticToken

        sb = SandboxProcess(1_000_000)
        try:
            token = sb.token()
            client = BexioClient(base_url=sb.url, token_provider=StaticToken(token), timeout=60)
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
            time.sleep(1.1)
            mark = sb.last_id()
            t = time.monotonic()
            first = sync_status(org, client)
            print(
                f"first sync (baseline): {len(sb.requests(since=mark))} requests, "
                f"{time.monotonic() - t:.1f} s, {first.seen} seen"
            )

            changed = list(ids.values())[: args.changed]
            for n, bexio_id in enumerate(changed):
                local().post(f"/2.0/kb_invoice/{bexio_id}/issue").raise_for_status()
                if n < args.paid:
                    local().post(
                        f"/2.0/kb_invoice/{bexio_id}/payment", json={"value": "100"}
                    ).raise_for_status()
            time.sleep(1.1)  # bexio's timestamps have whole seconds

            mark = sb.last_id()
            t = time.monotonic()
            second = sync_status(org, client)
            log = [e for e in sb.requests(since=mark) if e["path"].startswith("/2.0")]
            searches = sum(1 for e in log if e["path"].endswith("/search"))
            print(
                f"second sync, {args.changed} of {args.invoices} changed ({args.paid} paid): "
                f"{len(log)} requests = {searches} search + {len(log) - searches} payment listings, "
                f"{time.monotonic() - t:.1f} s"
            )
            print(f"  result: {second.as_dict()}")
            paid = Invoice.objects.filter(organisation=org, status=InvoiceStatus.PAID).count()
            opened = Invoice.objects.filter(organisation=org, status=InvoiceStatus.OPEN).count()
            booked = InvoicePayment.objects.filter(
                organisation=org, external_ref__startswith="bexio-payment:"
            ).count()
            print(f"  local: {paid} paid, {opened} open, {booked} payments booked")
            mark = sb.last_id()
            sync_status(org, client)
            print(f"third sync (nothing changed): {len(sb.requests(since=mark))} requests")
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
            if not finished:
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
