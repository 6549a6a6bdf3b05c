"""First contact sync of a 500-member club against the sandbox at 100 ms latency.

Prints the requests used (from the sandbox's own request log), the writes among them and the
seconds the sync took; then, for comparison, the cost per member of the one-by-one path
(`ensure_contact`: search by nr, search by e-mail, create) measured on a sample, and a second sync
(which should use no request at all).

    .venv/bin/python bench/contacts_sync.py [--members 500] [--latency-ms 100] [--sample 20]

Runs on a throw-away SQLite database in a temporary directory; loopback only.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from _common import setup_django  # noqa: E402


def api_requests(handle, since: int) -> list[dict]:
    return [e for e in handle.requests(since=since) if e["path"].startswith(("/2.0", "/3.0"))]


def is_write(entry: dict) -> bool:
    return entry["method"] in ("POST", "PUT", "PATCH", "DELETE") and not entry["path"].endswith("/search")


def last_id(handle) -> int:
    entries = handle.requests()
    return entries[-1]["id"] if entries else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--sample", type=int, default=20, help="members for the one-by-one comparison")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        from aeroledger.bexio_link.masterdata.contact_sync import sync_contacts
        from aeroledger.bexio_link.masterdata.contacts import ensure_contact, ensure_contact_group
        from aeroledger.bexio_link.masterdata.mapping import mapping_for
        from aeroledger.bexio_link.masterdata.master import MasterData
        from aeroledger.bexio_link.masterdata.models import ContactLink, InvoiceSettings, Kind
        from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
        from aeroledger.members.models import Member
        from aeroledger.tenancy.models import Organisation
        from bexio import BexioClient, StaticToken
        from bexio_sandbox.testing import running_sandbox

        scopes = ["openid", "offline_access", "accounting", "article_show", "bank_account_show",
                  "contact_show", "contact_edit", "kb_invoice_show", "kb_invoice_edit"]  # fmt: skip
        with running_sandbox() as sb:
            client = BexioClient(base_url=sb.url, token_provider=StaticToken(sb.token(scopes=scopes)))
            org = Organisation.objects.create(name="Bench club", slug="bench", bexio_option=True)
            refresh_master_data(org, client)
            master = MasterData(org)
            InvoiceSettings.objects.create(
                organisation=org, user=master.all(Kind.USER)[0], bank_account=master.bank_accounts()[0]
            )
            ensure_contact_group(client, mapping_for(org))

            def make(prefix: str, n: int) -> None:
                Member.objects.bulk_create(
                    Member(
                        organisation=org,
                        number=f"{prefix}{i:05d}",
                        first_name="Pia",
                        last_name=f"Pilot {i}",
                        street="Flugplatzstrasse",
                        house_number=str(i % 200 + 1),
                        postcode="8302",
                        city="Kloten",
                        country="CH",
                        email=f"{prefix}{i}@example.ch",
                        language="de",
                    )
                    for i in range(n)
                )

            make("B", args.members)
            sb.settings(latency_ms=args.latency_ms)

            mark = last_id(sb)
            t0 = time.perf_counter()
            report = sync_contacts(org, client)
            seconds = time.perf_counter() - t0
            used = api_requests(sb, mark)
            writes = [e for e in used if is_write(e)]
            print(f"first sync of {args.members} members at {args.latency_ms} ms sandbox latency")
            print(f"  result: {report.summary()}")
            print(f"  requests: {len(used)} ({len(writes)} writes: "
                  f"{sorted({e['method'] + ' ' + e['path'] for e in writes})})")  # fmt: skip
            print(f"  seconds: {seconds:.2f}")
            summary = report.summary()
            linked = ContactLink.objects.filter(organisation=org, bexio_id__isnull=False).count()
            finished = linked == args.members and not summary.get("errors") and not summary.get("conflicts")
            print(f"  every member linked to a bexio contact: {'yes' if finished else 'NO'} ({linked})")

            mark = last_id(sb)
            t0 = time.perf_counter()
            sync_contacts(org, client)
            print(f"second sync: {len(api_requests(sb, mark))} requests, {time.perf_counter() - t0:.2f} s")

            if args.sample:
                make("S", args.sample)
                mapping = mapping_for(org)
                sample = list(Member.objects.filter(organisation=org, number__startswith="S"))
                mark = last_id(sb)
                t0 = time.perf_counter()
                for member in sample:
                    ensure_contact(client, member, mapping=mapping)
                per_member_s = (time.perf_counter() - t0) / len(sample)
                per_member_req = len(api_requests(sb, mark)) / len(sample)
                print(
                    f"one by one (ensure_contact, {len(sample)} members): {per_member_req:.1f} requests and "
                    f"{per_member_s:.2f} s per member -> {args.members} members would take "
                    f"~{per_member_req * args.members:.0f} requests, ~{per_member_s * args.members:.0f} s"
                )
            client.close()
            if not finished:
                sys.exit(1)


if __name__ == "__main__":
    main()
