"""Reading uploaded CSV files: UTF-8 or Windows-1252, `;` or `,` separated; the import page.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
"""

import csv
import io
from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect, render
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


def import_page(request, import_rows, *, columns, form_class, template, message, next_url):
    """Upload -> preview (every row's errors, or what will happen) -> commit all rows or none.

    `import_rows(organisation, text)` checks the text and returns the plan (`ok`, `rows`, `errors`,
    `commit()`, which raises ValueError when it cannot save). After the import the page shows
    `message` (with `%(count)s`) and redirects to the organisation's page `next_url`.
    """
    context = {"columns": sorted(columns), "form": form_class()}
    if request.method == "POST":
        text = request.POST.get("csv_text")
        if text is None:
            form = form_class(request.POST, request.FILES)
            context["form"] = form
            if not form.is_valid():
                return render(request, template, context)
            try:
                text = decode(form.cleaned_data["file"].read())
            except CSVFileError as exc:
                form.add_error("file", str(exc))
                return render(request, template, context)
        plan = import_rows(request.organisation, text)
        context.update(plan=plan, csv_text=text)
        if plan.ok and request.POST.get("action") == "commit":
            try:
                count = plan.commit()
            except ValueError as exc:
                messages.error(request, str(exc))
                return render(request, template, context)
            messages.success(request, message % {"count": count})
            return redirect(next_url, request.organisation.slug)
    return render(request, template, context)
