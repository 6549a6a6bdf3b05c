"""`bexio-sandbox --host 127.0.0.1 --port 8765 --db PATH|:memory: --rate-limit 1000/60 --latency-ms 0`."""

from __future__ import annotations

import argparse
import os
import re
import sys

from .app import create_app
from .ratelimit import DEFAULT, parse_override
from .realm import check_redirect_uris
from .server import make_server

REDIRECT_ENV = "BEXIO_SANDBOX_DEMO_REDIRECT_URIS"


def rate_settings(values: list[str]) -> dict:
    """`--rate-limit` values -> settings: `N/S` for the default bucket, `bucket=N` for a named one."""
    settings: dict = {"rate_limits": {}}
    for text in values:
        bucket, limit, window = parse_override(text)
        if bucket == DEFAULT:
            settings["rate_limit"] = limit
            if window:
                settings["rate_window_s"] = window
        else:
            if window not in (None, 60):
                raise ValueError(f"--rate-limit {text}: named buckets count per minute (bucket=N)")
            settings["rate_limits"][bucket] = limit
    return settings


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, dict]:
    """Command line -> (arguments, the app's start settings)."""
    parser = argparse.ArgumentParser(prog="bexio-sandbox", description="Local bexio stand-in (not bexio).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--db", default=":memory:", help="sqlite file keeping state across restarts, or :memory:"
    )
    parser.add_argument(
        "--rate-limit",
        action="append",
        default=[],
        metavar="N/S | BUCKET=N",
        help="requests per company: N/S for the default bucket (default 1000/60); BUCKET=N per minute "
        "for contact_search, kb_invoice_search, article_search, kb_invoice_pdf (250), article (400)",
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="added latency per request")
    parser.add_argument(
        "--demo-redirect-uri",
        action="append",
        default=[],
        metavar="URL",
        help="a further callback the demo client accepts (e.g. http://127.0.0.1:8080/bexio/callback); "
        f"repeatable; also ${REDIRECT_ENV} (space or comma separated); kept through --db restarts and resets",
    )
    parser.add_argument(
        "--allow-balance-sheet-positions",
        action="store_true",
        help="accept invoice positions on asset/liability accounts (bexio refuses them)",
    )
    args = parser.parse_args(argv)
    try:
        settings = rate_settings(args.rate_limit)
    except ValueError as exc:
        parser.error(str(exc))
    if args.allow_balance_sheet_positions:
        settings["allow_balance_sheet_positions"] = True
    uris = [*re.split(r"[\s,]+", os.environ.get(REDIRECT_ENV, "").strip()), *args.demo_redirect_uri]
    settings["demo_redirect_uris"] = [u for u in uris if u]
    try:
        check_redirect_uris(settings["demo_redirect_uris"])
    except ValueError as exc:
        parser.error(str(exc))
    return args, {"latency_ms": args.latency_ms, **settings}


def main(argv: list[str] | None = None) -> int:
    args, settings = parse(argv)
    app = create_app(args.db, **settings)
    server = make_server(args.host, args.port, app)
    if app.sandbox.seed_outdated:
        print(
            f"bexio-sandbox: {args.db} holds the seed of an older version (other articles and accounts); "
            f"POST http://{args.host}:{server.server_port}/_sandbox/reset or delete the file for the new one",
            file=sys.stderr,
            flush=True,
        )
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
