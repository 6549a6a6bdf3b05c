"""`aeroledger bexio_sync_status --org SLUG [--full]`: status and payments back from bexio."""

from django.core.management.base import BaseCommand, CommandError

from aeroledger.bexio_link.transfer.invoices.sync import sync_status
from aeroledger.tenancy.models import Organisation


class Command(BaseCommand):
    help = "Update invoice status and book new payments from bexio (incremental on updated_at)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation short name (slug)")
        parser.add_argument("--full", action="store_true", help="also check for invoices deleted in bexio")

    def handle(self, *args, **opts):
        try:
            org = Organisation.objects.get(slug=opts["org"])
        except Organisation.DoesNotExist:
            raise CommandError(f"no organisation {opts['org']!r}") from None
        r = sync_status(org, full=opts["full"])
        self.stdout.write(
            f"{r.seen} changed in bexio, {r.changed} updated here, {r.payments} new payments, "
            f"{r.gone} deleted in bexio, {r.requests} requests; watermark {r.watermark}"
        )
