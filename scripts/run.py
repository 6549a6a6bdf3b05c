"""`make run`: migrate, seed the demo, then run the sandbox, the web app and a task worker.

Everything runs in the foreground of this one process group; Ctrl-C stops it all.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
VAR = ROOT / "var"
SANDBOX_PORT = int(os.environ.get("BEXIO_SANDBOX_PORT", "8765"))
WEB = os.environ.get("AEROLEDGER_BIND", "127.0.0.1:8000")


def manage(*args: str) -> None:
    subprocess.run([str(BIN / "aeroledger"), *args], check=True, cwd=ROOT)


def wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 (loopback only)
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def main() -> None:
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ, BEXIO_SANDBOX_URL=f"http://127.0.0.1:{SANDBOX_PORT}")
    os.environ.update(env)
    procs: list[subprocess.Popen] = []

    def start(*cmd: str) -> None:
        procs.append(subprocess.Popen(list(cmd), cwd=ROOT, env=env))

    def stop(*_args) -> None:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        sys.exit(0)

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
    wait_for(f"http://127.0.0.1:{SANDBOX_PORT}/realms/bexio/.well-known/openid-configuration")
    manage("migrate", "--no-input", "-v", "0")
    manage("collectstatic", "--no-input", "-v", "0")
    manage("seed_demo", "--with-bexio-connection")
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
    )
    start(str(BIN / "aeroledger"), "db_worker", "--queue-name", "*")
    start(str(BIN / "aeroledger"), "run_scheduler")
    wait_for(f"http://{WEB}/login/")
    print(
        f"""
Aeroledger is running at http://{WEB}/
  demo logins (demo only):  admin / aeroledger   (every permission in "demo", English)
                            viewer / aeroledger  (read only, German)
  bexio sandbox:            http://127.0.0.1:{SANDBOX_PORT}/_sandbox/office
                            bexio logins: demo@bexio.test / sandbox, clerk@bexio.test / sandbox
Ctrl-C stops everything.
""",
        flush=True,
    )
    while True:
        for p in procs:
            if p.poll() is not None:
                print(f"{p.args[0]} exited with {p.returncode}; stopping.", file=sys.stderr)
                stop()
        time.sleep(1)


if __name__ == "__main__":
    main()
