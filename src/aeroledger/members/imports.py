"""CSV import of members: validate everything first, then commit all rows or none."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from aeroledger.tenancy.csvfiles import CSVImport, RowError

from .forms import MemberImportRowForm
from .models import Member

COLUMNS = set(MemberImportRowForm.Meta.fields) | {"invoice_to"}
REQUIRED = {"number"}
TRUE = {"1", "yes", "true", "ja", "oui", "si", "sì", "x", "y", "j"}
FALSE = {"0", "no", "false", "nein", "non", "n"}


@dataclass
class PlannedMember:
    row: int
    member: Member
    invoice_to_number: str
    is_new: bool


class MemberImport(CSVImport):
    rows: list[PlannedMember]

    def validate(self) -> "MemberImport":
        csv_rows = self.read_rows(required=REQUIRED, known=COLUMNS)
        if not csv_rows:
            return self
        members = Member.objects.filter(organisation=self.organisation).select_related("invoice_to")
        existing = {m.number: m for m in members}
        seen: dict[str, int] = {}
        for number, values in csv_rows:
            self._validate_row(number, values, existing, seen)
        numbers = set(existing) | set(seen)
        # Who pays for whom once the file is imported: the file's rows win over the database.
        payer_of = {m.number: (m.invoice_to.number if m.invoice_to_id else "") for m in existing.values()}
        payer_of.update({p.member.number: p.invoice_to_number for p in self.rows})
        for planned in self.rows:
            payer = planned.invoice_to_number
            if payer and payer not in numbers:
                self.errors.append(
                    RowError(planned.row, "invoice_to", _("No member with number %s.") % payer)
                )
            elif payer and payer == planned.member.number:
                self.errors.append(
                    RowError(planned.row, "invoice_to", _("A member cannot pay for themselves."))
                )
            elif payer and payer_of.get(payer):
                self.errors.append(
                    RowError(
                        planned.row, "invoice_to", _("Member %s has someone else paying for them.") % payer
                    )
                )
        self.errors.sort(key=lambda e: (e.row, e.column))
        return self

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
            )
        )
        if "invoice_to" not in values and instance is not None:
            # Column absent: keep who pays as it is.
            self.rows[-1].invoice_to_number = instance.invoice_to.number if instance.invoice_to_id else ""

    @transaction.atomic
    def commit(self) -> int:
        """Save every row, or none (raises ValueError when the plan has errors or the data moved)."""
        if not self.ok:
            raise ValueError("the import has errors")
        try:
            with transaction.atomic():
                for planned in self.rows:
                    planned.member.invoice_to = None
                    planned.member.save()
                by_number = {m.number: m for m in Member.objects.filter(organisation=self.organisation)}
                for planned in self.rows:
                    payer = by_number.get(planned.invoice_to_number) if planned.invoice_to_number else None
                    planned.member.invoice_to = payer
                    planned.member.save(update_fields=["invoice_to", "updated_at"])
        except IntegrityError as exc:
            raise ValueError(
                _("Another change to the members happened at the same time; try again.")
            ) from exc
        return len(self.rows)


def import_members(organisation, text: str) -> MemberImport:
    return MemberImport(organisation, text).validate()
