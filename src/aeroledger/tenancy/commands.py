"""What the management commands of every app share: finding the organisation, importing a CSV file."""

from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from .csvfiles import size_problem
from .models import Organisation


def organisation_or_error(slug: str) -> Organisation:
    try:
        return Organisation.objects.get(slug=slug)
    except Organisation.DoesNotExist:
        raise CommandError(f"No organisation with slug {slug!r}.") from None


@contextmanager
def open_csv_file(path: str):
    """The file opened for reading (binary), after checking that it exists and is within the size
    limit (AEROLEDGER_CSV_MAX_BYTES): a file over it is refused before a byte of it is read."""
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file.")
    problem = size_problem(file.stat().st_size)
    if problem:
        raise CommandError(f"{path}: {problem}")
    with file.open("rb") as stream:
        yield stream


class ImportCommand(BaseCommand):
    """`--org SLUG [--dry-run] FILE`: check every row of a CSV file, then import all rows or none.

    The file is read as a stream within the limits of tenancy/csvfiles.py (size, rows).
    A subclass names the importer, `import_rows(organisation, stream) -> plan` (the plan has `rows`,
    `errors` and `commit()`, which raises ValueError when it cannot save), and says what it did in
    `imported(organisation, plan, count) -> str`.
    """

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--dry-run", action="store_true", help="only check the file")
        parser.add_argument("file")

    def import_rows(self, organisation: Organisation, stream):
        raise NotImplementedError

    def imported(self, organisation: Organisation, plan, count: int) -> str:
        raise NotImplementedError

    def handle(self, *args, org, file, dry_run=False, **options):
        organisation = organisation_or_error(org)
        with open_csv_file(file) as stream:
            plan = self.import_rows(organisation, stream)
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
        self.stdout.write(self.imported(organisation, plan, count))
