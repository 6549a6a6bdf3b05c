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


def check_deploy(tmp_path, overrides: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what the process environment of a deployment would hold: nothing of this test run's.
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DATABASE_URL"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(overrides, AEROLEDGER_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="aeroledger.settings")
    env["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_check_deploy_is_clean(tmp_path):
    proc = check_deploy(tmp_path, PRODUCTION)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout.lower(), proc.stdout


def test_check_deploy_flags_a_deployment_without_https_settings(tmp_path):
    """The check above can fail: without the HTTPS settings the deploy check reports them."""
    proc = check_deploy(tmp_path, {"DEBUG": "0", "SECRET_KEY": PRODUCTION["SECRET_KEY"]})
    assert proc.returncode != 0
    assert "security.W008" in proc.stdout + proc.stderr  # SECURE_SSL_REDIRECT is off
