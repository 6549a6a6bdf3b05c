"""A transfer worker in its own process, for the multi-process tests (PostgreSQL).

python -m aeroledger.bexio_link.transfer.tests.worker_main SANDBOX_URL TOKEN WORKER_ID [--shared] [--lease S]
DATABASE_URL must point at the test database.
"""

import argparse
import json
import os
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("worker")
    parser.add_argument("--shared", action="store_true", help="no organisation lease: rows only")
    parser.add_argument("--lease", type=int, default=120)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aeroledger.settings")
    import django

    django.setup()
    from datetime import timedelta

    from aeroledger.bexio_link.transfer.outbox import outcome
    from aeroledger.bexio_link.transfer.outbox.worker import run_outbox
    from bexio import BexioClient, RateGovernor, StaticToken

    outcome.backoff = lambda attempts: timedelta(0)
    client = BexioClient(
        base_url=args.url,
        token_provider=StaticToken(args.token),
        timeout=3,
        max_retries=3,
        governor=RateGovernor(),
        max_wait_s=2,
    )
    stats = run_outbox(
        worker=args.worker,
        concurrency=args.concurrency,
        client_factory=lambda org: client,
        lease_s=args.lease,
        exclusive_orgs=not args.shared,
        wait_for_retries_s=5,
    )
    sys.stdout.write(json.dumps(stats) + "\n")


if __name__ == "__main__":
    main()
