"""Run N processes that each call bexio once, all at the same moment (for the refresh-race tests)."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    import django
    django.setup()
    from aeroledger.tenancy.models import Organisation
    from aeroledger.bexio_link.connection.clients import client_for

    org = Organisation.objects.get(slug=sys.argv[1])
    ready, go = sys.argv[2], sys.argv[3]
    client = client_for(org, context="race")
    open(ready, "w").close()
    while not os.path.exists(go):  # all processes start together
        time.sleep(0.002)
    me = client.users.me()
    print("OK", me.id)
    """
)


def bexio_env(settings, **extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "AEROLEDGER_VAR_DIR", "PYTEST_CURRENT_TEST")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="aeroledger.settings",
        BEXIO_AUTH_ISSUER=settings.BEXIO_AUTH_ISSUER,
        BEXIO_API_BASE=settings.BEXIO_API_BASE,
        BEXIO_SANDBOX_URL=settings.BEXIO_API_BASE,
        BEXIO_CLIENT_ID=settings.BEXIO_CLIENT_ID,
        BEXIO_CLIENT_SECRET=settings.BEXIO_CLIENT_SECRET,
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def run_together(slug: str, n: int, env: dict, tmp_path: Path) -> list[tuple[int, str, str]]:
    script = tmp_path / "race.py"
    script.write_text(SCRIPT)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), slug, str(tmp_path / f"ready-{i}"), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    deadline = time.monotonic() + 90
    while len(list(tmp_path.glob("ready-*"))) < n and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.05)
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, results, strict=True)]
