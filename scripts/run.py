"""`make run`: migrate, seed the demo, then run the sandbox, the web app and a task worker.

Everything runs in the foreground of this one process group; Ctrl-C stops it all.

It runs on any address: `AEROLEDGER_BIND=127.0.0.1:8040 make run` serves on port 8040, and unless
`AEROLEDGER_BASE_URL` says otherwise the app's bexio callback follows the bind address. The
sandbox's demo OAuth client is told to accept exactly that callback, so "Get new token" works on
any port. When the demo organisation cannot be connected to the sandbox the banner says so, in a
box, with the reason: the rest of the app still runs.
"""

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
VAR = Path(os.environ.get("AEROLEDGER_VAR_DIR", ROOT / "var"))
SANDBOX_PORT = int(os.environ.get("BEXIO_SANDBOX_PORT", "8765"))
WEB = os.environ.get("AEROLEDGER_BIND", "127.0.0.1:8000")

DEMO_CLIENT_ID = "aeroledger-demo"
DEMO_CLIENT_SECRET = "aeroledger-demo-secret"  # the sandbox's published demo client, not a secret
# gunicorn's access log without the query string (%(U)s is the path only) and without the referrer:
# bexio's redirect back carries the OAuth `code` and `state` in the query; they never reach a log.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


def base_url_for(bind: str) -> str:
    """The address a browser uses for a gunicorn bind address ("0.0.0.0:8040" -> 127.0.0.1:8040)."""
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - a bind address, not a listener here
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def demo_redirect_uris(base_url: str) -> list[str]:
    """The demo client's callbacks: the app's configured one first, the sandbox's defaults kept."""
    uris = [base_url.rstrip("/") + "/bexio/callback"]
    for default in ("http://127.0.0.1:8000/bexio/callback", "http://localhost:8000/bexio/callback"):
        if default not in uris:
            uris.append(default)
    return uris


def uses_sandbox(env: dict) -> bool:
    """True when the app talks to the local sandbox with its demo client (the default)."""
    return (
        env.get("BEXIO_CLIENT_ID", DEMO_CLIENT_ID) == DEMO_CLIENT_ID
        and "BEXIO_AUTH_ISSUER" not in env
        and "BEXIO_API_BASE" not in env
    )


def register_demo_client(sandbox_url: str, redirect_uris: list[str], secret: str) -> None:
    """Tell the sandbox's demo client to accept the app's callback (the sandbox control API)."""
    body = json.dumps(
        {"client_id": DEMO_CLIENT_ID, "client_secret": secret, "redirect_uris": redirect_uris}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback only)
        f"{sandbox_url}/_sandbox/clients",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        if answer.status != 201:
            raise RuntimeError(f"the sandbox answered HTTP {answer.status}")


