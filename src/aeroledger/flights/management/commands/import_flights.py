from aeroledger.flights.imports import import_flights
from aeroledger.tenancy.commands import ImportCommand


class Command(ImportCommand):
    help = "Import flights from a CSV file (UTF-8 or Windows-1252, ';' or ','): all rows or none."

    def import_rows(self, organisation, stream):
        return import_flights(organisation, stream)

    def imported(self, organisation, plan, count):
        return f"Imported {count} flights into {organisation.slug} (not signed off yet)."
