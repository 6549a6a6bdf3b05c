"""The fault campaign in small (bench/campaign.py): 5 seeded schedules of 20 invoices, no PG restart.

Each schedule mixes fail-after-commit on creates, 429 storms, 5xx on reads, short-lived access
tokens, 401s, a refresh token rotated by this process and a worker subprocess killed with SIGKILL;
afterwards bexio (the sandbox) is read back. Runs in its own process on a throw-away SQLite file.
"""

import json
import subprocess
import sys
from pathlib import Path

CAMPAIGN = Path(__file__).resolve().parents[2] / "bench" / "campaign.py"


def run(*args: str, timeout: float) -> dict:
    proc = subprocess.run(
        [sys.executable, str(CAMPAIGN), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no summary (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1])


def test_checker_finds_planted_duplicate_loss_and_mismatch():
    assert run("--self-check", timeout=150) == {"clean": [0, 0, 0], "planted": [2, 2, 2]}


def test_short_campaign_zero_duplicates_losses_mismatches():
    summary = run("--schedules", "5", "--invoices", "20", "--seed", "11", "--json", timeout=150)
    assert summary["schedules"] == 5
    assert summary["faults_injected"] > 0
    assert summary["faults"].get("sigkill", 0) > 0
    assert (summary["duplicates"], summary["losses"], summary["mismatches"]) == (0, 0, 0), summary[
        "failed_schedules"
    ]
    assert summary["reconnects"] == 0, summary["failed_schedules"]
