"""`aeroledger bexio_refresh_master_data --org SLUG`: import master data from bexio now."""

from django.core.management.base import BaseCommand, CommandError

from aeroledger.bexio_link.masterdata.demo import configure_demo_mapping
from aeroledger.bexio_link.masterdata.refresh import describe_error, refresh_master_data

from ._org import organisation


class Command(BaseCommand):
    help = "Refresh the bexio master data (articles, taxes, accounts, bank accounts, ...) of an organisation."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="the organisation's short name (slug)")
        parser.add_argument(
            "--demo-mapping",
            action="store_true",
            help="then fill the empty parts of the mapping from the sandbox's demo articles",
        )

    def handle(self, *args, org, demo_mapping=False, **options):
        org = organisation(org)
        try:
            run = refresh_master_data(org, triggered_by="command")
        except Exception as exc:
            raise CommandError(f"Refresh from bexio failed: {describe_error(exc)}") from None
        for kind, counts in run.summary.items():
            if "created" in counts:
                line = ", ".join(
                    f"{k} {counts[k]}" for k in ("created", "updated", "deactivated", "unchanged")
                )
                note = (
                    " (from articles: the accounting scope is not granted)"
                    if counts.get("from_articles")
                    else ""
                )
                self.stdout.write(f"{kind:15} {line}{note}")
            else:
                self.stdout.write(f"{kind:15} skipped: {counts.get('skipped')}")
        self.stdout.write(f"changes: {run.changes}")
        if demo_mapping:
            for line in configure_demo_mapping(org) or ["nothing to fill"]:
                self.stdout.write(f"demo mapping: {line}")
