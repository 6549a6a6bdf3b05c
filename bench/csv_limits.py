"""CSV import limits (issue 13, item 7): what a 1,000,000-row member file costs before it is refused.

    .venv/bin/python bench/csv_limits.py [--rows 1000000] [--ok-rows 20000]

Prints, for a generated file of `--rows` member rows:
  1. `aeroledger import_members` with the default limits (refused by size before reading),
  2. the same command with AEROLEDGER_CSV_MAX_BYTES raised to 1 GB (refused by the row limit while
     streaming: reading stops at the first row over AEROLEDGER_CSV_MAX_ROWS),
  3. an upload of the file to the import page served by gunicorn (one sync worker, as in
     production): the upload handler keeps nothing past 5 MB, the page names the limit;
and, for a file of `--ok-rows` rows (the largest allowed), the page's preview and import times.
Each line gives the wall time and the peak memory (max RSS) of the process that did the work.
The issue measured the old code at 604 s and 2.5 GB for the preview of 1,000,000 rows.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def write_members(path: Path, rows: int) -> int:
    with path.open("w") as out:
        out.write("number;first_name;last_name;street;house_number;postcode;city;email;language\n")
        for i in range(rows):
            out.write(f"M{i};Anna;Muster{i};Bahnhofstrasse;{i % 200};8000;Zürich;m{i}@example.ch;de\n")
    return path.stat().st_size


def command(env, args) -> tuple[float, float, str]:
    """(seconds, peak MB, last output line) of one `aeroledger` command."""
    start = time.monotonic()
    proc = subprocess.Popen([str(BIN / "aeroledger"), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    output = proc.stdout.read()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(_status)
    lines = [line for line in output.splitlines() if line.strip()]
    return time.monotonic() - start, usage.ru_maxrss / 1024, lines[-1] if lines else ""


def peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600, follow_redirects=False)
    client.get("/login/")
    token = client.cookies["csrftoken"]
    answer = client.post(
        "/login/", data={"username": "admin", "password": "aeroledger", "csrfmiddlewaretoken": token}
    )
    assert answer.status_code == 302, answer.status_code
    return client


def upload(client: httpx.Client, path: Path) -> tuple[float, httpx.Response]:
    page = client.get("/o/demo/members/import/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    start = time.monotonic()
    with path.open("rb") as f:
        answer = client.post("/o/demo/members/import/", data={"csrfmiddlewaretoken": token},
                             files={"file": (path.name, f, "text/csv")})  # fmt: skip
    return time.monotonic() - start, answer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ok-rows", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
        env.update(AEROLEDGER_VAR_DIR=tmp, DJANGO_SETTINGS_MODULE="aeroledger.settings", LOG_LEVEL="WARNING")
        for setup in (["migrate", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"], ["seed_demo"]):
            subprocess.run([str(BIN / "aeroledger"), *setup], env=env, check=True, capture_output=True)
        big = Path(tmp) / "members-big.csv"
        size = write_members(big, args.rows)
        print(f"file: {args.rows:,} rows, {size / 1024 / 1024:.1f} MB")

        seconds, mb, line = command(env, ["import_members", "--org", "demo", "--dry-run", str(big)])
        print(f"1. command, default limits:        {seconds:6.2f} s  peak {mb:6.1f} MB  | {line[-90:]}")
        seconds, mb, line = command({**env, "AEROLEDGER_CSV_MAX_BYTES": str(10**9)},
                                    ["import_members", "--org", "demo", "--dry-run", str(big)])  # fmt: skip
        print(f"2. command, size limit 1 GB:       {seconds:6.2f} s  peak {mb:6.1f} MB  | {line[-90:]}")

        port = free_port()
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "aeroledger.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--timeout", "600", "--logger-class", "aeroledger.logs.GunicornLogger"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(f"{base}/login/")
                    break
                except httpx.ConnectError:
                    time.sleep(0.2)
            client = login(base)
            worker = worker_pid(server.pid)
            before = peak_mb(worker)
            seconds, answer = upload(client, big)
            refused = re.search(r"The file is [^<]*", answer.text)
            message = refused.group(0) if refused else "?"
            print(f"3. page upload (gunicorn worker):  {seconds:6.2f} s  peak {peak_mb(worker):6.1f} MB "
                  f"(before {before:.1f})  | {answer.status_code} {message}")  # fmt: skip

            ok = Path(tmp) / "members-ok.csv"
            ok_size = write_members(ok, args.ok_rows)
            seconds, answer = upload(client, ok)
            token = re.search(r'name="token" value="([^"]+)"', answer.text)
            kept = "yes" if token else "NO"
            print(f"4. preview {args.ok_rows:,} rows ({ok_size / 1024 / 1024:.1f} MB): {seconds:6.2f} s  "
                  f"peak {peak_mb(worker):6.1f} MB  | {answer.status_code}, token {kept}")  # fmt: skip
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text).group(1)
            start = time.monotonic()
            confirm = {"csrfmiddlewaretoken": csrf, "token": token.group(1), "action": "commit"}
            done = client.post("/o/demo/members/import/", data=confirm)
            elapsed, where = time.monotonic() - start, done.headers.get("location")
            print(f"5. import {args.ok_rows:,} rows:             {elapsed:6.2f} s  "
                  f"peak {peak_mb(worker):6.1f} MB  | {done.status_code} -> {where}")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
