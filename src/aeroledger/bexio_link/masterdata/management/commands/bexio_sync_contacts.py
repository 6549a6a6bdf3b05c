"""`aeroledger bexio_sync_contacts --org SLUG [--dry-run]`: members -> bexio contacts."""

from django.core.management.base import BaseCommand, CommandError

from aeroledger.bexio_link.masterdata.contact_sync import sync_contacts
from aeroledger.bexio_link.masterdata.contacts import ContactSyncError
from aeroledger.bexio_link.masterdata.refresh import describe_error

from ._org import organisation


def _who(member) -> str:
    return f"{member.number} {member.display_name}" if member is not None else "-"


class Command(BaseCommand):
    help = "Create or update the bexio contacts of an organisation's members; print what was done."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="the organisation's short name (slug)")
        parser.add_argument("--dry-run", action="store_true", help="match and report, change nothing")

    def handle(self, *args, org, dry_run, **options):
        org = organisation(org)
        try:
            report = sync_contacts(org, dry_run=dry_run)
        except ContactSyncError as exc:
            raise CommandError(str(exc)) from None
        except Exception as exc:
            raise CommandError(f"The contact sync failed: {describe_error(exc)}") from None
        verb = "would be " if dry_run else ""
        if report.group_created:
            self.stdout.write("contact group created in bexio")
        s = report.summary()
        self.stdout.write(f"{verb}created: {s['created']}")
        self.stdout.write(f"{verb}updated: {s['updated']}")
        self.stdout.write(f"{verb}matched: {s['matched']}")
        self.stdout.write(f"unchanged: {s['unchanged']}")
        self.stdout.write(f"to be chosen by hand: {s['conflicts']}")
        for member, candidates in report.conflicts:
            ids = ", ".join(str(c["id"]) for c in candidates)
            self.stdout.write(f"  {_who(member)}: several bexio contacts match ({ids})")
        if report.errors:
            self.stdout.write(f"failed: {s['errors']}")
            for member, message in report.errors:
                self.stdout.write(f"  {_who(member)}: {message}")
