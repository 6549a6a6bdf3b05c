"""Reading uploaded CSV files: UTF-8 or Windows-1252, `;` or `,` separated, within limits.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.

Limits (settings, see README "Configuration"): a file of at most `AEROLEDGER_CSV_MAX_BYTES`
(5 MB) and `AEROLEDGER_CSV_MAX_ROWS` data rows (10,000), a cell of at most `MAX_CELL` characters.
The file is read as a stream (the csv module over a text stream): a file with too many rows is
refused at the first row over the limit, without reading the rest, and the rows are never held
as one big string. A file over the size limit is refused before it is read.
"""

import codecs
import csv
import io
import itertools
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

MAX_CELL = 1000  # characters; no column of any import needs more (remarks: 500)
_CHUNK = 64 * 1024


class CSVFileError(ValueError):
    """The file as a whole cannot be read (encoding, empty, missing columns, too big).

    `row` is the row where reading stopped, when the problem is in one row.
    """

    def __init__(self, message: str, *, row: int = 1):
        super().__init__(message)
        self.row = row


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


def max_bytes() -> int:
    return int(settings.AEROLEDGER_CSV_MAX_BYTES)


def max_rows(setting: str = "AEROLEDGER_CSV_MAX_ROWS") -> int:
    """The row limit of an import: AEROLEDGER_CSV_MAX_ROWS, or the import's own setting."""
    return int(getattr(settings, setting))


def megabytes(size: int) -> str:
    """1048576 -> '1 MB', 5767168 -> '5.5 MB' (for messages)."""
    value = size / (1024 * 1024)
    return _("%(size)s MB") % {"size": number_format(round(value, 1) if value % 1 else int(value))}


def size_problem(size: int) -> str:
    """The message for a file of `size` bytes over the limit; empty when it is within."""
    if size <= max_bytes():
        return ""
    return _("The file is %(size)s; at most %(limit)s can be imported at once (split the file).") % {
        "size": megabytes(size),
        "limit": megabytes(max_bytes()),
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


def _decodes(stream, encoding: str) -> bool:
    """Whether the whole binary stream decodes, checked chunk by chunk (constant memory)."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(0)
    return True


def open_text(source) -> io.TextIOBase:
    """A text stream over `source`: a str, bytes, or a seekable binary file (UTF-8 or Windows-1252)."""
    if isinstance(source, str):
        return io.StringIO(source.lstrip("\ufeff"), newline="")
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(source))
    if _decodes(source, "utf-8"):
        encoding = "utf-8-sig"
    elif _decodes(source, "cp1252"):
        encoding = "cp1252"
    else:
        raise CSVFileError(_("The file is neither UTF-8 nor Windows-1252 text."))
    return io.TextIOWrapper(source, encoding=encoding, newline="")


def read_rows(
    source, *, required: set[str], known: set[str], limit: int | None = None
) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: value}) for each non-empty data row; column names lower-cased.

    Raises CSVFileError for a file that cannot be read as a whole, including one with more than
    `limit` (default AEROLEDGER_CSV_MAX_ROWS) data rows (reading stops there) or a cell the csv
    module refuses.
    """
    if isinstance(source, bytes | bytearray | memoryview) and size_problem(len(source)):
        raise CSVFileError(size_problem(len(source)))
    text = open_text(source)
    first_line = text.readline()
    if not first_line.strip() and not text.read(1):
        raise CSVFileError(_("The file is empty."))
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(itertools.chain([first_line], text), delimiter=delimiter)
    limit = max_rows() if limit is None else limit
    reading = 1  # the row the reader is at, for the message when the csv module gives up
    try:
        header = [h.strip().lower() for h in next(reader, [])]
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
        reading = 2
        for number, values in enumerate(reader, start=2):
            reading = number + 1
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= limit:
                raise CSVFileError(
                    _(
                        "The file has more than %(limit)s rows; at most %(limit)s rows can be imported "
                        "at once (split the file)."
                    )
                    % {"limit": number_format(limit, force_grouping=True)},
                    row=number,
                )
            row = {
                name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header) if name
            }
            rows.append((number, row))
    except csv.Error as exc:
        # e.g. a cell over csv.field_size_limit() (131,072 characters): this row and the rest are lost.
        raise CSVFileError(
            _("This row cannot be read (%(error)s); a cell may be far too long.") % {"error": exc},
            row=reading,
        ) from exc
    if not rows:
        raise CSVFileError(_("The file has a header but no data rows."))
    return rows


@dataclass
class CSVImport:
    """What importing a CSV file will do: the planned rows, or every row's errors (then nothing is saved).

    `source` is the file: a str (tests), bytes or a seekable binary file. An importer subclasses
    it: `validate()` reads the file with `read_rows`, plans each row into `rows` or records its
    problems in `errors`; `commit()` saves all rows or none.
    """

    organisation: object
    source: object
    rows: list = field(default_factory=list)
    rows_setting = "AEROLEDGER_CSV_MAX_ROWS"  # the setting with this import's row limit
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    def read_rows(self, *, required: set[str], known: set[str]) -> list[tuple[int, dict[str, str]]]:
        """The file's data rows without over-long cells; none when the file as a whole cannot be read.

        A cell longer than `MAX_CELL` is an error of its row and column (the row is left out).
        """
        try:
            rows = read_rows(self.source, required=required, known=known, limit=max_rows(self.rows_setting))
        except CSVFileError as exc:
            self.errors.append(RowError(exc.row, "", str(exc)))
            return []
        fine = []
        for number, values in rows:
            too_long = [name for name, value in values.items() if len(value) > MAX_CELL]
            for name in too_long:
                self.errors.append(
                    RowError(
                        number,
                        name,
                        _("At most %(limit)s characters (this cell has %(length)s).")
                        % {
                            "limit": number_format(MAX_CELL, force_grouping=True),
                            "length": number_format(len(values[name]), force_grouping=True),
                        },
                    )
                )
            if not too_long:
                fine.append((number, values))
        return fine
