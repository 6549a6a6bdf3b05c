"""`aeroledger bexio_reconcile --org SLUG [--period YYYY-MM] [--json]`: Aeroledger's ledger against
bexio's books. Exit status: 0 no difference, 1 differences found, 2 could not reconcile."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from aeroledger.bexio_link.books import runs, texts
from aeroledger.tenancy.models import Organisation
from aeroledger.tenancy.params import BadParameter, parse_month


class Command(BaseCommand):
    help = (
        "Reconcile members' credit, revenue, VAT, invoices and bookings with bexio's journal "
        "(exit 0: no difference, 1: differences, 2: could not reconcile)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation short name (slug)")
        parser.add_argument(
            "--period", default=None, help="a month YYYY-MM (default: everything up to today)"
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--language", default="en", help="language of the texts (en, de, fr, it)")

    def handle(self, *args, **opts):
        try:
            org = Organisation.objects.get(slug=opts["org"])
        except Organisation.DoesNotExist:
            raise CommandError(f"no organisation {opts['org']!r}", returncode=2) from None
        if opts["period"]:
            try:
                parse_month(opts["period"], label="--period")
            except BadParameter as exc:
                raise CommandError(str(exc), returncode=2) from None
        with translation.override(opts["language"]):
            try:
                run = runs.start(org, opts["period"])
            except runs.AlreadyRunning as exc:
                raise CommandError(str(exc), returncode=2) from None
            progress = self.stderr if not opts["json"] else None
            try:
                result = runs.execute(run)
            except Exception as exc:  # noqa: BLE001 - said plainly; the run row keeps it too
                run.refresh_from_db()
                raise CommandError(f"could not reconcile: {run.error or exc}", returncode=2) from None
            data = result.as_json()
            if opts["json"]:
                self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
            else:
                self.report(data)
            if progress is not None:
                progress.write(f"{data['requests']} requests to bexio, {data['seconds']} s")
        if result.differences:
            sys.exit(1)

    def report(self, data: dict) -> None:
        w = self.stdout.write
        period = data["period"] or f"up to {data['date_to']}"
        w(f"Reconciliation of {data['org']} with bexio, {period}")
        if data["credit"]:
            c = data["credit"]
            ours, bexio = texts.chf(c["ours"]), texts.chf(c["bexio"])
            w(f"  members' credit {ours}; credit account {c['account']} in bexio {bexio}")
        for row in data["accounts"]:
            ours, bexio = texts.chf(row["ours"]), texts.chf(row["bexio"])
            w(f"  {row['role']:<7} {row['account']:<45} Aeroledger {ours:>16}  bexio {bexio:>16}")
        for row in data["vat_codes"]:
            net, vat = texts.chf(row["net"]), texts.chf(row["vat"])
            w(f"  VAT code {row['tax']}: revenue {net}, VAT {vat} (Aeroledger)")
        counts = data["counts"]
        w(
            f"  {counts.get('invoices', 0)} invoices and {counts.get('bookings', 0)} bookings checked; "
            f"{counts.get('bexio_entries', 0)} manual entries and "
            f"{counts.get('journal_lines', 0)} journal lines read"
        )
        for note in data["notes"]:
            w(f"  note: {texts.note_text(note)}")
        diffs = data["differences"]
        if not diffs:
            w("0 differences.")
            return
        w(f"{len(diffs)} difference(s):")
        for n, d in enumerate(diffs, 1):
            t = texts.describe(d)
            amounts = f" (Aeroledger {t.ours}, bexio {t.bexio})" if t.ours or t.bexio else ""
            w(f"{n}. {t.title}{amounts}")
            w(f"   why: {t.cause}")
            for detail in t.details or []:
                w(f"     - {detail}")
            w(f"   what to do: {t.action}")
