from aeroledger.members.imports import import_members
from aeroledger.tenancy.commands import ImportCommand


class Command(ImportCommand):
    help = "Import members from a CSV file (UTF-8 or Windows-1252, ';' or ','): all rows or none."

    def import_rows(self, organisation, stream):
        return import_members(organisation, stream)

    def imported(self, organisation, plan, count):
        new = sum(1 for r in plan.rows if r.is_new)
        return f"Imported {count} members into {organisation.slug} ({new} new, {count - new} updated)."
