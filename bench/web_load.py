"""The web app under load: every page kind for one user, then 50 users while a transfer runs.

Builds on PostgreSQL (database `webload`, created and dropped here) an organisation with 50,000
invoices, 5,000 members, their credit accounts (a deposit each, a debit per invoice, payments on
the paid invoices), 20,000 flights with their charges, twelve billing runs and the bexio transfer
state of the transferred invoices (bulk_create), and a second organisation connected to the bexio
sandbox. Serves the app with gunicorn on a free loopback port, then:

1. one user (one thread, one session) requests the page kinds in turn for `--single-seconds`:
   dashboard, member list (random pages, searches, sorted by name, below the threshold), member
   page, invoice list (random pages, filters, totals), invoice page, credit accounts, flights;
2. `--users` threads (httpx, each with its own logged-in session) pick page kinds at random for
   `--seconds` while a worker process transfers the second organisation's `--transfer-invoices`
   invoices to the sandbox (100 ms latency); after the load the worker may finish its batch.

Prints per page kind n, p50 and p95 for one user; requests, errors, throughput, p50/p95/p99 and
per-kind p95 for the 50 users; and a verdict line with the targets (one user: p95 <= 150 ms for
every page kind; 50 users: p95 < 1500 ms and throughput >= `--target-rps`). The verdict FAILS and
the exit status is 1 when a target is missed, a request failed, a page kind was never measured or
the transfer alongside did not finish its batch (the work did not finish).

    .venv/bin/python bench/web_load.py [--users 50] [--seconds 30] [--single-seconds 30]
                                       [--invoices 50000] [--members 5000] [--flights 20000]
                                       [--gunicorn-workers 3] [--threads 4] [--transfer-invoices 300]
                                       [--target-rps 52] [--db webload]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "src"))

from _common import free_port, pct, pg_admin, pg_url, teardown_postgres  # noqa: E402

DB = "webload"
SINGLE_P95_MS = 150
MANY_P95_MS = 1500
LAST_NAMES = ["Müller", "Mueller", "Muster", "Bärtschi", "Brunner", "Keller", "Zürcher", "Égger", "Pilot"]


def build_big_org(n_members: int, n_invoices: int, n_flights: int, n_users: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from aeroledger.bexio_link.transfer.models import InvoiceLink, ItemKind, OutboxItem
    from aeroledger.billing.models import (
        BillingRun,
        Charge,
        CreditEntry,
        Invoice,
        InvoicePayment,
        InvoicePosition,
        InvoiceStatus,
    )
    from aeroledger.flights.models import Aircraft, Flight
    from aeroledger.members.models import Member
    from aeroledger.tenancy.models import Membership, Organisation

    org = Organisation.objects.create(name="Big club", slug="big", bexio_option=True)
    rnd = random.Random(5)
    members = [
        Member(
            organisation=org,
            number=f"{i:06d}",
            first_name=rnd.choice(["Anna", "Beat", "Luca", "Zoë"]),
            last_name=f"{rnd.choice(LAST_NAMES)} {i}",
            street="Weg",
            house_number="1",
            postcode="5242",
            city="Lupfig",
            country="CH",
            email=f"m{i}@example.ch",
            invoice_to=None,
        )
        for i in range(n_members)
    ]
    for m in members:
        if hasattr(m, "update_sort_name"):  # the stored name sort key (absent in older versions)
            m.update_sort_name()
    Member.objects.bulk_create(members, batch_size=2000)
    member_ids = list(Member.objects.filter(organisation=org).order_by("id").values_list("id", flat=True))
    # Every tenth member is paid for by the member before it.
    for k in range(1, len(member_ids), 10):
        Member.objects.filter(pk=member_ids[k]).update(invoice_to_id=member_ids[k - 1])
    today = date.today()
    runs = BillingRun.objects.bulk_create(
        BillingRun(organisation=org, period_start=date(2026, m, 1), period_end=date(2026, m, 28))
        for m in range(1, 13)
    )
    statuses = [InvoiceStatus.DRAFT, InvoiceStatus.APPROVED, InvoiceStatus.TRANSFERRED, InvoiceStatus.PAID]
    amount = Decimal("123.45")

    def from_credit(i: int) -> bool:
        """Every other paid invoice was paid from credit in full (a statement: nothing invoiced)."""
        return i % 8 == 3

    Invoice.objects.bulk_create(
        (
            Invoice(
                organisation=org,
                number=f"2026-{i:06d}",
                member_id=member_ids[i % len(member_ids)],
                status=statuses[i % 4],
                date=today - timedelta(days=i % 365),
                due_date=today + timedelta(days=30),
                title=f"Flights {i}",
                total=amount,
                credit_applied=amount if from_credit(i) else Decimal("0.00"),
                amount_due=Decimal("0.00") if from_credit(i) else amount,
                run=runs[i % 12],
            )  # fmt: skip
            for i in range(n_invoices)
        ),
        batch_size=5000,
    )
    invoices = list(
        Invoice.objects.filter(organisation=org)
        .order_by("id")
        .values_list("id", "member_id", "status", "number", "uuid", "date")
    )
    invoice_ids = [row[0] for row in invoices]
    InvoicePosition.objects.bulk_create(
        (
            InvoicePosition(
                invoice_id=i,
                pos=1,
                charge_type="manual",
                text="Flight",
                quantity=1,
                unit_price=amount,
                amount=amount,
                credit_covered=amount if from_credit(n) else Decimal("0.00"),
            )  # fmt: skip
            for n, i in enumerate(invoice_ids)
        ),
        batch_size=5000,
    )
    # Credit accounts: a deposit per member, credit used by the invoices it paid; payments of the
    # other paid invoices (as the status sync books them).
    entries = [
        CreditEntry(
            organisation=org, member_id=m, kind="deposit", amount=Decimal(rnd.randrange(0, 300000)) / 100
        )
        for m in member_ids
    ]
    payments = []
    for n, (i, m, status, _nr, _u, day) in enumerate(invoices):
        if from_credit(n):
            entries.append(
                CreditEntry(
                    organisation=org, member_id=m, kind="usage", amount=-amount, invoice_id=i, date=day
                )
            )
        elif status == InvoiceStatus.PAID:
            payments.append(
                InvoicePayment(
                    organisation=org, invoice_id=i, date=day, amount=amount, external_ref=f"bexio-payment:{i}"
                )
            )
    CreditEntry.objects.bulk_create(entries, batch_size=5000)
    InvoicePayment.objects.bulk_create(payments, batch_size=5000)
    # The outbox: the transferred and paid invoices (and the bookings of the credit that paid
    # statements) done, with their bexio links; a few failed and waiting ones.
    items, links = [], []
    for n, (i, _m, status, number, uid, _day) in enumerate(invoices):
        if from_credit(n):
            items.append(
                OutboxItem(
                    organisation=org, kind=ItemKind.MANUAL_ENTRY, key=f"AL-big-U{number}", invoice_id=i,
                    status="done", bexio_id=i, bexio_ref=f"AL-big-U{number}", label=number,
                )
            )  # fmt: skip
        elif status in (InvoiceStatus.TRANSFERRED, InvoiceStatus.PAID):
            items.append(
                OutboxItem(
                    organisation=org, kind=ItemKind.INVOICE, key=str(uid), invoice_id=i, status="done",
                    bexio_id=i, bexio_ref=f"RE-{i}", label=number,
                )
            )  # fmt: skip
            links.append(
                InvoiceLink(
                    organisation=org, invoice_id=i, bexio_id=i, document_nr=f"RE-{i}", bexio_total=amount
                )
            )
        elif status == InvoiceStatus.APPROVED and n % 40 == 1:
            items.append(
                OutboxItem(
                    organisation=org, kind=ItemKind.INVOICE, key=str(uid), invoice_id=i, status="failed",
                    last_error="x", label=number,
                )
            )  # fmt: skip
        elif status == InvoiceStatus.APPROVED and n % 40 == 5:
            items.append(
                OutboxItem(
                    organisation=org, kind=ItemKind.INVOICE, key=str(uid), invoice_id=i, status="pending",
                    label=number,
                )
            )  # fmt: skip
    OutboxItem.objects.bulk_create(items, batch_size=5000)
    InvoiceLink.objects.bulk_create(links, batch_size=5000)
    # Flights with their aircraft-time charge.
    fleet = [
        Aircraft.objects.create(
            organisation=org,
            registration=f"HB-K{c}",
            type_name="C172",
            price_per_minute=Decimal("4.20"),
            instruction_price_per_minute=Decimal("1.50"),
        )
        for c in "ABC"
    ]
    Flight.objects.bulk_create(
        (
            Flight(
                organisation=org,
                date=today - timedelta(days=i % 365),
                aircraft=fleet[i % 3],
                pilot_id=member_ids[i % len(member_ids)],
                block_minutes=30 + i % 90,
            )  # fmt: skip
            for i in range(n_flights)
        ),
        batch_size=5000,
    )
    flights = list(
        Flight.objects.filter(organisation=org).values_list("id", "pilot_id", "aircraft_id", "date")
    )
    Charge.objects.bulk_create(
        (
            Charge(
                organisation=org,
                member_id=p,
                charge_type="aircraft_time",
                aircraft_id=a,
                flight_id=f,
                date=d,
                text="Flight",
                quantity=60,
                unit_price=Decimal("4.20"),
                amount=Decimal("252.00"),
            )  # fmt: skip
            for f, p, a, d in flights
        ),
        batch_size=5000,
    )
    User = get_user_model()
    password = make_password("load-test-pw")
    User.objects.bulk_create(User(username=f"load{i}", password=password) for i in range(n_users))
    users = list(User.objects.filter(username__startswith="load").order_by("id"))
    Membership.objects.bulk_create(
        Membership(user=u, organisation=org, manage_settings=True, manage_invoicing=True, manage_members=True)
        for u in users
    )
    return org, users, member_ids, invoice_ids


def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    # The backend that loads users (the first ones may only throttle logins).
    from django.contrib.auth import load_backend

    backend = next(b for b in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(b), "get_user"))
    s[BACKEND_SESSION_KEY] = backend
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key


def page_kinds(slug: str, n_invoices: int, n_members: int, n_flights: int, member_ids, invoice_ids):
    """(kind, url maker) pairs; a kind listed twice is picked twice as often."""
    pages = max(1, n_invoices // 50)
    member_pages = max(1, n_members // 50)
    flight_pages = max(1, n_flights // 50)
    statuses = ["draft", "approved", "open", "paid"]
    invoices = f"/o/{slug}/invoicing/invoices/"
    return [
        ("dashboard", lambda r: f"/o/{slug}/"),
        ("invoice list", lambda r: f"/o/{slug}/invoicing/invoices/?page={r.randint(1, pages)}"),
        ("invoice list", lambda r: f"{invoices}?status={r.choice(statuses)}&page={r.randint(1, 20)}"),
        ("invoice list", lambda r: f"{invoices}?show=owed&sort=name&page={r.randint(1, 50)}"),
        ("member list", lambda r: f"/o/{slug}/members/?page={r.randint(1, member_pages)}"),
        ("member list", lambda r: f"/o/{slug}/members/?q={r.choice(LAST_NAMES)}%20{r.randint(1, n_members)}"),
        ("invoice", lambda r: f"/o/{slug}/invoicing/invoices/{r.choice(invoice_ids)}/"),
        ("member", lambda r: f"/o/{slug}/members/{r.choice(member_ids)}/"),
        ("credit accounts", lambda r: f"/o/{slug}/credit-accounts/?page={r.randint(1, member_pages)}"),
        ("credit accounts", lambda r: f"/o/{slug}/credit-accounts/?balance=low"),
        ("flights", lambda r: f"/o/{slug}/flights/?page={r.randint(1, flight_pages)}"),
    ]  # fmt: skip


def cpu_seconds(pids) -> dict[int, float]:
    """{pid: user + system CPU seconds so far} of these processes (Linux /proc)."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two samples (a process that appeared in between counts in full)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def server_pids(server, db: str) -> tuple[list[int], list[int]]:
    """gunicorn's master and workers, and the PostgreSQL backends of database `db`."""
    found = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    pattern = f"postgres: .*: [^ ]+ {db} "
    backends = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    return [server.pid, *map(int, found)], list(map(int, backends))


