from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from aeroledger.members.models import Member
from aeroledger.tenancy import hooks
from aeroledger.tenancy.forms import DateInput
from aeroledger.tenancy.limits import (
    MAX_CREDIT_ENTRY,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    QUANTITY_RANGE,
    UNIT_PRICE_RANGE,
)

from .models import MANUAL_CREDIT_KINDS, CreditEntry, CreditKind, Invoice
from .runs import BadPeriod, parse_period


class StatementPeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())


def money_accounts(organisation) -> list[tuple[str, str]]:
    """Bank accounts a deposit or refund may go through, as the accounting integration offers them
    (hook "money_accounts"; none without an integration)."""
    return [choice for answer in hooks.collect("money_accounts", organisation) for choice in answer]


class CreditEntryForm(forms.ModelForm):
    """A deposit, a refund paid out, or a correction (with its reason), booked by hand.

    Amounts are entered positive; a refund is booked as a debit. A correction may go either way.
    """

    kind = forms.ChoiceField(label=_("Kind"), choices=[(k.value, k.label) for k in MANUAL_CREDIT_KINDS])
    amount = forms.DecimalField(
        label=_("Amount (CHF)"),
        max_digits=12,
        decimal_places=2,
        min_value=-MAX_CREDIT_ENTRY,
        max_value=MAX_CREDIT_ENTRY,
        help_text=_("Deposits and refunds: a positive amount. Corrections: negative to take credit away."),
    )
    money_account = forms.ChoiceField(label=_("Bank account"), required=False)

    class Meta:
        model = CreditEntry
        fields = ["kind", "date", "amount", "money_account", "text", "reason"]
        widgets = {"date": DateInput()}
        help_texts = {"reason": _("Required for corrections.")}

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = money_accounts(organisation)
        if accounts:
            self.fields["money_account"].choices = [("", "---------"), *accounts]
            self.fields["money_account"].help_text = _("Where the money of a deposit or refund went through.")
        else:
            del self.fields["money_account"]

    def clean(self):
        cleaned = super().clean()
        kind, amount = cleaned.get("kind"), cleaned.get("amount")
        if amount is not None and amount == 0:
            self.add_error("amount", _("The amount cannot be zero."))
        elif kind in (CreditKind.DEPOSIT, CreditKind.REFUND) and amount is not None and amount < 0:
            self.add_error("amount", _("Deposits and refunds are entered as positive amounts."))
        if kind == CreditKind.CORRECTION and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("A correction needs a reason."))
        if (
            kind in (CreditKind.DEPOSIT, CreditKind.REFUND)
            and "money_account" in self.fields
            and not cleaned.get("money_account")
        ):
            self.add_error("money_account", _("Choose the bank account the money went through."))
        if kind == CreditKind.REFUND and amount is not None and amount > 0:
            cleaned["amount"] = -amount
        return cleaned


class BillingRunForm(forms.Form):
    period = forms.CharField(label=_("Period"), help_text=_("The month, e.g. 11.2026"), max_length=7)
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
        label=_("Amount (CHF)"),
        min_value=Decimal("0.05"),
        max_value=MAX_CREDIT_ENTRY,
        max_digits=12,
        decimal_places=2,
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = Member.objects.filter(
            organisation=organisation, is_active=True
        ).order_by("sort_name", "id")


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
        label=_("Quantity"),
        min_value=Decimal("0.0001"),
        max_digits=14,
        decimal_places=4,
        initial=1,
        validators=[QUANTITY_RANGE],
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_QUANTITY}),
    )
    unit_price = forms.DecimalField(
        label=_("Unit price (CHF)"),
        max_digits=14,
        decimal_places=4,
        validators=[UNIT_PRICE_RANGE],
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_UNIT_PRICE}),
    )
