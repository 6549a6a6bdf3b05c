"""`manage.py check --deploy` is clean with production settings (environment as the README says)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7!" + "k" * 30 + "Q9-z_" + "p" * 20,  # a long, varied key (test value only)
    "ALLOWED_HOSTS": "aeroledger.example.ch",
    "SECURE_COOKIES": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_PRELOAD": "1",
    "BEHIND_TLS_PROXY": "1",
    "AEROLEDGER_BASE_URL": "https://aeroledger.example.ch",
}


def test_check_deploy_is_clean(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PRODUCTION, AEROLEDGER_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="aeroledger.settings")
    env["PYTHONPATH"] = str(ROOT / "src")
    proc = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout.lower(), proc.stdout
