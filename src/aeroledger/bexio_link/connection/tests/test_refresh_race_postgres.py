"""On PostgreSQL: 8 processes call bexio at once with an expired token; bexio sees one refresh
and the history one "Token refreshed" event.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/pytest -m postgres \
         src/aeroledger/bexio_link/connection
"""

import pytest
from django.db import connection

from aeroledger.bexio_link.connection.models import BexioConnection, ConnectionEvent, EventKind, Trigger

from .conftest import expire_access_token
from .race import bexio_env, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PROCESSES = 8


def test_eight_processes_refresh_once(transactional_db, connected, org, bx, settings, tmp_path):
    assert connection.vendor == "postgresql"
    old_refresh = connected.get_refresh_token()
    expire_access_token(org)
    bx.settings(latency_ms=100)  # a refresh takes as long as at real bexio: a wide race window
    before = max((r["id"] for r in bx.requests()), default=0)

    db = connection.settings_dict
    env = bexio_env(
        settings,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        AEROLEDGER_FERNET_KEYS=",".join(settings.AEROLEDGER_FERNET_KEYS),
    )
    for returncode, out, err in run_together(org.slug, PROCESSES, env, tmp_path):
        assert returncode == 0, err
        assert out.startswith("OK 1"), (out, err)

    log = bx.requests(before)
    refreshes = [r for r in log if r.get("grant_type") == "refresh_token"]
    calls = [r for r in log if r["path"] == "/3.0/users/me"]
    assert len(refreshes) == 1, refreshes
    assert refreshes[0]["status"] == 200
    assert len(calls) == PROCESSES and all(r["status"] == 200 for r in calls), calls
    conn = BexioConnection.objects.get(organisation=org)
    assert conn.get_refresh_token() != old_refresh and conn.is_connected
    [event] = ConnectionEvent.objects.filter(organisation=org, kind=EventKind.REFRESHED)
    assert event.trigger == Trigger.ON_DEMAND and event.message == "race"
    assert event.at == conn.last_refresh_at
