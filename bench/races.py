"""Issue 13's proof at length: the money transitions from several processes at once, on PostgreSQL.

    .venv/bin/python bench/races.py [--interleavings 200] [--seed S] [--processes 4] [--db races]
                                    [--keep] [--verbose]

Each interleaving starts an operation in every child process at (nearly) the same moment: approve,
cancel, transfer (start_transfer + the outbox worker against the bexio sandbox over HTTP), the
worker alone, sign-off, flight and charge edits through the form pages, billing runs, positions
added and removed, top-ups paid in bexio and booked by the status sync, credit entries, links to
bexio contacts; sometimes bexio loses an answer or holds a write. Then the outbox is drained and
every invariant is checked (the list is the docstring of
src/aeroledger/bexio_link/transfer/tests/races.py). Prints the seed (a run is repeated with
`--seed`), the operations by outcome, every violation and error, then the figures as a row of
bench/run_all.py's table (`races.table_rows(output)` reads them back). Exit status 1 when anything
was violated.

Needs PostgreSQL on 127.0.0.1:5432 (or the server BENCH_PG_SERVER names, trust auth); creates and
drops the database `--db` (default `races`). The sandbox runs in this process on a free loopback port.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))

from _common import pg_admin, pg_url  # noqa: E402

HEADER = ("benchmark", "figure", "target", "verdict")


def table_rows(out: str) -> list[tuple[str, str, str, str]]:
    """The (benchmark, figure, target, verdict) rows of this script's output, for bench/run_all.py:
    `Bench("races", ["--interleavings", "200"], ["--interleavings", "10"],
           lambda out: [Row(*r) for r in races.table_rows(out)], postgres=True, timeout=3600)`."""
    from aeroledger.bexio_link.transfer.tests import races

    return races.table_rows(out)


def table(rows) -> str:
    """Rows in bench/run_all.py's format."""
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [line.format(*HEADER), line.format(*("-" * w for w in widths))] + [line.format(*r) for r in rows]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interleavings", type=int, default=200)
    parser.add_argument("--seed", type=int, default=None, help="default: a new one (printed)")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--db", default="races", help="the PostgreSQL database to create (and drop)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the children's log")
    parser.add_argument("--verbose", action="store_true", help="print every operation and its outcome")
    parser.add_argument(
        "--no-shared-contact",
        action="store_true",
        help="no bexio contact that is a link candidate for two members (their links race)",
    )
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    print(f"seed {seed}: {args.interleavings} interleavings, {args.processes} processes, database {args.db}",
          flush=True)  # fmt: skip

    tmp = tempfile.mkdtemp(prefix="races-")
    url = pg_url(args.db)
    pg_admin(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {args.db}")
    os.environ.update(
        AEROLEDGER_VAR_DIR=tmp,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="aeroledger.settings",
        LOG_LEVEL="ERROR",
        DB_CONN_MAX_AGE="0",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from aeroledger.bexio_link.transfer.tests import races
    from bexio_sandbox.testing import running_sandbox

    call_command("migrate", verbosity=0)
    log = Path(tmp) / "children.log"
    started = time.monotonic()

    def progress(index, scenario, ops, answers, problems):
        if (index + 1) % 20 == 0 or problems:
            print(f"  {index + 1} interleavings, {time.monotonic() - started:.0f} s"
                  + (f", VIOLATED: {problems}" if problems else ""), flush=True)  # fmt: skip

    try:
        with running_sandbox() as sb:
            figures = races.run_suite(
                sb,
                interleavings=args.interleavings,
                seed=seed,
                processes=args.processes,
                database_url=url,
                log_path=str(log),
                shared_contact=not args.no_shared_contact,
                on_step=progress,
                verbose=args.verbose,
            )
        report = figures.report()
        print(report)
        print()
        print(table(table_rows(report)))
        print(f"command: .venv/bin/python bench/races.py --interleavings {args.interleavings} --seed {seed} "
              f"--processes {args.processes}")  # fmt: skip
        if figures.errors:
            print(f"the children's tracebacks: {log}" if args.keep else "(--keep keeps the children's log)")
        return 1 if figures.violations or figures.errors else 0
    finally:
        connections.close_all()
        if not args.keep:
            pg_admin(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
