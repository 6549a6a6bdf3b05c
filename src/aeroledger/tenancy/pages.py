"""The page flow that views of every app share: a form that saves an object."""

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.shortcuts import render
from django.utils.translation import gettext as _


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
