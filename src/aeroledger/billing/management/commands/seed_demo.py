from django.core.management.base import BaseCommand, CommandError

from aeroledger.billing.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create the demo organisation 'demo' with members, aircraft, flights and logins (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-bexio-connection",
            action="store_true",
            help="Afterwards connect the demo organisation to the bexio sandbox.",
        )

    def handle(self, *args, with_bexio_connection=False, **options):
        organisation = seed_demo()
        self.stdout.write(
            f"Demo organisation '{organisation.slug}' ready: {organisation.members.count()} members, "
            f"{organisation.flights.count()} flights, {organisation.invoices.count()} invoices. "
            f"Logins (demo only): admin / {DEMO_PASSWORD}, viewer / {DEMO_PASSWORD}."
        )
        if with_bexio_connection:
            try:
                from aeroledger.bexio_link.connection.demo import connect_demo
            except ImportError as exc:
                raise CommandError(
                    f"--with-bexio-connection: the bexio connection is not available ({exc})."
                ) from exc
            connect_demo(organisation, self.stdout)