def prepare_sandbox_client(sandbox_url: str, base_url: str) -> list[str]:
    """Make the sandbox's demo client accept `base_url`'s callback; the problems, if any."""
    secret = os.environ.get("BEXIO_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    try:
        register_demo_client(sandbox_url, demo_redirect_uris(base_url), secret)
    except (OSError, RuntimeError) as exc:  # URLError and HTTPError are OSErrors
        return [f"The sandbox did not accept the callback {base_url}/bexio/callback: {exc}"]
    return []


def manage(*args: str) -> None:
    subprocess.run([str(BIN / "aeroledger"), *args], check=True, cwd=ROOT)


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 (loopback only)
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def connect_demo() -> tuple[bool, str]:
    """Connect the demo organisation to the sandbox (the real Get-new-token flow), map it and show
    the money model in bexio (bexio_link.transfer.demo); (ok, what it said)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aeroledger.settings")
    import django

    django.setup()
    from django.db import connections

    from aeroledger.bexio_link.transfer.demo import prepare_demo as connect
    from aeroledger.tenancy.models import Organisation

    out = io.StringIO()
    try:
        organisation = Organisation.objects.get(slug="demo")
        ok = connect(organisation, out)
    except Exception as exc:  # noqa: BLE001 - reported in the banner, the app keeps running
        ok = False
        out.write(f"bexio: {type(exc).__name__}: {exc}\n")
    finally:
        connections.close_all()
    return ok, out.getvalue().strip()


def warning_box(lines: list[str]) -> str:
    width = max(len(line) for line in lines)
    bar = "!" * (width + 4)
    return "\n".join([bar, *(f"! {line.ljust(width)} !" for line in lines), bar])


def main() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
    env = dict(os.environ, BEXIO_SANDBOX_URL=sandbox_url)
    env.setdefault("AEROLEDGER_BASE_URL", base_url_for(WEB))
    base_url = env["AEROLEDGER_BASE_URL"].rstrip("/")
    if "ALLOWED_HOSTS" not in env:
        hosts = ["127.0.0.1", "localhost", urlsplit(base_url).hostname or "127.0.0.1"]
        env["ALLOWED_HOSTS"] = ",".join(dict.fromkeys(hosts))
    os.environ.update(env)
    procs: list[subprocess.Popen] = []

    def start(*cmd: str) -> None:
        procs.append(subprocess.Popen(list(cmd), cwd=ROOT, env=env))

    def stop(*_args, code: int = 0) -> None:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        sys.exit(code)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    start(
        str(BIN / "bexio-sandbox"),
        "--host",
        "127.0.0.1",
        "--port",
        str(SANDBOX_PORT),
        "--db",
        str(VAR / "sandbox.sqlite3"),
    )
    wait_for(f"{sandbox_url}/realms/bexio/.well-known/openid-configuration")
    sandbox = uses_sandbox(os.environ)
    problems = prepare_sandbox_client(sandbox_url, base_url) if sandbox else []
    manage("migrate", "--no-input", "-v", "0")
    manage("collectstatic", "--no-input", "-v", "0")
    manage("seed_demo")
    if sandbox and not problems:
        ok, said = connect_demo()
        print(said, flush=True)
        if not ok:
            problems.append("The demo organisation could not be connected to the bexio sandbox.")
            problems.extend(line for line in said.splitlines() if line.strip())
    start(
        str(BIN / "gunicorn"),
        "aeroledger.wsgi",
        "--bind",
        WEB,
        "--workers",
        "3",
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
    )
    start(str(BIN / "aeroledger"), "db_worker", "--queue-name", "*")
    start(str(BIN / "aeroledger"), "run_scheduler")
    wait_for(f"http://{WEB}/login/")
    if sandbox:
        bexio = (
            f"  bexio sandbox:            {sandbox_url}/_sandbox/office\n"
            "                            bexio logins: demo@bexio.test / sandbox,"
            " clerk@bexio.test / sandbox\n"
            f"  bexio callback:           {base_url}/bexio/callback (accepted by the sandbox's demo client)"
        )
    else:
        bexio = (
            f"  bexio:                    {os.environ.get('BEXIO_API_BASE', sandbox_url)}"
            " (your own client);\n"
            f"                            register {base_url}/bexio/callback at developer.bexio.com and\n"
            "                            connect on Invoicing > Bexio > Authorisation"
        )
    print(
        f"""
Aeroledger is running at {base_url}/
  demo logins (demo only):  admin / aeroledger   (every permission in "demo", English)
                            viewer / aeroledger  (read only, German)
{bexio}
Ctrl-C stops everything.
""",
        flush=True,
    )
    if problems:
        print(
            warning_box(
                [
                    "WARNING: the demo is NOT connected to bexio.",
                    *problems,
                    "Transfers to bexio will not work until you connect on",
                    f"{base_url}/o/demo/invoicing/bexio/authorisation (Get new token).",
                ]
            ),
            file=sys.stderr,
            flush=True,
        )
    while True:
        for p in procs:
            if p.poll() is not None:
                print(f"{p.args[0]} exited with {p.returncode}; stopping.", file=sys.stderr)
                stop(code=1)
        time.sleep(1)


if __name__ == "__main__":
    main()
