"""The page flows that views of every app share: a form that saves an object, the CSV import."""

from django.contrib import messages
from django.shortcuts import redirect, render

from .csvfiles import CSVFileError, decode


def form_page(
    request, form_class, instance, template, context=None, *, saved, back, locked="", **form_kwargs
):
    """The page of a form that creates (`instance` None) or changes one object.

    A valid POST saves it, shows the message `saved` and returns `back` (a redirect). `locked` is the
    error to show instead, returning `back`, when the object can no longer be changed.
    """
    if locked:
        messages.error(request, locked)
        return back
    form = form_class(request.POST or None, instance=instance, **form_kwargs)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, saved)
        return back
    return render(request, template, {"form": form, **(context or {})})


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
