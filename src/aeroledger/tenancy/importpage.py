"""The CSV import page of every app: upload -> preview -> import all rows or none.

The uploaded file stays on the server between preview and import (`uploads.keep`, a random token
bound to the user, the organisation and the import, for an hour): the confirmation posts only the
token, never the file's text, so a file of any allowed size can be committed. The file is read
again, as a stream, when the import is confirmed (the data may have changed in between).
"""

import io

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import uploads
from .csvfiles import CSVFileError, max_bytes, max_rows, megabytes, open_text, size_problem

SHOWN = 200  # preview rows and errors shown on the page (all are counted)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))

    def clean_file(self):
        file = self.cleaned_data["file"]
        problem = size_problem(file.size)
        if problem:
            raise forms.ValidationError(problem)
        data = file.read()
        try:
            open_text(data)  # the encoding, checked now so the message is on the upload form
        except CSVFileError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return file.name, data


def import_page(
    request,
    import_rows,
    *,
    kind,
    columns,
    template,
    message,
    next_url,
    rows_setting="AEROLEDGER_CSV_MAX_ROWS",
):
    """The page of one import (`kind`: "members", "flights").

    `import_rows(organisation, source)` reads the file (bytes or a binary stream) and returns the
    plan (`ok`, `rows`, `errors`, `commit()`, which raises ValueError when it cannot save). After
    the import the page shows `message` (with `%(count)s`) and redirects to the organisation's
    page `next_url`. `rows_setting` names the setting with the import's row limit (shown).
    """
    context = {
        "columns": sorted(columns),
        "form": ImportUploadForm(),
        "max_size": megabytes(max_bytes()),
        "max_rows": max_rows(rows_setting),
    }
    if request.method != "POST":
        return render(request, template, context)
    if request.POST.get("action") == "commit":
        pending = uploads.kept(request, kind, request.POST.get("token", ""))
        if pending is None:
            messages.error(
                request, _("This preview has expired or was already imported; upload the file again.")
            )
            return render(request, template, context)
        plan = import_rows(request.organisation, io.BytesIO(bytes(pending.data)))
        context.update(_preview(plan), token=pending.token)
        if not plan.ok:
            return render(request, template, context)
        try:
            count = plan.commit()
        except ValueError as exc:
            messages.error(request, str(exc))
            return render(request, template, context)
        pending.delete()
        messages.success(request, message % {"count": count})
        return redirect(next_url, request.organisation.slug)
    form = ImportUploadForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        return render(request, template, context)
    name, data = form.cleaned_data["file"]
    plan = import_rows(request.organisation, io.BytesIO(data))
    context.update(_preview(plan))
    if plan.ok:
        context["token"] = uploads.keep(request, kind, name, data)
    return render(request, template, context)


def _preview(plan) -> dict:
    return {"plan": plan, "shown_rows": plan.rows[:SHOWN], "shown_errors": plan.errors[:SHOWN]}
