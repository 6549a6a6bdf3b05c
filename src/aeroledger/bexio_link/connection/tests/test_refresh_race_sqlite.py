"""On the embedded SQLite database (`make run`): 8 processes, expired token, one refresh and one
"Token refreshed" event.

The processes share a fresh database file (migrated here); the IMMEDIATE transaction mode of the
settings gives the store's lock() the database write lock.
"""

import subprocess
import sys
import textwrap

import pytest

from .race import bexio_env, run_together

pytestmark = [pytest.mark.slow]

PROCESSES = 8

SETUP = textwrap.dedent(
    """
    from datetime import timedelta
    import io
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from aeroledger.tenancy.models import Membership, Organisation
    from aeroledger.bexio_link.connection.demo import connect_demo
    from aeroledger.bexio_link.connection.models import BexioConnection

    org = Organisation.objects.create(name="Race", slug="race", bexio_option=True)
    user = get_user_model().objects.create_user("racer", "racer@example.test", "pw-123456")
    Membership.objects.create(user=user, organisation=org, manage_settings=True)
    out = io.StringIO()
    assert connect_demo(org, out), out.getvalue()
    BexioConnection.objects.filter(organisation=org).update(expires_at=timezone.now() - timedelta(minutes=5))
    print("READY")
    """
)

EVENTS = textwrap.dedent(
    """
    import django
    django.setup()
    from aeroledger.bexio_link.connection.models import ConnectionEvent, EventKind

    for event in ConnectionEvent.objects.filter(organisation__slug="race", kind=EventKind.REFRESHED):
        print("EVENT", event.trigger, event.message)
    """
)


def test_eight_processes_refresh_once_on_sqlite(bx, settings, tmp_path):
    var = tmp_path / "var"
    env = bexio_env(settings, AEROLEDGER_VAR_DIR=str(var), AEROLEDGER_BASE_URL="http://127.0.0.1:8000")
    migrate = subprocess.run(
        [sys.executable, "-m", "aeroledger", "migrate", "--no-input", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    setup = subprocess.run(
        [sys.executable, "-c", SETUP], env=env, capture_output=True, text=True, timeout=120
    )
    assert "READY" in setup.stdout, setup.stderr
    bx.settings(latency_ms=100)
    before = max((r["id"] for r in bx.requests()), default=0)

    work = tmp_path / "work"
    work.mkdir()
    for returncode, out, err in run_together("race", PROCESSES, env, work):
        assert returncode == 0, err
        assert out.startswith("OK 1"), (out, err)

    log = bx.requests(before)
    refreshes = [r for r in log if r.get("grant_type") == "refresh_token"]
    calls = [r for r in log if r["path"] == "/3.0/users/me"]
    assert len(refreshes) == 1, refreshes
    assert len(calls) == PROCESSES and all(r["status"] == 200 for r in calls), calls
    events = subprocess.run(
        [sys.executable, "-c", EVENTS], env=env, capture_output=True, text=True, timeout=120
    )
    assert events.returncode == 0, events.stderr
    assert events.stdout.splitlines() == ["EVENT on_demand race"], events.stdout
