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


def readme_production_environment() -> dict[str, str]:
    """The `export` lines of README's PostgreSQL example, exactly; "..." becomes a real-looking value."""
    import re
    import shlex

    from cryptography.fernet import Fernet

    text = (ROOT / "README.md").read_text()
    block = text.split("## Running on PostgreSQL", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    env = {}
    for line in block.splitlines():
        if line.startswith("export "):
            for word in shlex.split(line[len("export ") :]):
                name, _, value = word.partition("=")
                env[name] = value
    placeholders = {
        "SECRET_KEY": "x7!" + "k" * 30 + "Q9-z_" + "p" * 20,
        "AEROLEDGER_FERNET_KEYS": Fernet.generate_key().decode(),
        "BEXIO_CLIENT_ID": "client-id",
        "BEXIO_CLIENT_SECRET": "client-secret",
    }
    for name, value in env.items():
        if value == "...":
            env[name] = placeholders[name]
    assert re.match(r"https://", env["AEROLEDGER_BASE_URL"]), env
    return env


def test_readme_production_example_passes_check_deploy_without_warnings(tmp_path):
    """Issue 13: exactly README's environment (no extra HTTPS variables) passes `check --deploy`."""
    env = readme_production_environment()
    assert {"DATABASE_URL", "ALLOWED_HOSTS", "BEHIND_TLS_PROXY", "SECURE_COOKIES"} <= set(env)
    assert not {"SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"} & set(env)  # the defaults do it
    proc = check_deploy(tmp_path, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout, proc.stdout + proc.stderr
