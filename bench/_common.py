"""Helpers shared by the bench scripts (`from _common import ...`: a script's folder is on sys.path).

Not a benchmark itself: `run_all.py` runs only the scripts it names.
"""

import os
import shutil
import socket

# The PostgreSQL server the benches use: 127.0.0.1:5432 unless BENCH_PG_SERVER names another
# (e.g. a second cluster, so that races can run while the campaign restarts the first).
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
PG_ADMIN = f"{PG_SERVER}/postgres"


def pg_url(db: str) -> str:
    """The URL of the database `db` on the benches' PostgreSQL server."""
    return f"{PG_SERVER}/{db}"


def setup_django(tmp: str) -> None:
    """Django on a throw-away SQLite database in `tmp`, migrated (needs `src` on sys.path)."""
    os.environ["AEROLEDGER_VAR_DIR"] = tmp
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aeroledger.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def pg_admin(sql: str) -> None:
    """Run `sql` on the local PostgreSQL server's `postgres` database (autocommit)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def teardown_postgres(sb, db: str, tmp: str) -> None:
    """The end of a PostgreSQL bench: stop the sandbox, close Django's connections, drop `db`, remove
    `tmp`."""
    sb.close()
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001
        pass
    pg_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    shutil.rmtree(tmp, ignore_errors=True)
