"""CSV import of members: validate everything first, then commit all rows or none."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.tenancy.csvfiles import CSVImport, RowError

from .forms import MemberImportRowForm
from .models import Member, invoice_to_problem, parse_salutation, split_street

COLUMNS = set(MemberImportRowForm.Meta.fields) | {"invoice_to"}
REQUIRED = {"number"}
TRUE = {"1", "yes", "true", "ja", "oui", "si", "sì", "x", "y", "j"}
FALSE = {"0", "no", "false", "nein", "non", "n"}
BATCH = 500


@dataclass
class PlannedMember:
    row: int
    member: Member
    invoice_to_number: str
    is_new: bool
    street_as_written: str = ""  # "Seestrasse 12" when the house number was taken out of it


class MemberImport(CSVImport):
    rows: list[PlannedMember]

    @property
    def streets_split(self) -> list[PlannedMember]:
        """The rows whose house number was taken out of the street (the preview says so)."""
        return [p for p in self.rows if p.street_as_written]

    def validate(self) -> "MemberImport":
        csv_rows = self.read_rows(required=REQUIRED, known=COLUMNS)
        if not csv_rows:
            return self
        members = Member.objects.filter(organisation=self.organisation).select_related("invoice_to")
        existing = {m.number: m for m in members}
        seen: dict[str, int] = {}
        for number, values in csv_rows:
            self._validate_row(number, values, existing, seen)
        self._check_payers(existing, seen)
        self.errors.sort(key=lambda e: (e.row, e.column))
        return self

    def _check_payers(self, existing: dict, seen: dict) -> None:
        """`invoice_to` of each row, by the form's rules (`invoice_to_problem`), on the data as it will be
        after the import: the file's rows win over the database."""
        payer_of = {m.number: (m.invoice_to.number if m.invoice_to_id else "") for m in existing.values()}
        active = {m.number: m.is_active for m in existing.values()}
        for planned in self.rows:
            payer_of[planned.member.number] = planned.invoice_to_number
            active[planned.member.number] = planned.member.is_active
        paying = {payer for number, payer in payer_of.items() if payer and payer != number}
        for planned in self.rows:
            number, payer = planned.member.number, planned.invoice_to_number
            if not payer:
                continue
            if payer not in payer_of:
                if payer in seen:
                    continue  # the paying member's own row has errors, named there
                self.errors.append(
                    RowError(planned.row, "invoice_to", _("No member with number %s.") % payer)
                )
                continue
            problem = invoice_to_problem(
                is_self=payer == number,
                same_organisation=True,
                payer_active=active[payer],
                payer_has_payer=bool(payer_of[payer]),
                pays_for_others=number in paying,
            )
            if problem:
                self.errors.append(RowError(planned.row, "invoice_to", str(problem)))

    def _validate_row(self, row: int, values: dict, existing: dict, seen: dict) -> None:
        number = values.get("number", "").strip()
        if number in seen:
            self.errors.append(
                RowError(
                    row,
                    "number",
                    _("Number %(number)s already appears in row %(row)s.")
                    % {"number": number, "row": seen[number]},
                )
            )
            return
        seen[number] = row
        instance = existing.get(number)
        data = (
            model_to_dict(instance, fields=MemberImportRowForm.Meta.fields)
            if instance
            else {
                "kind": "person",
                "country": "CH",
                "language": "de",
                "is_active": True,
            }
        )
        for name, value in values.items():
            if name in ("invoice_to", "is_active"):
                continue
            if name in ("kind", "country", "language") and not value.strip():
                continue  # an empty cell keeps the default (new member) or the current value
            data[name] = value.lower() if name in ("kind", "language") else value
        if "salutation" in values:
            # "Herr", "Madame", "signora" or "mr" -> mr; anything else is left for the form to refuse.
            parsed = parse_salutation(values["salutation"])
            data["salutation"] = values["salutation"].strip() if parsed is None else parsed
        street_as_written = ""
        if not (data.get("house_number") or "").strip():
            # "Seestrasse 12" without a house number: the number goes to its own field.
            parts = split_street(data.get("street") or "")
            if parts is not None:
                street_as_written = data["street"]
                data["street"], data["house_number"] = parts
        if "is_active" in values and values["is_active"] != "":
            flag = values["is_active"].lower()
            if flag not in TRUE | FALSE:
                self.errors.append(RowError(row, "is_active", _("Use 1/0, yes/no or ja/nein.")))
                return
            data["is_active"] = flag in TRUE
        if not data.get("is_active"):
            data.pop("is_active", None)
        form = MemberImportRowForm(data=data, instance=instance, organisation=self.organisation)
        if not form.is_valid():
            for name, messages in form.errors.items():
                column = "" if name == "__all__" else name
                for message in messages:
                    self.errors.append(RowError(row, column, message))
            return
        member = form.save(commit=False)
        self.rows.append(
            PlannedMember(
                row,
                member,
                values.get("invoice_to", "").strip() if "invoice_to" in values else "",
                instance is None,
                street_as_written,
            )
        )
        if "invoice_to" not in values and instance is not None:
            # Column absent: keep who pays as it is.
            self.rows[-1].invoice_to_number = instance.invoice_to.number if instance.invoice_to_id else ""

    @transaction.atomic
    def commit(self) -> int:
        """Save every row, or none (raises ValueError when the plan has errors or the data moved).

        In bulk (20,000 rows are a few queries per 500), payers last: a payer may be a new row.
        Updated members get `post_save` as a form save would (a linked member's bexio contact is
        updated from it).
        """
        if not self.ok:
            raise ValueError("the import has errors")
        now = timezone.now()
        new = [p.member for p in self.rows if p.is_new]
        changed = [p.member for p in self.rows if not p.is_new]
        fields = [f for f in MemberImportRowForm.Meta.fields if f != "number"] + ["updated_at"]
        try:
            with transaction.atomic():
                for member in new + changed:
                    member.invoice_to = None
                    member.updated_at = now
                Member.objects.bulk_create(new, batch_size=BATCH)
                Member.objects.bulk_update(changed, fields + ["invoice_to"], batch_size=BATCH)
                by_number = {
                    m.number: m
                    for m in Member.objects.filter(organisation=self.organisation).only("pk", "number")
                }
                for planned in self.rows:
                    planned.member.pk = by_number[planned.member.number].pk
                    payer = planned.invoice_to_number
                    planned.member.invoice_to = by_number.get(payer) if payer else None
                paying = [p.member for p in self.rows if p.member.invoice_to is not None]
                Member.objects.bulk_update(paying, ["invoice_to"], batch_size=BATCH)
        except IntegrityError as exc:
            raise ValueError(
                _("Another change to the members happened at the same time; try again.")
            ) from exc
        for member in changed:
            post_save.send(sender=Member, instance=member, created=False, update_fields=None, raw=False)
        return len(self.rows)


def import_members(organisation, source) -> MemberImport:
    """`source`: the file as bytes, a binary stream or a str."""
    return MemberImport(organisation, source).validate()
