"""Transfer of 1,000 approved invoices to the sandbox at 100 ms latency, rate limit 6,000/min.

Prints the requests per invoice (from the sandbox's own request log), the seconds, the achieved
request rate and its ratio to the sandbox's rate limit (target >= 0.90), and checks exactly-once
(one bexio invoice per invoice, totals equal). Then runs the transfer again: 0 requests expected.

    .venv/bin/python bench/transfer_1000.py [--invoices 1000] [--latency-ms 100] [--limit 6000]
                                            [--concurrency 24] [--members 200] [--positions 3]

Contacts are created beforehand with one bulk contact sync (they are not what this measures).
Runs on a throw-away SQLite database in a temporary directory; loopback only.
"""

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _common import setup_django  # noqa: E402


class SandboxProcess:
    """`python -m bexio_sandbox` in a subprocess (its own CPU), with the control-API helpers used here."""

    def __init__(self, rate_limit: int):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bexio_sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--rate-limit",
                f"{rate_limit}/60",
            ],
            stderr=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        self.control = httpx.Client(base_url=self.url + "/_sandbox/", timeout=60)
        for _ in range(200):
            try:
                self.control.get("companies")
                break
            except httpx.TransportError:
                time.sleep(0.05)

    def token(self) -> str:
        return self.control.post("tokens", json={}).raise_for_status().json()["access_token"]

    def settings(self, **kw) -> dict:
        return self.control.put("settings", json=kw).raise_for_status().json()

    def requests(self, since: int = 0) -> list[dict]:
        return self.control.get("requests", params={"since": since}).raise_for_status().json()

    def last_id(self) -> int:
        entries = self.requests()
        return entries[-1]["id"] if entries else 0

    def close(self) -> None:
        self.control.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def make_club(client, n_members: int, n_invoices: int, n_positions: int):
    from aeroledger.bexio_link.masterdata.contacts import sync_contacts
    from aeroledger.bexio_link.masterdata.master import MasterData
    from aeroledger.bexio_link.masterdata.models import ChargeMapping, InvoiceSettings, Kind
    from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
    from aeroledger.billing.models import ChargeType, Invoice, InvoicePosition, InvoiceStatus
    from aeroledger.members.models import Member
    from aeroledger.tenancy.models import Organisation

    org = Organisation.objects.create(name="Bench club", slug="bench", bexio_option=True)
    refresh_master_data(org, client)
    master = MasterData(org)
    InvoiceSettings.objects.create(
        organisation=org, user=master.all(Kind.USER)[0], bank_account=master.bank_accounts()[0]
    )
    tax = master.sales_taxes()[0]
    account = master.earnings_accounts()[0]
    for ct in ChargeType.values:
        ChargeMapping.objects.create(organisation=org, charge_type=ct, account=account, tax=tax)
    Member.objects.bulk_create(
        Member(
            organisation=org,
            number=f"{i:05d}",
            first_name="Pilot",
            last_name=f"Nr{i}",
            street="Flugplatz",
            house_number="1",
            postcode="5242",
            city="Lupfig",
            country="CH",
            email=f"p{i}@example.test",
        )
        for i in range(1, n_members + 1)
    )
    sync_contacts(org, client)
    members = list(Member.objects.filter(organisation=org).order_by("number"))
    today = date.today()
    invoices = Invoice.objects.bulk_create(
        Invoice(
            organisation=org,
            number=f"B-{i:05d}",
            member=members[i % len(members)],
            date=today,
            due_date=today + timedelta(days=30),
            title=f"Flights {i}",
            status=InvoiceStatus.APPROVED,
        )
        for i in range(1, n_invoices + 1)
    )
    positions = []
    for inv in Invoice.objects.filter(organisation=org):
        for p in range(1, n_positions + 1):
            q, price = Decimal(30 + p), Decimal("4.20")
            positions.append(
                InvoicePosition(
                    invoice=inv,
                    pos=p,
                    charge_type="aircraft_time",
                    text=f"Flight {p}",
                    quantity=q,
                    unit_price=price,
                    amount=q * price,
                )
            )
    InvoicePosition.objects.bulk_create(positions)
    total = sum(Decimal(30 + p) * Decimal("4.20") for p in range(1, n_positions + 1))
    Invoice.objects.filter(organisation=org).update(total=total, amount_due=total)
    return org, len(invoices)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--positions", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--limit", type=int, default=6000, help="sandbox rate limit per minute")
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--issue", action="store_true", help="the organisation has 'issue automatically' on")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
        from aeroledger.bexio_link.transfer.start import transfer_invoices
        from bexio import BexioClient, RateGovernor, StaticToken

        sb = SandboxProcess(args.limit)
        try:
            client = BexioClient(
                base_url=sb.url,
                token_provider=StaticToken(sb.token()),
                timeout=30,
                governor=RateGovernor("bench"),
            )
            org, n = make_club(client, args.members, args.invoices, args.positions)
            if args.issue:
                from aeroledger.bexio_link.masterdata.models import InvoiceSettings

                InvoiceSettings.objects.filter(organisation=org).update(issue_automatically=True)
            sb.settings(latency_ms=args.latency_ms, rate_limit=args.limit)
            mark = sb.last_id()
            started, cpu_started = time.monotonic(), time.process_time()
            stats = transfer_invoices(org, client=client, concurrency=args.concurrency)
            seconds, cpu = time.monotonic() - started, time.process_time() - cpu_started
            log = [e for e in sb.requests(since=mark) if e["path"].startswith(("/2.0", "/3.0"))]
            by_kind: dict[str, int] = {}
            for e in log:
                key = f"{e['method']} {re.sub(r'/[0-9]+(?=/|$)', '/{id}', e['path'])}"
                by_kind[key] = by_kind.get(key, 0) + 1
            throttled = sum(1 for e in log if e.get("status") == 429)
            rate = len(log) / seconds * 60
            done = OutboxItem.objects.filter(
                organisation=org, kind=ItemKind.INVOICE, status=ItemStatus.DONE
            ).count()
            in_bexio = {}
            for inv in client.invoices.iter():
                in_bexio[inv.api_reference] = in_bexio.get(inv.api_reference, 0) + 1
            dupes = sum(1 for v in in_bexio.values() if v > 1)

            print(
                f"transfer of {n} invoices ({args.positions} positions each) at {args.latency_ms} ms "
                f"latency, limit {args.limit}/min, concurrency {args.concurrency}"
            )
            print(f"  result: {stats}")
            print(f"  done: {done}/{n}, bexio invoices: {len(in_bexio)}, duplicates: {dupes}")
            print(f"  requests: {len(log)} ({by_kind}), 429s: {throttled}")
            print(f"  requests per invoice: {len(log) / n:.2f}")
            print(f"  seconds: {seconds:.1f}, cpu ms per invoice (this process): {cpu * 1000 / n:.1f}")
            print(f"  achieved rate: {rate:.0f} requests/min = {rate / args.limit:.2f} of the limit")
            # A rate whose run did not transfer every invoice (or wrote one twice) is no result.
            finished = done == n and len(in_bexio) == n and dupes == 0
            print(f"  all transferred exactly once: {'yes' if finished else 'NO'}")
            mark = sb.last_id()
            again = time.monotonic()
            transfer_invoices(org, client=client, concurrency=args.concurrency)
            print(f"second run: {len(sb.requests(since=mark))} requests, {time.monotonic() - again:.2f} s")
            if not finished:
                sys.exit(1)
        finally:
            sb.close()


if __name__ == "__main__":
    main()
