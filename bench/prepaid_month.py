"""A prepaid club's month in bexio: 500 members, 2,000 charges, 300 top-ups, at 100 ms latency.

    .venv/bin/python bench/prepaid_month.py [--members 500] [--charges 2000] [--top-ups 300]
                                            [--latency-ms 100] [--concurrency 8]

Starts bexio-sandbox in a subprocess (its default rate limit, 1,000 requests a minute; the client's
rate governor paces), builds the club on a throw-away SQLite database: the sandbox's chart mapped
as a club maps it (aircraft time and landing fees 8.1 %, instruction exempt, top-ups on the 3090
clearing account, members' credit on 2030), invoices issued by the transfer, credit deposited
before connecting (booked as the opening balance first, not measured). Then the month: charges
billed and approved (credit pays the oldest first), top-up invoices approved, and:

1. the transfer: contacts (one bulk sync), invoices (what credit did not pay, top-ups) and the
   bookings of the credit used, counted in the sandbox's own request log;
2. the top-ups are paid in bexio (the bank's side, not measured), the status sync brings them back
   and their re-bookings (clearing account -> credit account) go to bexio (measured);
3. the reconciliation of the month and of everything up to today: requests, seconds, differences.

Prints the figures and a verdict (OK only when every write is in bexio and both reconciliations
find 0 differences). `rows(output)` turns the output into rows for `bench/run_all.py`.
"""

from __future__ import annotations

import argparse
import random
import re
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

from _common import free_port, setup_django  # noqa: E402


class Sandbox:
    """`python -m bexio_sandbox` in a subprocess (its own CPU), with the control-API calls used here."""

    def __init__(self):
        port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bexio_sandbox", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        self.control = httpx.Client(base_url=self.url + "/_sandbox/", timeout=120)
        for _ in range(400):
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

    def api_requests(self, since: int) -> list[dict]:
        return [e for e in self.requests(since) if e["path"].startswith(("/2.0", "/3.0", "/4.0"))]

    def close(self) -> None:
        self.control.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def kind_of(entry: dict) -> str:
    path = entry["path"]
    if "/contact" in path:
        return "contacts"
    if "/accounting/" in path:
        return "bookings"
    if "/kb_invoice" in path:
        return "invoices"
    return "other"


