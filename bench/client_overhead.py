"""bexio client overhead: CPU per request (no network) and pages of 2000 contacts parsed per second.

Run: .venv/bin/python bench/client_overhead.py [--requests 3000] [--pages 20]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bexio import BexioClient, RateGovernor
from bexio.auth import MemoryTokenStore, TokenProvider, TokenSet
from bexio.models import Contact

RECORDED = (
    Path(os.environ.get("BEXIO_REFERENCE", Path(__file__).resolve().parents[2] / "shared" / "reference"))
    / "bexio-recorded/Contacts/fetch-a-list-of-contacts.json"
)
# A budget far above what the bench sends: the governor does all its bookkeeping on every
# request but never has to pace (pacing is tested in tests/bexio, here it would only cost time).
HEADERS = {"ratelimit-limit": "1000000", "ratelimit-remaining": "999999", "ratelimit-reset": "55"}


def contact_page(n: int) -> bytes:
    try:
        base = json.loads(json.loads(RECORDED.read_text())["data"])[0]
    except OSError:
        base = {
            "id": 1,
            "nr": "000001",
            "contact_type_id": 1,
            "name_1": "bexio AG",
            "updated_at": "2009-06-09 08:37:17",
        }
    items = [
        {**base, "id": i, "nr": f"{i:06d}", "name_1": f"Pilot {i}", "mail": f"p{i}@club.ch"} for i in range(n)
    ]
    return json.dumps(items).encode()


def make_client(body: bytes, *, governor: bool = True) -> BexioClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json", **HEADERS})

    tokens = TokenSet("bench-access", "bench-refresh", datetime.now(UTC) + timedelta(hours=1), frozenset())
    provider = TokenProvider(auth=None, store=MemoryTokenStore(tokens))  # type: ignore[arg-type]
    return BexioClient(
        base_url="https://api.bexio.test",
        token_provider=provider,
        transport=httpx.MockTransport(handler),
        governor=RateGovernor("bench", burst_fraction=0.0) if governor else None,
        on_request=lambda event: None,
    )


def cpu_per_call(fn, n: int) -> float:
    fn()  # warm up
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()

    small = b'{"success":true}'
    client = make_client(small)
    raw = httpx.Client(
        base_url="https://api.bexio.test",
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=small, headers=HEADERS)),
    )
    ms_client = cpu_per_call(lambda: client.request("GET", "/2.0/unit/1"), args.requests)
    ms_post = cpu_per_call(lambda: client.request("POST", "/2.0/kb_invoice/1/issue"), args.requests)
    ms_httpx = cpu_per_call(
        lambda: raw.get("/2.0/unit/1", headers={"Authorization": "Bearer x"}), args.requests
    )
    print(f"client CPU per request (GET, MockTransport, tiny body): {ms_client:.3f} ms")
    print(f"client CPU per request (empty action POST):             {ms_post:.3f} ms")
    print(f"plain httpx CPU per request (same transport):            {ms_httpx:.3f} ms")
    print(f"client's own overhead over httpx:                        {ms_client - ms_httpx:.3f} ms")
    # The same GET with httpx answered by a prepared response: only the client's own code (governor,
    # bucket, token provider, retry decision, event), steadier than the difference above on a busy machine.
    canned = httpx.Response(200, content=small, headers={"Content-Type": "application/json", **HEADERS})
    client._http.request = lambda *args, **kwargs: canned  # type: ignore[method-assign]
    us_own = min(cpu_per_call(lambda: client.request("GET", "/2.0/unit/1"), args.requests) for _ in range(3))
    print(f"client's own code per GET (httpx stubbed out):           {us_own * 1000:.1f} us")
    print(f"target < 0.5 ms CPU per request excluding parsing:       {'OK' if ms_client < 0.5 else 'MISSED'}")

    page = contact_page(2000)
    client = make_client(page)
    start = time.perf_counter()
    cpu0 = time.process_time()
    for _ in range(args.pages):
        assert len(client.contacts.list(limit=2000)) == 2000
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    print(f"pages of 2000 contacts fetched+parsed per CPU second:   {args.pages / cpu:.1f}")
    print(f"pages of 2000 contacts fetched+parsed per wall second:  {args.pages / wall:.1f} "
          f"({cpu / args.pages * 1000:.1f} ms CPU per page, {len(page) / 1024:.0f} KiB)")  # fmt: skip
    start = time.perf_counter()
    for _ in range(args.pages):
        items = json.loads(page)
    decode = (time.perf_counter() - start) / args.pages
    start = time.perf_counter()
    for _ in range(args.pages):
        [Contact.model_validate(item) for item in items]
    parse = (time.perf_counter() - start) / args.pages
    print(f"model validation alone, pages per second:               {1 / parse:.1f}")
    print(f"json.loads alone (machine speed reference), pages/s:     {1 / decode:.1f}")


if __name__ == "__main__":
    main()
