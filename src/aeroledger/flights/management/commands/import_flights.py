from django.core.management.base import BaseCommand, CommandError

from aeroledger.flights.imports import import_flights
from aeroledger.members.management.commands.import_members import organisation_or_error, read_csv_file


class Command(BaseCommand):
    help = "Import flights from a CSV file (UTF-8 or Windows-1252, ';' or ','): all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--dry-run", action="store_true", help="only check the file")
        parser.add_argument("file")

    def handle(self, *args, org, file, dry_run=False, **options):
        organisation = organisation_or_error(org)
        plan = import_flights(organisation, read_csv_file(file))
        if plan.errors:
            for error in plan.errors:
                self.stderr.write(f"{file}: {error}")
            raise CommandError(f"{len(plan.errors)} problem(s) in {file}; nothing was imported.")
        if dry_run:
            self.stdout.write(f"{len(plan.rows)} rows are fine (dry run, nothing saved).")
            return
        count = plan.commit()
        self.stdout.write(f"Imported {count} flights into {organisation.slug} (not signed off yet).")
