"""Master data the app imports: every list reads completely with `all()` (or lazily with `iter()`)."""

from __future__ import annotations

from bexio.models import (
    Account,
    AccountGroup,
    Article,
    BankAccount,
    CompanyProfile,
    Country,
    Currency,
    Language,
    PaymentType,
    Tax,
    Unit,
    User,
)
from bexio.resources.base import GetMixin, ListMixin, Resource, SearchMixin


class Countries(ListMixin, SearchMixin, GetMixin, Resource):
    path = "/2.0/country"
    model = Country


class Languages(ListMixin, SearchMixin, Resource):
    path = "/2.0/language"
    model = Language


class Units(ListMixin, SearchMixin, GetMixin, Resource):
    path = "/2.0/unit"
    model = Unit


class PaymentTypes(ListMixin, SearchMixin, Resource):
    path = "/2.0/payment_type"
    model = PaymentType


class Users(ListMixin, GetMixin, Resource):
    path = "/3.0/users"
    model = User

    def me(self) -> User:
        return self.get("me")


class CompanyProfiles(ListMixin, GetMixin, Resource):
    """bexio documents no limit/offset here: one company profile per account."""

    path = "/2.0/company_profile"
    model = CompanyProfile
    paged = False


class Articles(ListMixin, SearchMixin, GetMixin, Resource):
    """Articles have their own rate buckets: `article` (400/min) and `article_search` (250/min)."""

    path = "/2.0/article"
    model = Article


class BankAccounts(ListMixin, GetMixin, Resource):
    path = "/3.0/banking/accounts"
    model = BankAccount


class Taxes(ListMixin, GetMixin, Resource):
    """List with `scope=TaxScope.ACTIVE`, `types=TaxTypes.SALES_TAX`, `date=date(...)`; only active
    sales taxes may be used on invoice positions."""

    path = "/3.0/taxes"
    model = Tax


class Accounts(ListMixin, SearchMixin, Resource):
    """The chart of accounts; search fields `account_no`, `fibu_account_group_id`, `name`,
    `account_type`."""

    path = "/2.0/accounts"
    model = Account


class AccountGroups(ListMixin, Resource):
    path = "/2.0/account_groups"
    model = AccountGroup


class Currencies(ListMixin, GetMixin, Resource):
    path = "/3.0/currencies"
    model = Currency
