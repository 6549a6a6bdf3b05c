"""Form pieces that the forms of every app share."""

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    """A date as people in Switzerland write it, 24.11.2026, whatever the browser's language.

    A text field, not the browser's date picker (`type=date` shows and takes the date in the
    browser's language, 11/24/2026 in an English browser). It shows d.m.Y; the forms accept
    24.11.2026, 24.11.26 and 2026-11-24 (DATE_INPUT_FORMATS in aeroledger/formats/). The placeholder
    names the format, and a value that is not a date is answered with the format and an example.
    """

    input_type = "text"
    template_name = "tenancy/widgets/date.html"

    def __init__(self, attrs=None, **kwargs):
        kwargs.pop("format", None)
        attrs = {"placeholder": _("dd.mm.yyyy"), "autocomplete": "off", "size": "10", **(attrs or {})}
        super().__init__(attrs=attrs, format="%d.%m.%Y", **kwargs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        typed = isinstance(value, str) and bool(value.strip())
        context["widget"]["not_a_date"] = typed and not _parses(value)
        return context


def _parses(text: str) -> bool:
    from django.utils.formats import get_format

    for fmt in get_format("DATE_INPUT_FORMATS"):
        try:
            datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return True
    return False


class DateField(forms.DateField):
    """A date field with the Swiss text input and an error that shows how to write the date."""

    widget = DateInput
    default_error_messages = {"invalid": _("Enter the date as day.month.year, e.g. 24.11.2026.")}


class OrganisationForm(forms.ModelForm):
    """A model form for an object of one organisation: `Form(data, instance=..., organisation=org)`."""

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.instance.organisation = organisation

    def unique_in_organisation(self, field: str, value, message):
        """`value`, or the error `message` when another object of the organisation already has it."""
        clash = self._meta.model.objects.filter(organisation=self.organisation, **{field: value})
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(message)
        return value
