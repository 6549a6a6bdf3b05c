"""Master data the app imports: every list reads completely with `all()` (or lazily with `iter()`)."""

from __future__ import annotations

from bexio import models as m
from bexio.resources.base import ListMixin, ReadMixin, SearchMixin


class Countries(ReadMixin, SearchMixin):
    path = "/2.0/country"
    model = m.Country
    search_fields = frozenset({"name", "name_short"})


class Languages(ListMixin, SearchMixin):
    """Live ids: 1 de, 2 fr, 3 it, 4 en (`iso_639_1`)."""

    path = "/2.0/language"
    model = m.Language
    search_fields = frozenset({"name", "iso_639_1"})


class Units(ReadMixin, SearchMixin):
    path = "/2.0/unit"
    model = m.Unit
    search_fields = frozenset({"name"})


class PaymentTypes(ListMixin, SearchMixin):
    path = "/2.0/payment_type"
    model = m.PaymentType
    search_fields = frozenset({"name"})


class Users(ReadMixin):
    path = "/3.0/users"
    model = m.User

    def me(self) -> m.User:
        """The user the token belongs to (`user_id`/`owner_id` of new contacts and invoices)."""
        return self.get("me")


class CompanyProfiles(ReadMixin):
    """bexio documents no limit/offset here: one company profile per account."""

    path = "/2.0/company_profile"
    model = m.CompanyProfile
    paged = False


class Articles(ReadMixin, SearchMixin):
    """Articles have their own rate buckets: `article` (400/min) and `article_search` (250/min)."""

    path = "/2.0/article"
    model = m.Article
    search_fields = frozenset({"intern_name", "intern_code"})


class BankAccounts(ReadMixin):
    path = "/3.0/banking/accounts"
    model = m.BankAccount


class Taxes(ReadMixin):
    """List with `scope=TaxScope.ACTIVE`, `types=TaxTypes.SALES_TAX`, `date=date(...)`; only active
    sales taxes may be used on invoice positions."""

    path = "/3.0/taxes"
    model = m.Tax


class Accounts(ListMixin, SearchMixin):
    """The chart of accounts (no `order_by`)."""

    path = "/2.0/accounts"
    model = m.Account
    search_fields = frozenset({"account_no", "fibu_account_group_id", "name", "account_type"})


class AccountGroups(ListMixin):
    path = "/2.0/account_groups"
    model = m.AccountGroup


class Currencies(ReadMixin):
    path = "/3.0/currencies"
    model = m.Currency
