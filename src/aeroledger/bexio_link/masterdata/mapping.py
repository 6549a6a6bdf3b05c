"""The organisation's mapping: where each charge type goes in bexio, and the organisation-wide
choices (bank account, owner, contact group, payment terms), read once with the master data."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.utils import translation
from django.utils.translation import gettext as _

from aeroledger.billing.models import ChargeType
from aeroledger.members.models import MemberKind, salutation_words
from bexio.models import AccountType

from .master import MasterData
from .models import BexioRecord, ChargeMapping, InvoiceSettings, Kind


@dataclass(frozen=True)
class PositionTarget:
    """Where one invoice position goes in bexio. `article_id` None = a custom position."""

    article_id: int | None
    account_id: int | None
    tax_id: int | None
    unit_id: int | None


def charge_type_label(charge_type: str) -> str:
    try:
        return str(ChargeType(charge_type).label)
    except ValueError:
        return charge_type


class Mapping:
    """The organisation's whole mapping, read once: settings, charge mappings, master data."""

    def __init__(self, org):
        self.org = org
        self.master = MasterData(org)
        self.settings = InvoiceSettings.objects.filter(organisation=org).first() or InvoiceSettings(
            organisation=org
        )
        self.rows: dict[tuple[str, int | None, int | None], ChargeMapping] = {
            (m.charge_type, m.aircraft_id, m.aerodrome_id): m
            for m in ChargeMapping.objects.filter(organisation=org).select_related(
                "article", "account", "tax"
            )
        }

    # organisation-wide ---------------------------------------------------------------------------
    def _record(self, pk) -> BexioRecord | None:
        return self.master.by_pk(pk)

    @property
    def bank_account(self) -> BexioRecord | None:
        return self._record(self.settings.bank_account_id)

    @property
    def user(self) -> BexioRecord | None:
        return self._record(self.settings.user_id)

    @property
    def contact_group(self) -> BexioRecord | None:
        return self._record(self.settings.contact_group_id) or self.master.contact_group(
            self.settings.contact_group_name
        )

    @property
    def bank_account_id(self) -> int | None:
        return self.bank_account.bexio_id if self.bank_account else None

    @property
    def user_id(self) -> int | None:
        """The bexio user who owns invoices and contacts (`user_id` and `owner_id`)."""
        return self.user.bexio_id if self.user else None

    owner_id = user_id

    @property
    def contact_group_id(self) -> int | None:
        group = self.contact_group
        return group.bexio_id if group and group.is_active else None

    @property
    def payment_terms_days(self) -> int:
        return self.settings.payment_terms_days

    @property
    def issue_automatically(self) -> bool:
        return self.settings.issue_automatically

    @property
    def send_automatically(self) -> bool:
        return self.settings.issue_automatically and self.settings.send_automatically

    @property
    def currency_id(self) -> int | None:
        return self.master.currency_id(self.org.currency)

    def language_id(self, code: str) -> int | None:
        return self.master.language_id(code)

    def country_id(self, iso: str) -> int | None:
        return self.master.country_id(iso)

    def salutation_id(self, member) -> int | None:
        """bexio's salutation for the member's: the one named like it in the member's language, else
        in German, else in another language ("Madame", "Frau", ...; case ignored). None for a company,
        a member without one, or one bexio does not have."""
        if member.kind == MemberKind.COMPANY or not member.salutation:
            return None
        # Worked out once per salutation and language, until the master data is read again.
        known = self.master._index("salutation-of-member", lambda by_kind: {})
        key = (member.salutation, member.language)
        if key not in known:
            ids = (self.master.named_id(Kind.SALUTATION, word) for word in salutation_words(*key))
            known[key] = next((i for i in ids if i is not None), None)
        return known[key]

    def title_id(self, member) -> int | None:
        """bexio's title with the member's title as its name ("Dr.", "Prof. Dr."; spaces and case
        ignored). None for a company, a member without one, or one bexio does not have."""
        if member.kind == MemberKind.COMPANY or not member.title:
            return None
        return self.master.named_id(Kind.TITLE, member.title)

    def problems(self) -> list[str]:
        """What blocks every transfer of this organisation, in words for the people who fix it.

        Computed once per Mapping (validating many invoices asks for it once per invoice), again
        only when what it depends on changed: the settings, the master data loaded, the currency.
        """
        s = self.settings
        key = (
            id(s), s.bank_account_id, s.user_id, id(self.master._load()), self.org.currency,
            translation.get_language(),
        )  # fmt: skip
        cached = getattr(self, "_problems_cache", None)
        if cached is None or cached[0] != key:
            cached = (key, tuple(self._problems()))
            self._problems_cache = cached
        return list(cached[1])

    def _problems(self) -> list[str]:
        reasons = []
        if self.master.is_empty:
            reasons.append(_("The master data has not been imported from bexio yet (Refresh from bexio)."))
        bank = self.bank_account
        if bank is None:
            reasons.append(_("No bexio bank account is chosen for invoices."))
        elif not bank.is_active:
            reasons.append(_("The bank account %(name)s no longer exists in bexio.") % {"name": bank.name})
        user = self.user
        if user is None:
            reasons.append(_("No bexio user is chosen to own invoices and contacts."))
        elif not user.is_active:
            reasons.append(_("The bexio user %(name)s no longer exists in bexio.") % {"name": user.name})
        if not self.master.is_empty:
            currency_id = self.currency_id
            if currency_id is None:
                reasons.append(
                    _("The currency %(currency)s does not exist in bexio.") % {"currency": self.org.currency}
                )
            elif bank is not None and bank.data.get("currency_id") not in (None, currency_id):
                reasons.append(
                    _("The bank account %(name)s is not in %(currency)s.")
                    % {"name": bank.name, "currency": self.org.currency}
                )
        return reasons

    # per charge type -----------------------------------------------------------------------------
    def row_for(self, charge_type: str, aircraft_id=None, aerodrome_id=None) -> ChargeMapping | None:
        """The mapping row that applies: the specific one, else the default for the charge type."""
        return self.rows.get((charge_type, aircraft_id, aerodrome_id)) or self.rows.get(
            (charge_type, None, None)
        )

    def target_for(self, charge_type: str, aircraft_id=None, aerodrome_id=None) -> PositionTarget | None:
        """The bexio article/account/tax for a position, or None when it is unmapped or broken."""
        row = self.row_for(charge_type, aircraft_id, aerodrome_id)
        if row is None or self.row_problems(row):
            return None
        if row.article_id:
            data = row.article.data
            return PositionTarget(
                article_id=row.article.bexio_id,
                account_id=row.account.bexio_id if row.account_id else data.get("account_id"),
                tax_id=row.tax.bexio_id if row.tax_id else (data.get("tax_income_id") or data.get("tax_id")),
                unit_id=data.get("unit_id"),
            )
        return PositionTarget(
            article_id=None, account_id=row.account.bexio_id, tax_id=row.tax.bexio_id, unit_id=None
        )

    def row_problems(self, row: ChargeMapping) -> list[str]:
        """Why a mapping row cannot be used (inactive or missing article/account/tax)."""
        reasons = []
        if row.article_id:
            if not row.article.is_active:
                reasons.append(_("The article %(name)s is inactive in bexio.") % {"name": row.article.name})
            tax_id = row.tax.bexio_id if row.tax_id else (
                row.article.data.get("tax_income_id") or row.article.data.get("tax_id")
            )  # fmt: skip
            if not tax_id:
                reasons.append(
                    _("The article %(name)s carries no sales tax; choose one.") % {"name": row.article.name}
                )
        elif not (row.account_id and row.tax_id):
            reasons.append(_("Choose an article, or an account and a tax."))
        if row.account_id and not row.account.is_active:
            reasons.append(_("The account %(name)s is inactive in bexio.") % {"name": row.account.name})
        if row.tax_id and not row.tax.is_active:
            reasons.append(_("The tax %(name)s is inactive in bexio.") % {"name": row.tax.name})
        elif row.article_id and not row.tax_id:
            tax_id = row.article.data.get("tax_income_id") or row.article.data.get("tax_id")
            tax = self.master.get(Kind.TAX, tax_id) if tax_id else None
            if tax is not None and not tax.is_active:
                reasons.append(
                    _("The tax %(tax)s of article %(name)s is inactive in bexio.")
                    % {"tax": tax.name, "name": row.article.name}
                )
        if row.charge_type == ChargeType.TOP_UP:
            reasons += self._top_up_tax_problems(row)
        return reasons

    def _top_up_tax_problems(self, row: ChargeMapping) -> list[str]:
        """A top-up is money paid in advance, not a sale: VAT arises when the credit is used, at the
        rate of what it pays for. A taxed top-up would charge the member VAT twice."""
        if row.tax_id:
            tax_id = row.tax.bexio_id
        elif row.article_id:
            tax_id = row.article.data.get("tax_income_id") or row.article.data.get("tax_id")
        else:
            return []
        rate = self.tax_rate(tax_id)
        if rate is None or rate == 0:
            return []
        return [
            _(
                "A top-up is paid in advance, not sold: choose a tax of 0 %% for it (now %(tax)s). VAT "
                "arises when the credit is used; a taxed top-up would charge it twice."
            )
            % {"tax": self.tax_name(tax_id)}
        ]

    def position_problems(self, charge_type: str, aircraft_id=None, aerodrome_id=None, label="") -> list[str]:
        row = self.row_for(charge_type, aircraft_id, aerodrome_id)
        what = charge_type_label(charge_type) + (f" ({label})" if label else "")
        if row is None:
            return [_("%(what)s is not mapped to a bexio article or account.") % {"what": what}]
        return [f"{what}: {reason}" for reason in self.row_problems(row)]

    # what a person reads -----------------------------------------------------------------------
    def target_label(self, charge_type: str, aircraft_id=None, aerodrome_id=None) -> str:
        """Where a charge goes, in words: "article Flugzeit HB-CQA" or "account 3400 ..."."""
        row = self.row_for(charge_type, aircraft_id, aerodrome_id)
        if row is None:
            return _("not mapped")
        if row.article_id:
            return _("article %(name)s") % {"name": row.article.name}
        return _("account %(account)s") % {"account": row.account.name if row.account_id else "?"}

    def tax(self, tax_id) -> BexioRecord | None:
        return self.master.get(Kind.TAX, tax_id) if tax_id else None

    def tax_rate(self, tax_id) -> Decimal | None:
        """The rate of a bexio tax in percent (8.1), None when unknown."""
        tax = self.tax(tax_id)
        if tax is None or tax.data.get("value") is None:
            return None
        return Decimal(str(tax.data["value"]))

    def tax_name(self, tax_id) -> str:
        tax = self.tax(tax_id)
        return tax.name if tax is not None else ""

    def account(self, account_id) -> BexioRecord | None:
        return self.master.get(Kind.ACCOUNT, account_id) if account_id else None

    def account_name(self, account_id) -> str:
        account = self.account(account_id)
        return account.name if account is not None else str(account_id or "")

    def known_contact_id(self, member) -> int | None:
        """The member's linked bexio contact when known here (no bexio call)."""
        try:
            link = member.bexio_link
        except ObjectDoesNotExist:
            return None
        return int(link.bexio_id) if link.bexio_id else None

    # the ledger (prepaid organisations) --------------------------------------------------------
    @property
    def credit_account(self) -> BexioRecord | None:
        return self._record(self.settings.credit_account_id)

    @property
    def credit_account_id(self) -> int | None:
        record = self.credit_account
        return record.bexio_id if record is not None else None

    @property
    def corrections_account_id(self) -> int | None:
        record = self._record(self.settings.corrections_account_id)
        return record.bexio_id if record is not None else None

    def bank_ledger_account_id(self, money_account: str = "") -> int | None:
        """The ledger account of a bexio bank account (the entry's own, else the invoice bank account)."""
        record = None
        if money_account and str(money_account).isdigit():
            record = self.master.get(Kind.BANK_ACCOUNT, int(money_account))
        record = record or self.bank_account
        account_id = record.data.get("account_id") if record is not None else None
        return int(account_id) if account_id else None

    def money_accounts(self) -> list[tuple[str, str]]:
        """The bank accounts a deposit or refund may go through (value: bexio's bank account id)."""
        return [(str(r.bexio_id), r.name) for r in self.master.bank_accounts()]

    def top_up_account_id(self) -> int | None:
        """The account top-up invoices book to, as mapped, even while the row has a problem to fix
        (e.g. a taxed top-up): a top-up paid meanwhile must still be re-booked to the credit account."""
        row = self.row_for(ChargeType.TOP_UP)
        if row is None:
            return None
        if row.account_id:
            return row.account.bexio_id
        return row.article.data.get("account_id") if row.article_id else None

    @property
    def top_ups_need_rebooking(self) -> bool:
        """Top-up invoices book to a clearing account: a paid top-up is re-booked to the credit account."""
        return self.top_up_account_id() not in (None, self.credit_account_id)

    def ledger_problems(self) -> list[str]:
        """What keeps the bookings of members' credit from going to bexio (prepaid organisations)."""
        if not self.org.is_prepaid:
            return []
        reasons = []
        account = self.credit_account
        if account is None:
            reasons.append(
                _("Choose the liability account for members' credit (e.g. 2030) on the mapping page.")
            )
        elif not account.is_active:
            reasons.append(_("The credit account %(name)s is inactive in bexio.") % {"name": account.name})
        elif account.data.get("account_type") not in (None, AccountType.LIABILITIES):
            reasons.append(
                _("The credit account %(name)s is not a liability account in bexio.") % {"name": account.name}
            )
        return reasons


def mapping_for(org) -> Mapping:
    return Mapping(org)
