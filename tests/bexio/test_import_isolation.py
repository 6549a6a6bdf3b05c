"""`import bexio` works where Django and Aeroledger are absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

SCRIPT = r"""
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("django", "aeroledger"):
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Blocker())
import bexio, bexio.auth, bexio.client, bexio.models, bexio.resources, bexio.retry, bexio.governor
import bexio.oauth, bexio.tokens, bexio.refresh, bexio.buckets, bexio.resources.accounting
from bexio import BexioClient, RateGovernor, Criterion, RequestEvent, errors
from bexio.auth import BexioAuth, TokenSet, TokenStore, TokenProvider, ReconnectRequired, new_pkce
from bexio.models import ContactCreate, InvoiceCreate, PositionCustomCreate
assert not [m for m in sys.modules if m.split(".")[0] in ("django", "aeroledger")]
try:
    import django  # noqa: F401
except ImportError:
    print("blocked-ok")
"""


def test_import_without_django():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "blocked-ok"
