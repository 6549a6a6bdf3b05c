"""Several worker processes on PostgreSQL: SKIP LOCKED claims, organisation lease, SIGKILL mid-batch."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from aeroledger.bexio_link.transfer.models import OutboxAttempt, OutboxItem
from aeroledger.bexio_link.transfer.start import start_transfer

from .conftest import assert_exactly_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def spawn(sb, token, worker, *extra):
    s = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aeroledger.bexio_link.transfer.tests.worker_main",
            sb.url,
            token,
            worker,
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("shared", [True, False], ids=["rows-only", "org-lease"])
def test_three_workers_no_duplicates(sb, client, demo, shared):
    start_transfer(demo, enqueue_task=False)
    # Slow bexio a little so that the workers really overlap; lose some answers after commit.
    sb.settings(latency_ms=20)
    sb.fault(
        method="POST",
        path=r"^/2\.0/kb_invoice$",
        when="after_commit",
        effect="status:500",
        probability=0.1,
        seed=5,
    )
    token = sb.token()
    extra = ["--shared"] if shared else []
    procs = [spawn(sb, token, f"w{i}", *extra) for i in range(3)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        outs.append(json.loads(out.strip().splitlines()[-1]))
    sb.clear_faults()
    assert_exactly_once(demo, client)
    workers = set(OutboxAttempt.objects.values_list("worker", flat=True))
    if shared:
        assert len(workers) >= 2, outs  # the rows were really shared out
    created = sum(o.get("created", 0) for o in outs)
    adopted = sum(o.get("adopted", 0) for o in outs)
    assert created + adopted >= OutboxItem.objects.count()


def test_worker_killed_mid_batch_resumes_without_loss_or_duplicate(sb, client, demo):
    start_transfer(demo, enqueue_task=False)
    sb.settings(latency_ms=60)
    token = sb.token()
    victim = spawn(sb, token, "victim", "--lease", "3")
    deadline = time.monotonic() + 120
    while OutboxItem.objects.filter(status="done").count() < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert OutboxItem.objects.exclude(status="done").exists()
    sb.settings(latency_ms=0)
    time.sleep(3.5)  # the victim's leases expire
    rescuer = spawn(sb, token, "rescuer", "--lease", "3")
    out, err = rescuer.communicate(timeout=300)
    assert rescuer.returncode == 0, err[-3000:]
    assert_exactly_once(demo, client)