def by_kind(entries: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        out[kind_of(e)] = out.get(kind_of(e), 0) + 1
    return out


def build_club(client, n_members: int, today: date):
    """The club, mapped, its members in bexio's contacts, credit from before connecting booked."""
    from aeroledger.bexio_link.masterdata.master import MasterData
    from aeroledger.bexio_link.masterdata.models import ChargeMapping, InvoiceSettings, Kind
    from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
    from aeroledger.billing.models import ChargeType, CreditEntry, CreditKind
    from aeroledger.members.models import Member
    from aeroledger.tenancy.models import BillingMode, Organisation

    org = Organisation.objects.create(
        name="Prepaid club", slug="prepaid", bexio_option=True, billing_mode=BillingMode.PREPAID
    )
    refresh_master_data(org, client)
    master = MasterData(org)
    account = {a.data.get("account_no"): a for a in master.all(Kind.ACCOUNT)}
    tax = {t.data.get("code"): t for t in master.all(Kind.TAX)}
    InvoiceSettings.objects.create(
        organisation=org,
        user=master.all(Kind.USER)[0],
        bank_account=master.bank_accounts()[0],
        credit_account=account["2030"],
        corrections_account=account["3805"],
        issue_automatically=True,
    )
    for charge_type, number, code in (
        (ChargeType.AIRCRAFT_TIME, "3400", "UN81"),
        (ChargeType.INSTRUCTION, "3410", "UEX"),
        (ChargeType.LANDING_FEE, "3420", "UN81"),
        (ChargeType.TOP_UP, "3090", "UVZ"),
        (ChargeType.MANUAL, "3400", "UN81"),
    ):
        ChargeMapping.objects.create(
            organisation=org, charge_type=charge_type, account=account[number], tax=tax[code]
        )
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
    rnd = random.Random(1937)
    members = list(Member.objects.filter(organisation=org).order_by("number"))
    before = today.replace(day=1) - timedelta(days=45)
    CreditEntry.objects.bulk_create(
        CreditEntry(
            organisation=org,
            member=m,
            date=before,
            kind=CreditKind.DEPOSIT,
            amount=Decimal(rnd.choice([0, 200, 300, 500, 800, 1000, 1500])),
            text="Einzahlung",
        )
        for m in members
    )
    CreditEntry.objects.filter(organisation=org, amount=0).delete()
    return org, members, rnd


def connect(org) -> None:
    from aeroledger.bexio_link.connection.models import BexioConnection, Status

    BexioConnection.objects.create(organisation=org, status=Status.CONNECTED, company_id="bench")


def the_month(org, members, rnd, n_charges: int, n_top_ups: int, month: date):
    """Charges billed and approved, top-up invoices approved."""
    from aeroledger.billing.models import Charge, ChargeType, Invoice, InvoiceStatus
    from aeroledger.billing.runs import billing_run, create_top_up

    types = [
        (ChargeType.AIRCRAFT_TIME, "Flugzeit", (45, 120), Decimal("4.20")),
        (ChargeType.INSTRUCTION, "Schulung", (30, 90), Decimal("1.60")),
        (ChargeType.LANDING_FEE, "Landetaxe", (1, 3), Decimal("18.00")),
    ]
    charges = []
    for n in range(n_charges):
        charge_type, text, (low, high), price = types[0 if n % 2 == 0 else (1 if n % 4 == 1 else 2)]
        quantity = Decimal(rnd.randint(low, high))
        charge = Charge(
            organisation=org,
            member=members[n % len(members)],
            charge_type=charge_type,
            date=month + timedelta(days=n % 28),
            text=text,
            quantity=quantity,
            unit_price=price,
        )
        charge.amount = (quantity * price).quantize(Decimal("0.01"))
        charges.append(charge)
    Charge.objects.bulk_create(charges)
    billing_run(org, f"{month:%Y-%m}", approve=True)
    for member in rnd.sample(members, n_top_ups):
        create_top_up(org, member, Decimal(rnd.choice([200, 300, 500, 1000]))).approve(None)
    return Invoice.objects.filter(organisation=org).exclude(status=InvoiceStatus.CANCELLED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--charges", type=int, default=2000)
    parser.add_argument("--top-ups", type=int, default=300)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        from aeroledger.bexio_link.books import opening
        from aeroledger.bexio_link.books.reconcile import reconcile
        from aeroledger.bexio_link.connection.clients import using_client_factory
        from aeroledger.bexio_link.masterdata.contact_sync import sync_contacts
        from aeroledger.bexio_link.transfer.invoices.sync import sync_status
        from aeroledger.bexio_link.transfer.models import ItemStatus, OutboxItem
        from aeroledger.bexio_link.transfer.outbox.worker import run_outbox
        from aeroledger.bexio_link.transfer.start import transfer_invoices
        from aeroledger.billing.models import InvoiceKind
        from bexio import BexioClient, RateGovernor, StaticToken
        from bexio.models import PaymentCreate

        sb = Sandbox()
        client = BexioClient(
            base_url=sb.url,
            token_provider=StaticToken(sb.token()),
            timeout=60,
            governor=RateGovernor("bench"),
        )
        try:
            with using_client_factory(lambda org, context="": client):
                today = date.today()
                month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
                org, members, rnd = build_club(client, args.members, today)
                connect(org)
                state = opening.state(org)
                opening.book(
                    org,
                    account_id=state.default_account.bexio_id,
                    day=state.default_date,
                    expected=state.amount,
                )
                run_outbox(org_ids=[org.pk], client_factory=lambda _org: client)
                invoices = the_month(org, members, rnd, args.charges, args.top_ups, month)
                n_invoices = invoices.count()
                due = sum(1 for i in invoices if i.amount_due > 0)
                paid_by_credit = sum(1 for i in invoices if i.credit_applied > 0)
                sb.settings(latency_ms=args.latency_ms)

                mark = sb.last_id()
                started = time.monotonic()
                sync_contacts(org, client)
                stats = transfer_invoices(org, client=client, concurrency=args.concurrency)
                transfer_s = time.monotonic() - started
                transfer_log = sb.api_requests(mark)

                sb.settings(latency_ms=0)  # the bank's side: pay the top-ups in bexio (not measured)
                for inv in invoices.filter(kind=InvoiceKind.TOP_UP).select_related("bexio_invoice"):
                    client.invoices.payments(inv.bexio_invoice.bexio_id).create(
                        PaymentCreate(value=inv.total, date=today)
                    )
                sb.settings(latency_ms=args.latency_ms)
                mark = sb.last_id()
                started = time.monotonic()
                sync = sync_status(org, client)
                sync_s = time.monotonic() - started
                sync_n = len(sb.api_requests(mark))
                mark = sb.last_id()
                started = time.monotonic()
                run_outbox(org_ids=[org.pk], client_factory=lambda _org: client, concurrency=args.concurrency)
                rebook_s = time.monotonic() - started
                rebook_log = sb.api_requests(mark)

                open_items = (
                    OutboxItem.objects.filter(organisation=org).exclude(status=ItemStatus.DONE).count()
                )
                done_items = OutboxItem.objects.filter(organisation=org, status=ItemStatus.DONE).count()

                mark = sb.last_id()
                started = time.monotonic()
                month_result = reconcile(org, client=client, period=f"{month:%Y-%m}")
                month_s = time.monotonic() - started
                month_n = len(sb.api_requests(mark))
                mark = sb.last_id()
                started = time.monotonic()
                all_result = reconcile(org, client=client)
                all_s = time.monotonic() - started
                all_n = len(sb.api_requests(mark))
        finally:
            client.close()
            sb.close()

    writes = transfer_log + rebook_log
    per_member = len(writes) / args.members
    diffs = len(month_result.differences) + len(all_result.differences)
    ok = open_items == 0 and diffs == 0
    print(
        f"prepaid month of {args.members} members, {args.charges} charges, {args.top_ups} top-ups "
        f"at {args.latency_ms} ms latency (sandbox limit 1000/min, concurrency {args.concurrency})"
    )
    print(
        f"  invoices: {n_invoices} ({due} with something due go to bexio, {paid_by_credit} paid "
        f"(partly) from credit); writes in bexio: {done_items}, not done: {open_items}"
    )
    print(f"  transfer: {len(transfer_log)} requests {by_kind(transfer_log)} in {transfer_s:.1f} s; {stats}")
    print(f"  status sync: {sync_n} requests in {sync_s:.1f} s ({sync.payments} payments)")
    print(f"  top-up re-bookings: {len(rebook_log)} requests in {rebook_s:.1f} s")
    print(f"transfer requests per member: {per_member:.2f} ({len(writes)} requests)")
    print(f"transfer seconds: {transfer_s + rebook_s:.1f}")
    print(
        f"reconciliation of the month: {month_n} requests, {month_s:.1f} s, "
        f"{len(month_result.differences)} differences"
    )
    print(
        f"reconciliation up to today: {all_n} requests, {all_s:.1f} s, "
        f"{len(all_result.differences)} differences ({all_result.counts})"
    )
    for d in (month_result.differences + all_result.differences)[:10]:
        print(f"  difference: {d.as_json()}")
    print(f"verdict: {'OK' if ok else 'MISSED'} (writes not done: {open_items}, differences: {diffs})")
    if not ok:
        sys.exit(1)


def rows(out: str) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, target, verdict) rows for bench/run_all.py: `[Row(*r) for r in rows(out)]`."""

    def num(pattern: str):
        m = re.search(pattern, out)
        return float(m.group(1)) if m else None

    per_member = num(r"transfer requests per member: ([\d.]+)")
    seconds = num(r"transfer seconds: ([\d.]+)")
    m = re.search(r"reconciliation up to today: (\d+) requests, ([\d.]+) s, (\d+) differences", out)
    mm = re.search(r"reconciliation of the month: (\d+) requests, ([\d.]+) s, (\d+) differences", out)
    verdict = re.search(r"verdict: (OK|MISSED)", out)
    return [
        (
            "prepaid month 500 members @100 ms: transfer",
            f"{per_member} requests/member, {seconds} s" if per_member is not None else "?",
            "(figure)",
            "n/a",
        ),
        (
            "prepaid month: reconciliation (month; up to today)",
            f"{mm.group(1)} req {mm.group(2)} s; {m.group(1)} req {m.group(2)} s" if m and mm else "?",
            "(figure)",
            "n/a",
        ),
        (
            "prepaid month: all written, differences",
            f"{int(mm.group(3)) + int(m.group(3))} differences" if m and mm else "?",
            "all done, 0",
            ("OK" if verdict.group(1) == "OK" else "MISSED") if verdict else "MISSED",
        ),
    ]


if __name__ == "__main__":
    main()
