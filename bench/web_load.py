"""The web app under load: 50 concurrent users browsing a big organisation while a transfer runs.

Builds on PostgreSQL (database `webload`, created and dropped here) an organisation with 50,000
invoices and 5,000 members (bulk_create), and a second organisation connected to the bexio sandbox
whose transfer a worker process runs during the load. Serves the app with gunicorn on a free
loopback port, then `--users` threads (httpx, each with its own logged-in session) browse member
and invoice lists (random pages, searches), member and invoice pages for `--seconds` seconds.
Prints requests, errors (any status >= 400 or exception), throughput, and p50/p95/p99 latency,
overall and per page kind.

    .venv/bin/python bench/web_load.py [--users 50] [--seconds 30] [--invoices 50000] [--members 5000]
                                       [--gunicorn-workers 3] [--threads 4]
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

from _common import free_port, pct, pg_admin, teardown_postgres  # noqa: E402

DB = "webload"


def build_big_org(n_members: int, n_invoices: int, n_users: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from aeroledger.billing.models import Invoice, InvoicePosition, InvoiceStatus
    from aeroledger.members.models import Member
    from aeroledger.tenancy.models import Membership, Organisation

    org = Organisation.objects.create(name="Big club", slug="big", bexio_option=True)
    rnd = random.Random(5)
    Member.objects.bulk_create(
        (
            Member(
                organisation=org,
                number=f"{i:06d}",
                first_name=rnd.choice(["Anna", "Beat", "Luca", "Zoë"]),
                last_name=f"Pilot{i}",
                street="Weg",
                house_number="1",
                postcode="5242",
                city="Lupfig",
                country="CH",
                email=f"m{i}@example.ch",
            )  # fmt: skip
            for i in range(n_members)
        ),
        batch_size=2000,
    )
    member_ids = list(Member.objects.filter(organisation=org).values_list("id", flat=True))
    today = date.today()
    statuses = [InvoiceStatus.DRAFT, InvoiceStatus.APPROVED, InvoiceStatus.TRANSFERRED, InvoiceStatus.PAID]
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
                total=Decimal("123.45"),
                amount_due=Decimal("123.45"),
            )  # fmt: skip
            for i in range(n_invoices)
        ),
        batch_size=5000,
    )
    invoice_ids = list(Invoice.objects.filter(organisation=org).values_list("id", flat=True))
    InvoicePosition.objects.bulk_create(
        (
            InvoicePosition(
                invoice_id=i,
                pos=1,
                charge_type="manual",
                text="Flight",
                quantity=1,
                unit_price=Decimal("123.45"),
                amount=Decimal("123.45"),
            )  # fmt: skip
            for i in invoice_ids
        ),
        batch_size=5000,
    )
    User = get_user_model()
    password = make_password("load-test-pw")
    users = User.objects.bulk_create(User(username=f"load{i}", password=password) for i in range(n_users))
    users = list(User.objects.filter(username__startswith="load"))
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
    s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--invoices", type=int, default=50000)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--transfer-invoices", type=int, default=300)
    args = parser.parse_args()

    import httpx
    import transfer_1000

    import campaign

    tmp = tempfile.mkdtemp(prefix="webload-")
    pg_admin(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {DB}")
    sb = transfer_1000.SandboxProcess(6000)
    server = worker = None
    try:
        campaign.setup_env(tmp, f"postgres://postgres@127.0.0.1:5432/{DB}", sb.url)
        os.environ["BEXIO_TIMEOUT_S"] = "30"
        os.environ["DB_CONN_MAX_AGE"] = "60"
        campaign.django_setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off: the manifest is needed
        t = time.monotonic()
        org, users, member_ids, invoice_ids = build_big_org(args.members, args.invoices, args.users)
        print(f"built {args.invoices} invoices, {args.members} members in {time.monotonic() - t:.0f} s")
        cookies = [session_cookie(u) for u in users]

        # A second organisation whose transfer runs during the load.
        from bexio import BexioClient, StaticToken

        tokens = sb.control.post("tokens", json={"scopes": campaign.ALL_SCOPES}).json()
        with BexioClient(base_url=sb.url, token_provider=StaticToken(tokens["access_token"])) as client:
            side = campaign.build_org(900, args.transfer_invoices, random.Random(9), client)
        from django.utils import timezone

        from aeroledger.bexio_link.connection.models import BexioConnection, Status
        from aeroledger.bexio_link.transfer import services

        conn = BexioConnection(organisation=side, status=Status.CONNECTED, company_id=tokens["company_id"])
        conn.set_tokens(tokens["access_token"], tokens["refresh_token"])
        conn.expires_at = timezone.now() + timedelta(seconds=int(tokens["expires_in"]))
        conn.granted_scopes = sorted(set(tokens["scope"].split()))
        conn.save()
        services.start_transfer(side, enqueue=False)
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
        worker = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "campaign.py"),
                "--worker",
                "--org",
                str(side.pk),
                "--concurrency",
                "8",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        slug = org.slug
        pages = max(1, args.invoices // 50)
        member_pages = max(1, args.members // 50)
        kinds = [
            ("invoice list", lambda r: f"/o/{slug}/invoicing/invoices/?page={r.randint(1, pages)}"),
            ("invoice list", lambda r: f"/o/{slug}/invoicing/invoices/?page={r.randint(1, pages)}"),
            ("member list", lambda r: f"/o/{slug}/members/?page={r.randint(1, member_pages)}"),
            ("member list", lambda r: f"/o/{slug}/members/?q=Pilot{r.randint(1, args.members)}"),
            ("invoice", lambda r: f"/o/{slug}/invoicing/invoices/{r.choice(invoice_ids)}/"),
            ("member", lambda r: f"/o/{slug}/members/{r.choice(member_ids)}/"),
        ]
        results: dict[str, list[float]] = defaultdict(list)
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds

        def user(n: int) -> None:
            r = random.Random(n)
            with httpx.Client(
                base_url=base, timeout=60, cookies={settings.SESSION_COOKIE_NAME: cookies[n]}
            ) as c:
                for _ in range(100_000):  # bounded; the deadline ends it first
                    if time.monotonic() >= deadline:
                        return
                    kind, make = r.choice(kinds)
                    url = make(r)
                    t0 = time.perf_counter()
                    try:
                        resp = c.get(url)
                        ok = resp.status_code < 400
                        status = resp.status_code
                    except httpx.HTTPError as exc:
                        ok, status = False, type(exc).__name__
                    ms = (time.perf_counter() - t0) * 1000
                    with lock:
                        results[kind].append(ms)
                        if not ok:
                            errors.append(f"{status} {url}")

        threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
        started = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.monotonic() - started
        worker.kill()
        out, _err = worker.communicate()
        from aeroledger.bexio_link.transfer.models import TransferState

        done = TransferState.objects.filter(organisation=side, status="done").count()

        allv = [v for vs in results.values() for v in vs]
        print(
            f"{args.users} users for {elapsed:.0f} s on {args.invoices} invoices / {args.members} members "
            f"(gunicorn {args.gunicorn_workers}x{args.threads}, PostgreSQL), transfer running alongside"
        )
        print(f"  requests: {len(allv)}, errors: {len(errors)}, throughput: {len(allv) / elapsed:.1f} req/s")
        print(f"  latency ms: p50 {pct(allv, 0.5):.0f}  p95 {pct(allv, 0.95):.0f}  p99 {pct(allv, 0.99):.0f}")
        for kind, vs in sorted(results.items()):
            print(
                f"    {kind:13s} n={len(vs):5d}  "
                f"p50 {statistics.median(vs):6.0f}  p95 {pct(vs, 0.95):6.0f} ms"
            )
        print(f"  transfer alongside: {done}/{args.transfer_invoices} invoices done during the load")
        if errors:
            print(f"  first errors: {errors[:5]}")
            print("  server log (tail):\n" + (Path(tmp) / "gunicorn.log").read_text()[-3000:])
    finally:
        for p in (worker, server):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        teardown_postgres(sb, DB, tmp)


if __name__ == "__main__":
    main()
