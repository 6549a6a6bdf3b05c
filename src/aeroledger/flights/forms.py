from django import forms
from django.utils.translation import gettext_lazy as _

from aeroledger.billing.models import Charge
from aeroledger.members.models import Member
from aeroledger.tenancy.forms import DateInput, OrganisationForm

from .models import Aerodrome, Aircraft, Flight


class AircraftForm(OrganisationForm):
    class Meta:
        model = Aircraft
        fields = [
            "registration",
            "type_name",
            "price_per_minute",
            "instruction_price_per_minute",
            "is_active",
        ]

    def clean_registration(self):
        registration = self.cleaned_data["registration"].strip().upper()
        return self.unique_in_organisation("registration", registration, _("This aircraft already exists."))


class AerodromeForm(OrganisationForm):
    class Meta:
        model = Aerodrome
        fields = ["icao", "name", "landing_fee"]

    def clean_icao(self):
        icao = self.cleaned_data["icao"].strip().upper()
        if len(icao) != 4 or not icao.isalnum():
            raise forms.ValidationError(_("An ICAO code has four letters, e.g. LSZG."))
        return self.unique_in_organisation("icao", icao, _("This aerodrome already exists."))


class FlightForm(OrganisationForm):
    """The flight and, per aerodrome of the organisation, a number of landings."""

    class Meta:
        model = Flight
        fields = ["date", "aircraft", "pilot", "instructor", "block_minutes", "remarks"]
        widgets = {"date": DateInput()}

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, organisation=organisation, **kwargs)
        members = Member.objects.filter(organisation=organisation, is_active=True).order_by(
            "last_name", "first_name"
        )
        self.fields["pilot"].queryset = members
        self.fields["instructor"].queryset = members
        self.fields["aircraft"].queryset = Aircraft.objects.filter(organisation=organisation, is_active=True)
        self.aerodromes = list(Aerodrome.objects.filter(organisation=organisation))
        existing = {}
        if self.instance.pk:
            existing = {landing.aerodrome_id: landing.count for landing in self.instance.landings.all()}
        for aerodrome in self.aerodromes:
            self.fields[f"landings_{aerodrome.pk}"] = forms.IntegerField(
                label=_("Landings %(icao)s") % {"icao": aerodrome.icao},
                min_value=0,
                required=False,
                initial=existing.get(aerodrome.pk, 0),
            )

    def clean(self):
        cleaned = super().clean()
        pilot, instructor = cleaned.get("pilot"), cleaned.get("instructor")
        if pilot and instructor and pilot == instructor:
            self.add_error("instructor", _("The instructor cannot be the pilot."))
        return cleaned

    def landings(self) -> dict:
        return {a: self.cleaned_data.get(f"landings_{a.pk}") or 0 for a in self.aerodromes}

    def save(self, commit=True):
        flight = super().save(commit=True)
        flight.landings.all().delete()
        for aerodrome, count in self.landings().items():
            if count:
                flight.landings.create(aerodrome=aerodrome, count=count)
        flight.rebuild_charges()
        return flight


class ChargeForm(forms.ModelForm):
    class Meta:
        model = Charge
        fields = ["text", "quantity", "unit_price"]
