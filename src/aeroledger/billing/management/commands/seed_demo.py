from django.core.management.base import BaseCommand, CommandError

from aeroledger.billing.demo import DEMO_PASSWORD, seed_demo
from aeroledger.tenancy import hooks


class Command(BaseCommand):
    help = "Create the demo organisation 'demo' with members, aircraft, flights and logins (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--with-bexio-connection",
            action="store_true",
            help="Then connect the demo organisation to the bexio sandbox, ready to transfer.",
        )

    def handle(self, *args, with_bexio_connection=False, **options):
        organisation = seed_demo()
        self.stdout.write(
            f"Demo organisation '{organisation.slug}' ready: {organisation.members.count()} members, "
            f"{organisation.flights.count()} flights, {organisation.invoices.count()} invoices. "
            f"Logins (demo only): admin / {DEMO_PASSWORD}, viewer / {DEMO_PASSWORD}."
        )
        if with_bexio_connection:
            # The accounting integration connects its demo (hook "demo_connect"; bexio_link registers it).
            if not hooks.registered("demo_connect"):
                raise CommandError("--with-bexio-connection: no accounting integration is installed.")
            hooks.collect("demo_connect", organisation, self.stdout)
