from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from aeroledger.billing.runs import BadPeriod, billing_run, parse_period
from aeroledger.tenancy.commands import organisation_or_error


class Command(BaseCommand):
    help = "Make one draft invoice per paying member from the signed-off charges up to the period's end."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--period", required=True, help="the month: 2026-11 or 11.2026")
        parser.add_argument("--approve", action="store_true", help="approve the invoices right away")
        parser.add_argument("--user", help="username recorded as creator/approver")

    def handle(self, *args, org, period, approve=False, user=None, **options):
        organisation = organisation_or_error(org)
        try:
            parse_period(period)
        except BadPeriod as exc:
            raise CommandError(f"--period {period!r}: {exc}") from exc
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user {user!r}.")
        run, invoices = billing_run(organisation, period, user=actor, approve=approve)
        if run is None:
            self.stdout.write(f"Nothing to bill up to the end of {period}.")
            return
        for invoice in invoices:
            self.stdout.write(
                f"{invoice.number}  {invoice.member.number:>8}  {invoice.member.display_name:<30}  "
                f"total {invoice.total:>10}  credit {invoice.credit_applied:>10}  "
                f"due {invoice.amount_due:>10}  {invoice.status}"
            )
        self.stdout.write(f"Billing run {run.period_label}: {len(invoices)} invoice(s).")
