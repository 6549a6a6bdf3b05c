"""Added latency of bexio-sandbox per request (target: median < 2 ms at --latency-ms 0).

Starts `python -m bexio_sandbox` in a subprocess on a free loopback port, then sends N requests over one
keep-alive connection (a mix of the calls the app makes) and prints median and p95 of:
- round trip as the client sees it (loopback HTTP included), and
- server time (the sandbox's own request log, `duration_ms`).
With --concurrency C --latency-ms 100 it also checks throughput
(the 6000 req/min benchmark needs ~20 requests in flight).

    .venv/bin/python bench/sandbox_latency.py [-n 2000] [--concurrency 20 --latency-ms 100]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time

import httpx
from _common import free_port

UNLIMITED_BUCKETS = ("contact_search", "kb_invoice_search", "article_search", "kb_invoice_pdf", "article")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bexio_sandbox",
            "--port",
            str(port),
            "--latency-ms",
            str(args.latency_ms),
            "--rate-limit",
            "1000000/60",
            # the searches have buckets of their own (250/min as recorded): lift them too
            *(arg for bucket in UNLIMITED_BUCKETS for arg in ("--rate-limit", f"{bucket}=1000000")),
        ],
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/_sandbox/companies", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        control = httpx.Client(base_url=base + "/_sandbox/")
        token = control.post("tokens", json={}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        setup = httpx.Client(base_url=base, headers=headers)
        setup.post(
            "/2.0/kb_invoice",
            json={
                "contact_id": 1,
                "user_id": 1,
                "positions": [
                    {
                        "type": "KbPositionCustom",
                        "amount": "1",
                        "unit_price": "100",
                        "tax_id": 14,
                        "text": "Flug",
                    }
                ],
            },
        )
        calls = [
            ("GET", "/3.0/users/me", None),
            ("GET", "/2.0/contact/2", None),
            (
                "POST",
                "/2.0/contact/search",
                [{"field": "mail", "value": "hans.muster@example.ch", "criteria": "="}],
            ),
            ("GET", "/2.0/kb_invoice/1", None),
            ("GET", "/3.0/taxes?scope=active&types=sales_tax", None),
        ]
        start_id = control.get("requests").json()[-1]["id"]

        failures: list[str] = []

        def worker(count: int, out: list[float]) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                for i in range(count):
                    method, path, body = calls[i % len(calls)]
                    t0 = time.perf_counter()
                    resp = client.request(method, path, json=body)
                    out.append((time.perf_counter() - t0) * 1000)
                    if resp.status_code != 200:
                        failures.append(f"{method} {path}: {resp.status_code} {resp.text[:100]}")
                        return

        rtts: list[float] = []
        per = args.n // args.concurrency
        threads = [threading.Thread(target=worker, args=(per, rtts)) for _ in range(args.concurrency)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        if failures or len(rtts) != per * args.concurrency:
            print(f"FAILED: {len(rtts)} of {per * args.concurrency} requests answered 200; {failures[:3]}")
            return 1
        server = [e["duration_ms"] for e in control.get("requests", params={"since": start_id}).json()]
        print(
            f"bexio-sandbox latency, {len(rtts)} requests, --latency-ms {args.latency_ms}, "
            f"concurrency {args.concurrency}"
        )
        print(f"  round trip  median {statistics.median(rtts):.2f} ms  p95 {pct(rtts, 0.95):.2f} ms")
        print(f"  server time median {statistics.median(server):.2f} ms  p95 {pct(server, 0.95):.2f} ms")
        print(f"  throughput  {len(rtts) / elapsed * 60:.0f} req/min")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