def load(base, cookies, kinds, *, users: int, seconds: float, cycle: bool, cookie_name: str):
    """`users` threads browse for `seconds`; {kind: [ms]}, errors, elapsed seconds."""
    import httpx

    results: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def user(n: int) -> None:
        r = random.Random(n)
        with httpx.Client(base_url=base, timeout=60, cookies={cookie_name: cookies[n]}) as c:
            for step in range(100_000):  # bounded; the deadline ends it first
                if time.monotonic() >= deadline:
                    return
                kind, make = kinds[step % len(kinds)] if cycle else r.choice(kinds)
                url = make(r)
                t0 = time.perf_counter()
                try:
                    resp = c.get(url)
                    ok, status = resp.status_code < 400, resp.status_code
                except httpx.HTTPError as exc:
                    ok, status = False, type(exc).__name__
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    results[kind].append(ms)
                    if not ok:
                        errors.append(f"{status} {url}")

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    started = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results, errors, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--single-seconds", type=float, default=30)
    parser.add_argument("--invoices", type=int, default=50000)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--flights", type=int, default=20000)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--transfer-invoices", type=int, default=300)
    parser.add_argument(
        "--transfer-grace", type=float, default=120, help="seconds the transfer may take after the load"
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build, keep the database, stop (profiling)"
    )
    parser.add_argument("--db", default=DB, help="PostgreSQL database to create and drop (default webload)")
    parser.add_argument(
        "--target-rps", type=float, default=52, help="50 users: twice the 26 req/s measured before"
    )
    args = parser.parse_args()

    import httpx
    import transfer_1000

    import campaign

    db = args.db
    tmp = tempfile.mkdtemp(prefix="webload-")
    pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {db}")
    sb = transfer_1000.SandboxProcess(6000)
    server = worker = None
    try:
        campaign.setup_env(tmp, pg_url(db), sb.url)
        os.environ["BEXIO_TIMEOUT_S"] = "30"
        os.environ["DB_CONN_MAX_AGE"] = "60"
        campaign.django_setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off: the manifest is needed
        t = time.monotonic()
        org, users, member_ids, invoice_ids = build_big_org(
            args.members, args.invoices, args.flights, args.users
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now: statistics, visibility map
        print(
            f"built {args.invoices} invoices, {args.members} members, {args.flights} flights "
            f"in {time.monotonic() - t:.0f} s"
        )
        cookies = [session_cookie(u) for u in users]
        if args.build_only:
            print(f"kept database {db}; users load0..load{args.users - 1}, password load-test-pw")
            sb.close()
            connection.close()
            os._exit(0)  # leaves the database in place (the finally clause would drop it)

        # A second organisation whose transfer runs during the 50-user load.
        from bexio import BexioClient, StaticToken

        tokens = sb.control.post("tokens", json={"scopes": campaign.ALL_SCOPES}).json()
        with BexioClient(base_url=sb.url, token_provider=StaticToken(tokens["access_token"])) as client:
            side = campaign.build_org(900, args.transfer_invoices, random.Random(9), client)
        from django.utils import timezone

        from aeroledger.bexio_link.connection.models import BexioConnection, Status
        from aeroledger.bexio_link.transfer.start import start_transfer

        conn = BexioConnection(organisation=side, status=Status.CONNECTED, company_id=tokens["company_id"])
        conn.set_tokens(tokens["access_token"], tokens["refresh_token"])
        conn.expires_at = timezone.now() + timedelta(seconds=int(tokens["expires_in"]))
        conn.granted_scopes = sorted(set(tokens["scope"].split()))
        conn.save()
        start_transfer(side, enqueue_task=False)
        sb.settings(latency_ms=100)
        connection.close()

        port = free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "aeroledger.wsgi:application"]
        gunicorn += [
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(args.gunicorn_workers),
            "--threads",
            str(args.threads),
        ]
        server_log = open(Path(tmp) / "gunicorn.log", "w")  # noqa: SIM115 - closed with the directory
        server = subprocess.Popen(gunicorn, env=env, stdout=subprocess.DEVNULL, stderr=server_log)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(base + "/login/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        kinds = page_kinds(org.slug, args.invoices, args.members, args.flights, member_ids, invoice_ids)
        cookie_name = settings.SESSION_COOKIE_NAME
        # Warm up: every worker process imports and compiles templates once.
        load(
            base,
            cookies,
            kinds,
            users=min(len(cookies), args.gunicorn_workers * 2),
            seconds=5,
            cycle=True,
            cookie_name=cookie_name,
        )

        # 1. One user, each page kind in turn. The CPU the pages cost (gunicorn and PostgreSQL, per
        # request) is the figure that the load of other programs on a shared machine changes least.
        web_before, pg_before = (cpu_seconds(pids) for pids in server_pids(server, db))
        single, single_errors, _e = load(
            base, cookies, kinds, users=1, seconds=args.single_seconds, cycle=True, cookie_name=cookie_name
        )
        n_single = sum(len(v) for v in single.values()) or 1
        web_after, pg_after = (cpu_seconds(pids) for pids in server_pids(server, db))
        cpu_web = 1000 * cpu_spent(web_before, web_after) / n_single
        cpu_pg = 1000 * cpu_spent(pg_before, pg_after) / n_single
        # 2. Many users while a transfer runs.
        worker_cmd = [sys.executable, str(BENCH / "campaign.py"), "--worker", "--org", str(side.pk)]
        worker_cmd += ["--concurrency", "8"]
        worker = subprocess.Popen(
            worker_cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        many, many_errors, elapsed = load(
            base, cookies, kinds, users=args.users, seconds=args.seconds, cycle=False, cookie_name=cookie_name
        )
        from aeroledger.bexio_link.transfer.models import OutboxItem

        side_items = OutboxItem.objects.filter(organisation=side)
        writes = side_items.count()  # an invoice for what is due, a booking for the credit used
        done_during = side_items.filter(status="done").count()
        try:
            worker.wait(timeout=args.transfer_grace)
        except subprocess.TimeoutExpired:
            pass
        done = side_items.filter(status="done").count()

        # --- report --------------------------------------------------------------------------------
        all_kinds = sorted({k for k, _m in kinds})
        print(
            f"1 user for {args.single_seconds:.0f} s, each page kind in turn "
            f"(gunicorn {args.gunicorn_workers}x{args.threads}, PostgreSQL):"
        )
        missed = []
        for kind in all_kinds:
            vs = single.get(kind, [])
            if not vs:
                missed.append(f"{kind}: not measured")
                print(f"    {kind:15s} n=    0")
                continue
            p95 = pct(vs, 0.95)
            if p95 > SINGLE_P95_MS:
                missed.append(f"1 user {kind} p95 {p95:.0f} ms > {SINGLE_P95_MS}")
            print(f"    {kind:15s} n={len(vs):5d}  p50 {statistics.median(vs):6.0f}  p95 {p95:6.0f} ms")
        print(f"  CPU per request: gunicorn {cpu_web:.1f} ms, PostgreSQL {cpu_pg:.1f} ms")
        allv = [v for vs in many.values() for v in vs]
        rps = len(allv) / elapsed if elapsed else 0.0
        print(
            f"{args.users} users for {elapsed:.0f} s on {args.invoices} invoices / {args.members} members "
            f"(gunicorn {args.gunicorn_workers}x{args.threads}, PostgreSQL), transfer running alongside"
        )
        errors = single_errors + many_errors
        print(f"  requests: {len(allv)}, errors: {len(errors)}, throughput: {rps:.1f} req/s")
        p95_many = pct(allv, 0.95)
        print(f"  latency ms: p50 {pct(allv, 0.5):.0f}  p95 {p95_many:.0f}  p99 {pct(allv, 0.99):.0f}")
        for kind in all_kinds:
            vs = many.get(kind, [])
            if not vs:
                missed.append(f"{args.users} users {kind}: not measured")
                continue
            p50, p95 = statistics.median(vs), pct(vs, 0.95)
            print(f"    {kind:15s} n={len(vs):5d}  p50 {p50:6.0f}  p95 {p95:6.0f} ms")
        print(
            f"  transfer alongside ({args.transfer_invoices} invoices, {writes} writes): "
            f"{done_during}/{writes} done during the load, {done}/{writes} at the end"
        )
        if not allv or p95_many >= MANY_P95_MS:
            missed.append(f"{args.users} users p95 {p95_many:.0f} ms >= {MANY_P95_MS}")
        if rps < args.target_rps:
            missed.append(f"{args.users} users {rps:.1f} req/s < {args.target_rps:g}")
        if errors:
            missed.append(f"{len(errors)} requests failed")
            print(f"  first errors: {errors[:5]}")
            print("  server log (tail):\n" + (Path(tmp) / "gunicorn.log").read_text()[-3000:])
        if done < writes or not writes:
            missed.append(f"the transfer alongside did not finish ({done}/{writes} writes)")
        verdict = "OK" if not missed else "FAIL: " + "; ".join(missed)
        print(
            f"verdict: {verdict} (targets: 1 user p95 <= {SINGLE_P95_MS} ms per page kind; "
            f"{args.users} users p95 < {MANY_P95_MS} ms, >= {args.target_rps:g} req/s; "
            "no errors; work finished)"
        )
        return 0 if not missed else 1
    finally:
        for p in (worker, server):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        teardown_postgres(sb, db, tmp)


if __name__ == "__main__":
    sys.exit(main())
