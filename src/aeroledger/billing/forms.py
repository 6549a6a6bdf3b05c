from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from aeroledger.members.models import Member
from aeroledger.tenancy.forms import DateInput

from .models import CreditEntry, CreditKind, Invoice
from .runs import BadPeriod, parse_period


class StatementPeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())


class CreditEntryForm(forms.ModelForm):
    """A deposit, a payment received or a manual correction (with its reason)."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k.value, k.label) for k in (CreditKind.DEPOSIT, CreditKind.PAYMENT, CreditKind.CORRECTION)],
    )

    class Meta:
        model = CreditEntry
        fields = ["kind", "date", "amount", "text", "reason"]
        widgets = {"date": DateInput()}
        help_texts = {"reason": _("Required for corrections.")}

    def clean(self):
        cleaned = super().clean()
        kind, amount = cleaned.get("kind"), cleaned.get("amount")
        if kind in (CreditKind.DEPOSIT, CreditKind.PAYMENT) and amount is not None and amount <= 0:
            self.add_error("amount", _("Deposits and payments are positive amounts."))
        if kind == CreditKind.CORRECTION and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("A correction needs a reason."))
        return cleaned


class BillingRunForm(forms.Form):
    period = forms.CharField(label=_("Period"), help_text=_("YYYY-MM, e.g. 2026-11"), max_length=7)
    approve = forms.BooleanField(label=_("Approve the invoices right away"), required=False)

    def clean_period(self):
        period = self.cleaned_data["period"]
        try:
            parse_period(period)
        except BadPeriod as exc:
            raise forms.ValidationError(str(exc)) from exc
        return period


class TopUpForm(forms.Form):
    member = forms.ModelChoiceField(label=_("Member"), queryset=Member.objects.none())
    amount = forms.DecimalField(
        label=_("Amount (CHF)"), min_value=Decimal("0.05"), max_digits=12, decimal_places=2
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = Member.objects.filter(
            organisation=organisation, is_active=True
        ).order_by("last_name", "company_name", "first_name")


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        fields = ["title", "date", "due_date"]
        widgets = {"date": DateInput(), "due_date": DateInput()}

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("due_date") and cleaned["due_date"] < cleaned["date"]:
            self.add_error("due_date", _("The due date cannot be before the invoice date."))
        return cleaned


class ManualPositionForm(forms.Form):
    """A position of charge type `manual` added to a draft invoice by hand."""

    text = forms.CharField(label=_("Text"), max_length=300)
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=Decimal("0.0001"), max_digits=14, decimal_places=4, initial=1
    )
    unit_price = forms.DecimalField(
        label=_("Unit price (CHF)"), min_value=Decimal("0"), max_digits=14, decimal_places=4
    )
