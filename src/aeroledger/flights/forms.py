from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aeroledger.billing.models import Charge
from aeroledger.members.models import Member
from aeroledger.tenancy.forms import DateInput, OrganisationForm
from aeroledger.tenancy.limits import (
    MAX_LANDINGS,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    QUANTITY_RANGE,
    UNIT_PRICE_RANGE,
    validate_year,
)
from aeroledger.tenancy.params import BadParameter, parse_month

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
            bounds = _("Landings at %(icao)s: a whole number from 0 to %(max)s.") % {
                "icao": aerodrome.icao,
                "max": MAX_LANDINGS,
            }
            self.fields[f"landings_{aerodrome.pk}"] = forms.IntegerField(
                label=_("Landings %(icao)s") % {"icao": aerodrome.icao},
                min_value=0,
                max_value=MAX_LANDINGS,
                required=False,
                initial=existing.get(aerodrome.pk, 0),
                error_messages={"min_value": bounds, "max_value": bounds, "invalid": bounds},
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
    """Adjusting a charge before sign-off: never below 0 (that would turn a debit into credit; a
    correction of credit is a credit entry with a reason, booked by Manage invoicing), never absurd."""

    class Meta:
        model = Charge
        fields = ["text", "quantity", "unit_price"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, validator, high in (
            ("quantity", QUANTITY_RANGE, MAX_QUANTITY),
            ("unit_price", UNIT_PRICE_RANGE, MAX_UNIT_PRICE),
        ):
            field = self.fields[name]
            field.validators.append(validator)
            field.widget.attrs.update({"min": 0, "max": high})


class FlightFilterForm(forms.Form):
    """The filters of the flight log (GET): search, state, period (a month or from/to), aircraft, pilot.

    Each filter that is filled in and valid applies; an invalid one is shown with its error and left out.
    """

    STATES = [("all", _("All flights")), ("open", _("Not signed off")), ("signed", _("Signed off"))]

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Pilot number or name, registration"),
                "aria-label": _("Search"),
            }
        ),
    )
    state = forms.ChoiceField(
        label=_("Show"), choices=STATES, required=False, widget=forms.Select(attrs={"aria-label": _("Show")})
    )
    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "11.2026", "inputmode": "numeric", "size": 8}),
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    aircraft = forms.ModelChoiceField(
        label=pgettext_lazy("one aircraft", "Aircraft"),
        queryset=Aircraft.objects.none(),
        required=False,
        empty_label=_("All aircraft"),
    )
    pilot = forms.ModelChoiceField(
        label=_("Pilot"), queryset=Member.objects.none(), required=False, empty_label=_("All pilots")
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["aircraft"].queryset = Aircraft.objects.filter(organisation=organisation)
        self.fields["pilot"].queryset = Member.objects.filter(organisation=organisation).order_by(
            "last_name", "company_name", "first_name", "number"
        )

    def clean_month(self) -> tuple[date, date] | None:
        text = self.cleaned_data["month"].strip()
        if not text:
            return None
        try:
            return parse_month(text, label=_("month"))
        except BadParameter as exc:
            raise forms.ValidationError(str(exc)) from exc

    def _clean_year(self, name):
        value = self.cleaned_data.get(name)
        if value is not None:
            try:
                validate_year(value)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
        return value

    def clean_start(self):
        return self._clean_year("start")

    def clean_end(self):
        return self._clean_year("end")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date cannot be before the start date."))
        return cleaned

    def filter(self, flights):
        """`flights` narrowed by every valid filter (call is_valid() first)."""
        data = getattr(self, "cleaned_data", {})
        state = data.get("state")
        if state == "open":
            flights = flights.filter(signed_off_at__isnull=True)
        elif state == "signed":
            flights = flights.filter(signed_off_at__isnull=False)
        q = (data.get("q") or "").strip()
        if q:
            flights = flights.filter(
                Q(pilot__number=q) | Q(pilot__last_name__icontains=q) | Q(aircraft__registration__icontains=q)
            )
        if data.get("month"):
            first, last = data["month"]
            flights = flights.filter(date__gte=first, date__lte=last)
        if data.get("start"):
            flights = flights.filter(date__gte=data["start"])
        if data.get("end"):
            flights = flights.filter(date__lte=data["end"])
        if data.get("aircraft"):
            flights = flights.filter(aircraft=data["aircraft"])
        if data.get("pilot"):
            flights = flights.filter(pilot=data["pilot"])
        return flights
