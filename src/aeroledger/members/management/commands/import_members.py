from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aeroledger.members.imports import import_members
from aeroledger.tenancy.csvfiles import CSVFileError, decode
from aeroledger.tenancy.models import Organisation


def organisation_or_error(slug: str) -> Organisation:
    try:
        return Organisation.objects.get(slug=slug)
    except Organisation.DoesNotExist:
        raise CommandError(f"No organisation with slug {slug!r}.") from None


def read_csv_file(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file.")
    try:
        return decode(file.read_bytes())
    except CSVFileError as exc:
        raise CommandError(f"{path}: {exc}") from exc


class Command(BaseCommand):
    help = "Import members from a CSV file (UTF-8 or Windows-1252, ';' or ','): all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--dry-run", action="store_true", help="only check the file")
        parser.add_argument("file")

    def handle(self, *args, org, file, dry_run=False, **options):
        organisation = organisation_or_error(org)
        plan = import_members(organisation, read_csv_file(file))
        if plan.errors:
            for error in plan.errors:
                self.stderr.write(f"{file}: {error}")
            raise CommandError(f"{len(plan.errors)} problem(s) in {file}; nothing was imported.")
        if dry_run:
            self.stdout.write(f"{len(plan.rows)} rows are fine (dry run, nothing saved).")
            return
        try:
            count = plan.commit()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        new = sum(1 for r in plan.rows if r.is_new)
        self.stdout.write(
            f"Imported {count} members into {organisation.slug} ({new} new, {count - new} updated)."
        )
