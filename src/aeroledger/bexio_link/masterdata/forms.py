from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from aeroledger.billing.models import ChargeType
from aeroledger.tenancy.limits import MAX_ID
from bexio.models import AccountType

from .master import MasterData
from .models import BexioRecord, ChargeMapping, InvoiceSettings, Kind


class RecordChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        label = obj.name or f"#{obj.bexio_id}"
        if obj.kind == Kind.BANK_ACCOUNT and obj.is_qr:
            qr = _("QR-IBAN")
            label = f"{label} · {qr}"
        if not obj.is_active:
            inactive = _("inactive in bexio")
            label = f"{label} ({inactive})"
        return label


def _records(org, kind, *keep):
    """Active records of `kind`, plus the ones currently chosen even if inactive (shown as broken)."""
    keep_ids = [pk for pk in keep if pk]
    qs = BexioRecord.objects.filter(organisation=org, kind=kind)
    return qs.filter(is_active=True) | qs.filter(pk__in=keep_ids)


class InvoiceSettingsForm(forms.ModelForm):
    bank_account = RecordChoiceField(
        queryset=BexioRecord.objects.none(),
        required=False,
        label=_("Bank account on invoices"),
        help_text=_("A bank account with a QR-IBAN is preferred: Swiss QR invoices need one."),
    )
    user = RecordChoiceField(
        queryset=BexioRecord.objects.none(),
        required=False,
        label=_("bexio user who owns invoices and contacts"),
    )
    credit_account = RecordChoiceField(
        queryset=BexioRecord.objects.none(),
        required=False,
        label=_("Members' credit (liability account)"),
        help_text=_(
            "e.g. 2030 Kundenguthaben / erhaltene Anzahlungen. Deposits and paid top-ups are booked to it; "
            "revenue and VAT arise when the credit pays for something."
        ),
    )
    corrections_account = RecordChoiceField(
        queryset=BexioRecord.objects.none(),
        required=False,
        label=_("Account for credit corrections"),
        help_text=_("The other side of a correction of a member's credit (e.g. 3805 Erlösminderungen)."),
    )

    # The ledger fields apply to organisations whose members pay from a prepaid credit account.
    LEDGER_FIELDS = ("credit_account", "corrections_account")

    class Meta:
        model = InvoiceSettings
        fields = [
            "bank_account",
            "user",
            "contact_group_name",
            "payment_terms_days",
            "issue_automatically",
            "send_automatically",
            "credit_account",
            "corrections_account",
        ]
        help_texts = {
            "contact_group_name": _(
                "Members get this bexio contact group; it is created in bexio if missing."
            ),
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        inst = self.instance
        banks = _records(organisation, Kind.BANK_ACCOUNT, inst.bank_account_id)
        self.fields["bank_account"].queryset = banks
        qr_first = sorted(banks, key=lambda r: (not r.is_qr, not r.is_active, r.name))
        self.fields["bank_account"].choices = [("", "---------")] + [
            (r.pk, self.fields["bank_account"].label_from_instance(r)) for r in qr_first
        ]
        self.fields["user"].queryset = _records(organisation, Kind.USER, inst.user_id).order_by("name")
        if organisation.is_prepaid:
            master = MasterData(organisation)
            liabilities = [r.pk for r in master.accounts_of(AccountType.LIABILITIES)]
            results = [r.pk for r in master.accounts_of(AccountType.EARNINGS, AccountType.EXPENDITURE)]
            accounts = _records(
                organisation, Kind.ACCOUNT, inst.credit_account_id, inst.corrections_account_id
            )
            self.fields["credit_account"].queryset = accounts.filter(
                pk__in=[*liabilities, inst.credit_account_id]
            ).order_by("name")
            self.fields["corrections_account"].queryset = accounts.filter(
                pk__in=[*results, inst.corrections_account_id]
            ).order_by("name")
        else:
            for name in self.LEDGER_FIELDS:
                del self.fields[name]
        self.fields["payment_terms_days"].widget.attrs.update({"min": 0, "max": 365})

    def clean_payment_terms_days(self):
        days = self.cleaned_data["payment_terms_days"]
        if days > 365:
            raise forms.ValidationError(_("At most 365 days."))
        return days

    def clean(self):
        data = super().clean()
        if data.get("send_automatically") and not data.get("issue_automatically"):
            self.add_error("send_automatically", _("Only issued invoices can be sent."))
        return data


def _taxed(tax: BexioRecord) -> bool:
    rate = tax.data.get("value")
    return rate is not None and Decimal(str(rate)) != 0


class ChargeMappingForm(forms.Form):
    """One row of the mapping table: an article, or an account and a tax (or nothing)."""

    article = RecordChoiceField(queryset=BexioRecord.objects.none(), required=False, label=_("Article"))
    account = RecordChoiceField(queryset=BexioRecord.objects.none(), required=False, label=_("Account"))
    tax = RecordChoiceField(queryset=BexioRecord.objects.none(), required=False, label=_("Tax"))

    def __init__(self, *args, organisation, row: ChargeMapping | None, charge_type: str = "", **kwargs):
        initial = {}
        if row is not None:
            initial = {"article": row.article_id, "account": row.account_id, "tax": row.tax_id}
        super().__init__(*args, initial=initial, **kwargs)
        self.charge_type = charge_type
        self.fields["article"].queryset = _records(
            organisation, Kind.ARTICLE, row and row.article_id
        ).order_by("name")
        accounts = _records(organisation, Kind.ACCOUNT, row and row.account_id).order_by("name")
        master = MasterData(organisation)
        allowed = [r.pk for r in master.earnings_accounts()]
        if charge_type == ChargeType.TOP_UP:
            # A top-up is no revenue: a clearing account (re-booked to the credit account when paid)
            # or, where bexio accepts it on an invoice, the credit (liability) account itself.
            allowed += [r.pk for r in master.accounts_of(AccountType.LIABILITIES)]
        self.fields["account"].queryset = accounts.filter(pk__in=[*allowed, row and row.account_id])
        self.fields["tax"].queryset = _records(organisation, Kind.TAX, row and row.tax_id).order_by("name")

    def clean(self):
        data = super().clean()
        if not data.get("article") and bool(data.get("account")) != bool(data.get("tax")):
            raise forms.ValidationError(_("Without an article, choose both an account and a tax."))
        tax = data.get("tax")
        if self.charge_type == ChargeType.TOP_UP and tax is not None and _taxed(tax):
            # The same rule as Mapping._top_up_tax_problems (which also covers an article's tax).
            raise forms.ValidationError(
                _(
                    "A top-up is paid in advance, not sold: choose a tax of 0 %% "
                    "(VAT arises when the credit is used)."
                )
                % {}
            )
        return data

    @property
    def is_empty(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not (data.get("article") or data.get("account") or data.get("tax"))


class LinkForm(forms.Form):
    """Linking a member by hand: no id = show the candidates; an id = review it; `confirm` = do it."""

    bexio_id = forms.IntegerField(label=_("bexio contact id"), min_value=1, max_value=MAX_ID, required=False)
    confirm = forms.BooleanField(required=False)
    outside_group_ok = forms.BooleanField(
        label=_("I know this bexio contact is not one of our members' contacts; overwrite it anyway."),
        required=False,
    )
