"""Test-wide settings: fast hashing, the PostgreSQL gate, the sandbox fixture."""

import os

import pytest


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
    settings.AEROLEDGER_FIGURES_TTL = 0  # figures computed afresh: tests see their own data (see figures.py)


def _on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def pytest_collection_modifyitems(config, items):
    """`postgres` tests run only against PostgreSQL; there, an unreachable server fails in CI."""
    if not _on_postgres():
        skip = pytest.mark.skip(reason="needs DATABASE_URL=postgres://… (make test runs it)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)
        return
    import psycopg

    try:
        psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.exit(f"PostgreSQL is unreachable in CI: {exc}", returncode=1)
        skip = pytest.mark.skip(reason=f"PostgreSQL unreachable: {exc}")
        for item in items:
            item.add_marker(skip)


# --- bexio sandbox (src/bexio_sandbox): one server per session, reset before each test ----------
@pytest.fixture(scope="session")
def bexio_sandbox():
    """A running bexio-sandbox (background thread, free port): `.url`, `.issuer`, `.token()`, ..."""
    from bexio_sandbox.testing import running_sandbox

    with running_sandbox() as handle:
        yield handle


@pytest.fixture
def sandbox(bexio_sandbox):
    """The session's sandbox, reset to the seed (state, settings, faults) before the test."""
    bexio_sandbox.reset()
    return bexio_sandbox


@pytest.fixture
def bexio_settings(sandbox, settings):
    """The bexio settings pointing at the session's sandbox (its seeded demo client)."""
    settings.BEXIO_AUTH_ISSUER = sandbox.issuer
    settings.BEXIO_API_BASE = sandbox.url
    settings.BEXIO_SANDBOX_URL = sandbox.url
    settings.BEXIO_CLIENT_ID = "aeroledger-demo"
    settings.BEXIO_CLIENT_SECRET = "aeroledger-demo-secret"
    settings.AEROLEDGER_BASE_URL = "http://127.0.0.1:8000"
    return sandbox


@pytest.fixture
def use_client():
    """`use_client(bx)`: every organisation's bexio client is `bx` for the rest of the test (the one
    client factory of the app, injected; no patching of module attributes)."""
    from contextlib import ExitStack

    from aeroledger.bexio_link.connection.clients import using_client_factory

    with ExitStack() as stack:

        def use(bx):
            stack.enter_context(using_client_factory(lambda org, context="": bx))
            return bx

        yield use


# --- Browser tests -----------------------------------------------------------------------------
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(monkeypatch):
    """A page in headless Debian chromium (/usr/bin/chromium; never a downloaded browser)."""
    # Playwright's sync API runs an event loop in this thread; Django's live_server ORM calls from
    # the test would otherwise refuse. Scoped to the test, so it never leaks into subprocesses.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def log_in(browser_page, live_server):
    """`log_in(username, org, password=PASSWORD)`: log in on `live_server`'s login page in the
    browser page and wait for the organisation's pages."""
    from aeroledger.tenancy.testing import PASSWORD

    def log_in(username, org, password=PASSWORD):
        page = browser_page
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"**/o/{org.slug}/**")

    return log_in
