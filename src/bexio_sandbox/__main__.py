"""`bexio-sandbox --host 127.0.0.1 --port 8765 --db PATH|:memory: --rate-limit 1000/60 --latency-ms 0`."""

from __future__ import annotations

import argparse
import sys

from .app import create_app
from .server import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bexio-sandbox", description="Local bexio stand-in (not bexio).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--db", default=":memory:", help="sqlite file keeping state across restarts, or :memory:"
    )
    parser.add_argument("--rate-limit", default="1000/60", help="requests/seconds per company, e.g. 1000/60")
    parser.add_argument("--latency-ms", type=int, default=0, help="added latency per request")
    args = parser.parse_args(argv)
    limit, _, window = args.rate_limit.partition("/")
    app = create_app(
        args.db, rate_limit=int(limit), rate_window_s=int(window or 60), latency_ms=args.latency_ms
    )
    server = make_server(args.host, args.port, app)
    print(
        f"bexio-sandbox on http://{args.host}:{server.server_port} (issuer "
        f"http://{args.host}:{server.server_port}/realms/bexio, db {args.db})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
