"""The page flows that views of every app share: a form that saves an object, the CSV import."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .csvfiles import CSVFileError, decode


def _lock_row(obj):
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)


def form_page(
    request,
    form_class,
    instance,
    template,
    context=None,
    *,
    saved,
    back,
    locked=None,
    lock=_lock_row,
    **form_kwargs,
):
    """The page of a form that creates (`instance` None) or changes one object.

    A valid POST saves it, shows the message `saved` and returns `back` (a redirect).
    `locked(obj) -> str` says why the object can no longer be changed ("" while it can); the page
    shows that error and returns `back`. On a POST the row is locked and read afresh inside the
    saving transaction, `locked` asked again, and the form applied to that fresh row: a change that
    happened since the page was loaded (a sign-off, an approval) is never overwritten by a copy
    read earlier. `lock(obj)` returns that locked fresh row (default: the row itself; pass your own
    when other rows decide, e.g. a charge's flight); a row deleted since the page loaded it is
    reported, not a 500.
    """
    why = locked(instance) if locked and instance is not None else ""
    if why:
        messages.error(request, why)
        return back
    if request.method != "POST":
        form = form_class(instance=instance, **form_kwargs)
        return render(request, template, {"form": form, **(context or {})})
    with transaction.atomic():
        if instance is not None and instance.pk is not None:
            try:
                instance = lock(instance)
            except ObjectDoesNotExist:  # e.g. a charge its flight's edit replaced a moment ago
                messages.error(
                    request,
                    _("This no longer exists (it was replaced or deleted meanwhile); nothing was saved."),
                )
                return back
            why = locked(instance) if locked else ""
            if why:
                messages.error(request, why)
                return back
        form = form_class(request.POST, instance=instance, **form_kwargs)
        if form.is_valid():
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
