"""CPU milliseconds per invoice at zero latency, and peak memory of a transfer with a big queue.

Uses transfer_1000.py's club builder and sandbox subprocess (the sandbox's CPU is not counted: it
runs in its own process). Prints `cpu ms per invoice` (process CPU time of the transfer divided by
the invoices it transferred) and `peak rss MB` (this process's maximum resident set size, from
getrusage, after building the club and during the transfer) with `rss growth MB` during the transfer.

    .venv/bin/python bench/transfer_cpu.py [--invoices 1000] [--concurrency 16] [--max-seconds 0]

`--max-seconds S` stops the transfer after S seconds (for the 10,000-invoice memory figure, where
the full run would take long on a shared machine): the queue is whole, only part of it is worked.
Throw-away SQLite database; loopback only.
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=0)
    args = parser.parse_args()

    import transfer_1000 as t1000

    with tempfile.TemporaryDirectory() as tmp:
        t1000.setup_django(tmp)
        from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
        from aeroledger.bexio_link.transfer.start import transfer_invoices
        from bexio import BexioClient, RateGovernor, StaticToken

        sb = t1000.SandboxProcess(1_000_000)
        try:
            client = BexioClient(
                base_url=sb.url,
                token_provider=StaticToken(sb.token()),
                timeout=30,
                governor=RateGovernor("cpu"),
            )
            org, n = t1000.make_club(client, args.members, args.invoices, 3)
            sb.settings(latency_ms=0, rate_limit=1_000_000)
            before_rss = rss_mb()
            cpu0, wall0 = time.process_time(), time.monotonic()
            transfer_invoices(
                org, client=client, concurrency=args.concurrency, max_seconds=args.max_seconds or None
            )
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            done = OutboxItem.objects.filter(
                organisation=org, kind=ItemKind.INVOICE, status=ItemStatus.DONE
            ).count()
            print(f"transfer at 0 ms latency, no limit, concurrency {args.concurrency}: {done}/{n} invoices")
            print(f"  seconds: {wall:.1f}  ({done / wall:.1f} invoices/s)")
            print(f"  cpu ms per invoice: {cpu * 1000 / max(1, done):.1f}")
            print(f"  peak rss MB: {rss_mb():.0f}  (after building the club: {before_rss:.0f})")
            print(f"  rss growth MB: {rss_mb() - before_rss:.0f}")
            if args.max_seconds:
                # The memory figure: the whole queue is there, part of it worked (at least one).
                print(f"  worked for {args.max_seconds:.0f} s: {'yes' if done else 'NO'} ({done} done)")
                if not done:
                    sys.exit(1)
            else:
                print(f"  all transferred: {'yes' if done == n else 'NO'}")
                if done != n:
                    sys.exit(1)
        finally:
            sb.close()


if __name__ == "__main__":
    main()
