"""Transfer of 1,000 approved invoices to the sandbox at 100 ms latency, rate limit 6,000/min.

Prints the requests per invoice (from the sandbox's own request log), the seconds, the achieved
request rate and its ratio to the sandbox's rate limit (target >= 0.90), and checks exactly-once
(one bexio invoice per invoice, totals equal). Then runs the transfer again: 0 requests expected.

    .venv/bin/python bench/transfer_1000.py [--invoices 1000] [--latency-ms 100] [--limit 6000]
                                            [--concurrency 24] [--members 200] [--positions 3]
                                            [--faults 0.1 [--fault-effect drop]] [--recorded-limits]

`--faults SHARE`: that share of `POST /2.0/kb_invoice` is answered and committed by the sandbox, then
the answer is lost (fail-after-commit), so the worker must look the invoice up before it retries.
With `--faults` (or `--recorded-limits`) the sandbox keeps bexio's recorded limits per bucket
(`bexio.buckets.LIMITS`: default 1000/min, searches 250/min, ...) instead of `--limit`. Always
printed: per bucket the requests (bucket of each logged request by `bexio.buckets.bucket_for`), the
answers 429, the rate over the transfer's wall time and its ratio to the bucket's recorded limit,
and the busiest clock minute (the sandbox's fixed window). The verdict fails (exit status 1) unless
every invoice is in bexio exactly once (0 duplicates, 0 lost) and no answer was a 429.

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

API_PREFIXES = ("/2.0", "/3.0", "/4.0")


class SandboxProcess:
    """`python -m bexio_sandbox` in a subprocess (its own CPU), with the control-API helpers used here."""

    def __init__(self, rate_limit: int | None = None):
        """`rate_limit`: the default bucket's limit per minute; None keeps bexio's recorded limits."""
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
                *(["--rate-limit", f"{rate_limit}/60"] if rate_limit is not None else []),
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

    def fault(self, **spec) -> dict:
        return self.control.post("faults", json=spec).raise_for_status().json()

    def close(self) -> None:
        self.control.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def api_requests(entries: list[dict]) -> list[dict]:
    """The bexio API requests of a request-log excerpt (not the token endpoint, not the control API)."""
    return [e for e in entries if e["path"].startswith(API_PREFIXES)]


def bucket_report(
    entries: list[dict], seconds: float, limits: dict[str, int] | None = None
) -> dict[str, dict]:
    """Per rate bucket (`bexio.buckets.bucket_for` of each logged request): requests, answers 429,
    requests per minute over `seconds`, the ratio to the bucket's limit (bexio's recorded one unless
    `limits` overrides it, as the sandbox's `--rate-limit` does), and the requests logged per clock
    minute (the sandbox's windows are clock minutes), the busiest one."""
    from bexio.buckets import bucket_for, limit_of

    report: dict[str, dict] = {}
    minutes: dict[tuple[str, str], int] = {}
    for e in api_requests(entries):
        bucket = bucket_for(e["method"], e["path"])
        row = report.setdefault(
            bucket, {"requests": 0, "429": 0, "limit": (limits or {}).get(bucket) or limit_of(bucket)}
        )
        row["requests"] += 1
        row["429"] += e.get("status") == 429
        key = (bucket, e["time"][:16])  # 2026-12-02T10:46
        minutes[key] = minutes.get(key, 0) + 1
    for bucket, row in report.items():
        row["per_min"] = row["requests"] / seconds * 60 if seconds > 0 else float("nan")
        row["ratio"] = row["per_min"] / row["limit"]
        row["minutes"] = [n for (b, _m), n in sorted(minutes.items()) if b == bucket]
        row["busiest_minute"] = max(row["minutes"])
    return dict(sorted(report.items(), key=lambda kv: -kv[1]["requests"]))


def print_buckets(report: dict[str, dict], indent: str = "  ") -> None:
    for bucket, row in report.items():
        print(
            f"{indent}bucket {bucket}: {row['requests']} requests, {row['429']} x 429, "
            f"{row['per_min']:.0f}/min = {row['ratio']:.2f} x its limit {row['limit']}/min, "
            f"per clock minute {row['minutes']} "
            f"(busiest {row['busiest_minute'] / row['limit']:.2f} x the limit)"
        )


def make_club(client, n_members: int, n_invoices: int, n_positions: int):
    from aeroledger.bexio_link.masterdata.contact_sync import sync_contacts
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
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="the sandbox's default-bucket limit per minute (6000; with --faults: bexio's recorded 1000)",
    )
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--issue", action="store_true", help="the organisation has 'issue automatically' on")
    parser.add_argument(
        "--faults",
        type=float,
        default=0.0,
        help="share of invoice creates whose answer is lost after bexio stored it (e.g. 0.1)",
    )
    parser.add_argument("--fault-effect", default="drop", help="drop (default), timeout or status:<code>")
    parser.add_argument("--fault-seed", type=int, default=7)
    parser.add_argument(
        "--recorded-limits",
        action="store_true",
        help="bexio's recorded limits per bucket (the default with --faults)",
    )
    parser.add_argument(
        "--align",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start the transfer at the next clock minute, a fresh window (default with recorded limits)",
    )
    args = parser.parse_args()
    recorded = args.recorded_limits or (args.faults > 0 and args.limit is None)
    if recorded and args.limit is not None:
        parser.error("--recorded-limits and --limit exclude each other")
    limit = None if recorded else (args.limit or 6000)
    align = recorded if args.align is None else args.align

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
        from aeroledger.bexio_link.transfer.start import transfer_invoices
        from aeroledger.billing.models import Invoice
        from bexio import BexioClient, RateGovernor, StaticToken
        from bexio.buckets import DEFAULT, LIMITS

        sb = SandboxProcess(limit)
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
            sb.settings(latency_ms=args.latency_ms, **({"rate_limit": limit} if limit else {}))
            if args.faults > 0:
                sb.fault(
                    method="POST",
                    path=r"^/2\.0/kb_invoice$",
                    when="after_commit",
                    effect=args.fault_effect,
                    probability=args.faults,
                    seed=args.fault_seed,
                )
            if align:
                # The sandbox's windows are clock minutes. Started in a fresh one, the transfer meets
                # the whole limit in its first minute (no set-up requests in it, no lucky boundary).
                time.sleep(60.2 - time.time() % 60)
            loadavg = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
            mark = sb.last_id()
            started, cpu_started = time.monotonic(), time.process_time()
            stats = transfer_invoices(org, client=client, concurrency=args.concurrency)
            seconds, cpu = time.monotonic() - started, time.process_time() - cpu_started
            entries = sb.requests(since=mark)
            log = api_requests(entries)
            by_kind: dict[str, int] = {}
            for e in log:
                key = f"{e['method']} {re.sub(r'/[0-9]+(?=/|$)', '/{id}', e['path'])}"
                by_kind[key] = by_kind.get(key, 0) + 1
            throttled = sum(1 for e in log if e.get("status") == 429)
            faults_fired = sum(1 for e in log if e.get("fault"))
            rate = len(log) / seconds * 60
            buckets = bucket_report(entries, seconds, {DEFAULT: limit} if limit else None)
            done = OutboxItem.objects.filter(
                organisation=org, kind=ItemKind.INVOICE, status=ItemStatus.DONE
            ).count()
            in_bexio: dict[str, int] = {}
            for inv in client.invoices.iter():
                in_bexio[inv.api_reference] = in_bexio.get(inv.api_reference, 0) + 1
            ours = {str(u) for u in Invoice.objects.filter(organisation=org).values_list("uuid", flat=True)}
            dupes = sum(1 for v in in_bexio.values() if v > 1)
            lost = len(ours - set(in_bexio))
            unknown = len(set(in_bexio) - ours)

            limits = (
                "bexio's recorded limits ("
                + ", ".join(f"{b} {n}" for b, n in LIMITS.items() if b in buckets or b == DEFAULT)
                + " per min)"
                if recorded
                else f"limit {limit}/min"
            )
            print(
                f"transfer of {n} invoices ({args.positions} positions each) at {args.latency_ms} ms "
                f"latency, {limits}, concurrency {args.concurrency}"
                + (
                    f", {args.faults:.0%} of creates lost after commit ({args.fault_effect})"
                    if args.faults
                    else ""
                )
                + (", started in a fresh window (clock minute)" if align else "")
            )
            print(f"  load average at the start: {' '.join(loadavg) or '?'}")
            print(f"  result: {stats}")
            print(
                f"  done: {done}/{n}, bexio invoices: {sum(in_bexio.values())}, duplicates: {dupes}, "
                f"lost: {lost}, unknown: {unknown}"
            )
            print(f"  requests: {len(log)} ({by_kind}), 429s: {throttled}, faults fired: {faults_fired}")
            print(f"  requests per invoice: {len(log) / n:.2f}")
            print(f"  seconds: {seconds:.1f}, cpu ms per invoice (this process): {cpu * 1000 / n:.1f}")
            if recorded:
                print(f"  achieved rate, all buckets together: {rate:.0f} requests/min")
            else:
                print(f"  achieved rate: {rate:.0f} requests/min = {rate / limit:.2f} of the limit")
            print(
                "  per bucket (rate over the transfer's seconds, ratio to the bucket's limit in the sandbox):"
            )
            print_buckets(buckets, indent="    ")
            # A rate whose run did not transfer every invoice (or wrote one twice) is no result.
            finished = done == n and sum(in_bexio.values()) == n and dupes == lost == unknown == 0
            print(f"  all transferred exactly once: {'yes' if finished else 'NO'}")
            mark = sb.last_id()
            again = time.monotonic()
            transfer_invoices(org, client=client, concurrency=args.concurrency)
            rerun = len(sb.requests(since=mark))
            print(f"second run: {rerun} requests, {time.monotonic() - again:.2f} s")
            throttled_all = sum(1 for e in api_requests(sb.requests()) if e.get("status") == 429)
            problems = []
            if not finished:
                problems.append(
                    f"not every invoice in bexio exactly once ({done}/{n} done, {dupes} dup, {lost} lost)"
                )
            if throttled_all:
                problems.append(f"{throttled_all} answers 429 (setup and checks included)")
            if rerun:
                problems.append(f"the second run sent {rerun} requests")
            print(f"verdict: {'OK' if not problems else 'FAIL: ' + '; '.join(problems)}")
            if problems:
                sys.exit(1)
        finally:
            sb.close()


if __name__ == "__main__":
    main()
