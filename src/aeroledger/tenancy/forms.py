"""Form pieces that the forms of every app share."""

from django import forms


class DateInput(forms.DateInput):
    """The browser's date picker (it reads and writes ISO dates)."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


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
