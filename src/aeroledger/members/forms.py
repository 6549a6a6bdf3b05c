from django.utils.translation import gettext_lazy as _

from aeroledger.tenancy.forms import OrganisationForm

from .models import Member, salutation_choices_text


class MemberForm(OrganisationForm):
    class Meta:
        model = Member
        fields = [
            "number",
            "kind",
            "salutation",
            "title",
            "first_name",
            "last_name",
            "company_name",
            "address_addition",  # as a letter has it: name, addition, street and number, place
            "street",
            "house_number",
            "postcode",
            "city",
            "country",
            "email",
            "phone",
            "mobile",
            "language",
            "invoice_to",
            "is_active",
        ]

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, organisation=organisation, **kwargs)
        if "invoice_to" in self.fields:
            payers = Member.objects.filter(organisation=organisation, is_active=True, invoice_to__isnull=True)
            if self.instance.pk:
                payers = payers.exclude(pk=self.instance.pk)
            self.fields["invoice_to"].queryset = payers.order_by("sort_name", "id")

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        return self.unique_in_organisation("number", number, _("Another member already has this number."))

    def clean_country(self):
        return self.cleaned_data["country"].strip().upper()


class MemberImportRowForm(MemberForm):
    """One CSV row. `invoice_to` is given by member number and resolved by the importer."""

    class Meta(MemberForm.Meta):
        fields = [f for f in MemberForm.Meta.fields if f != "invoice_to"]

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, organisation=organisation, **kwargs)
        # A CSV cell has no drop-down: the message lists what the column takes.
        for name in ("kind", "language"):
            allowed = ", ".join(str(value) for value, _label in self.fields[name].choices if value)
            self.fields[name].error_messages["invalid_choice"] = _(
                "'%(value)s' is not one of %(allowed)s."
            ) % {"value": "%(value)s", "allowed": allowed}
        # The cell takes the value or the word in any invoice language (read by the importer).
        self.fields["salutation"].error_messages["invalid_choice"] = _(
            "'%(value)s' is not one of %(allowed)s."
        ) % {"value": "%(value)s", "allowed": salutation_choices_text()}

    def validate_unique(self):
        """No query per row: the importer knows every number of the organisation and of the file
        (an existing number is an update, a repeated one an error of its row)."""

    def clean_number(self):
        # Existing numbers are updated by the import, so only the format is checked here.
        return self.cleaned_data["number"].strip()
