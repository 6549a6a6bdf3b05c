"""Reading uploaded CSV files: UTF-8 or Windows-1252, `;` or `,` separated.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
"""

import csv
import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _


class CSVFileError(ValueError):
    """The file as a whole cannot be read (encoding, empty, missing columns)."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column or "-",
            "message": self.message,
        }


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (what Excel on Windows writes)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise CSVFileError(_("The file is neither UTF-8 nor Windows-1252 text.")) from exc


def read_rows(text: str, *, required: set[str], known: set[str]) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: value}) for each non-empty data row; column names lower-cased."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise CSVFileError(_("The file is empty."))
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    missing = sorted(required - set(header))
    if missing:
        raise CSVFileError(_("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)})
    unknown = sorted(set(header) - known - {""})
    if unknown:
        raise CSVFileError(
            _("Unknown column(s): %(columns)s. Known columns: %(known)s.")
            % {"columns": ", ".join(unknown), "known": ", ".join(sorted(known))}
        )
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        row = {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header) if name}
        rows.append((number, row))
    if not rows:
        raise CSVFileError(_("The file has a header but no data rows."))
    return rows


@dataclass
class CSVImport:
    """What importing a CSV file will do: the planned rows, or every row's errors (then nothing is saved).

    An importer subclasses it: `validate()` reads the file with `read_rows`, plans each row into
    `rows` or records its problems in `errors`; `commit()` saves all rows or none.
    """

    organisation: object
    text: str
    rows: list = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def read_rows(self, *, required: set[str], known: set[str]) -> list[tuple[int, dict[str, str]]]:
        """The file's data rows; none when the file as a whole cannot be read (an error on row 1)."""
        try:
            return read_rows(self.text, required=required, known=known)
        except CSVFileError as exc:
            self.errors.append(RowError(1, "", str(exc)))
            return []
