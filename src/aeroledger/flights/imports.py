"""CSV import of flights: validate every row first, then create all flights or none.

Columns: date (24.11.2026 or 2026-11-24), aircraft (registration), pilot and instructor (member
numbers), block_minutes, landings ("LSZF:2 LSZG:1"; an ICAO code alone is one landing), remarks.
Imported flights are not signed off: staff check the charges and sign them off.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aeroledger.members.models import Member
from aeroledger.tenancy.csvfiles import CSVImport, RowError
from aeroledger.tenancy.limits import MAX_BLOCK_MINUTES, MAX_LANDINGS, validate_year
from aeroledger.tenancy.params import BadParameter, parse_int

from .models import Aerodrome, Aircraft, Flight, Landing

COLUMNS = {"date", "aircraft", "pilot", "instructor", "block_minutes", "landings", "remarks"}
REQUIRED = {"date", "aircraft", "pilot", "block_minutes"}
_LANDING = re.compile(r"^([A-Za-z0-9]{4})(?::([0-9]+))?$", re.ASCII)


def parse_date(text: str) -> date:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


@dataclass
class PlannedFlight:
    row: int
    flight: Flight
    landings: list[tuple[Aerodrome, int]]


class FlightImport(CSVImport):
    rows: list[PlannedFlight]
    rows_setting = "AEROLEDGER_CSV_MAX_FLIGHT_ROWS"  # a flight costs more to save than a member

    def validate(self) -> "FlightImport":
        csv_rows = self.read_rows(required=REQUIRED, known=COLUMNS)
        if not csv_rows:
            return self
        org = self.organisation
        self.aircraft = {a.registration: a for a in Aircraft.objects.filter(organisation=org)}
        self.aerodromes = {a.icao: a for a in Aerodrome.objects.filter(organisation=org)}
        self.members = {
            m.number: m for m in Member.objects.filter(organisation=org).select_related("invoice_to")
        }
        for number, values in csv_rows:
            self._validate_row(number, values)
        self.errors.sort(key=lambda e: e.row)
        return self

    def _validate_row(self, row: int, values: dict) -> None:
        errors = []

        def error(column, message):
            errors.append(RowError(row, column, message))

        flight_date = aircraft = pilot = instructor = minutes = None
        try:
            flight_date = parse_date(values["date"])
            validate_year(flight_date)
        except ValueError:
            error("date", _("Not a date: %(value)r (use 24.11.2026).") % {"value": values["date"]})
        except ValidationError as exc:
            error("date", exc.messages[0])
        aircraft = self.aircraft.get(values["aircraft"].upper())
        if aircraft is None:
            error("aircraft", _("Unknown aircraft %(value)r.") % {"value": values["aircraft"]})
        pilot = self.members.get(values["pilot"])
        if pilot is None:
            error("pilot", _("No member with number %(value)r.") % {"value": values["pilot"]})
        elif not pilot.is_active:
            error("pilot", _("Member %(value)s is archived.") % {"value": values["pilot"]})
        if values.get("instructor"):
            instructor = self.members.get(values["instructor"])
            if instructor is None:
                error("instructor", _("No member with number %(value)r.") % {"value": values["instructor"]})
            elif instructor == pilot:
                error("instructor", _("The instructor cannot be the pilot."))
        try:
            minutes = parse_int(values["block_minutes"], label="", min_value=1, max_value=MAX_BLOCK_MINUTES)
        except BadParameter:
            error(
                "block_minutes",
                _("Block minutes must be a whole number from 1 to %(max)s.") % {"max": MAX_BLOCK_MINUTES},
            )
        landings = []
        for part in values.get("landings", "").split():
            match = _LANDING.match(part)
            aerodrome = self.aerodromes.get(match.group(1).upper()) if match else None
            if match is None:
                error("landings", _("Cannot read %(value)r (use LSZF:2 LSZG:1).") % {"value": part})
            elif aerodrome is None:
                error("landings", _("Unknown aerodrome %(value)r.") % {"value": match.group(1)})
            else:
                digits = match.group(2) or "1"
                count = int(digits) if len(digits) <= 9 else MAX_LANDINGS + 1  # 10**20 is no count
                if not 1 <= count <= MAX_LANDINGS:
                    error(
                        "landings",
                        _("The number of landings at %(icao)s must be from 1 to %(max)s.")
                        % {"icao": aerodrome.icao, "max": MAX_LANDINGS},
                    )
                landings.append((aerodrome, count))
        if len(values.get("remarks", "")) > 500:
            error("remarks", _("At most 500 characters."))
        if errors:
            self.errors.extend(errors)
            return
        flight = Flight(
            organisation=self.organisation,
            date=flight_date,
            aircraft=aircraft,
            pilot=pilot,
            instructor=instructor,
            block_minutes=minutes,
            remarks=values.get("remarks", ""),
        )
        self.rows.append(PlannedFlight(row, flight, landings))

    @transaction.atomic
    def commit(self) -> int:
        if not self.ok:
            raise ValueError("the import has errors")
        for planned in self.rows:
            planned.flight.save()
            Landing.objects.bulk_create(
                Landing(flight=planned.flight, aerodrome=a, count=c) for a, c in planned.landings
            )
            planned.flight.rebuild_charges()
        return len(self.rows)


def import_flights(organisation, source) -> FlightImport:
    """`source`: the file as bytes, a binary stream or a str."""
    return FlightImport(organisation, source).validate()
