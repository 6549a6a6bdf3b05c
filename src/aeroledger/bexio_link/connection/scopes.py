"""The bexio scopes, exactly as the product's setup page lists them (seed-bexio-setup.txt).

Six are required for the integration to work; the others can be requested as an option. For
each required scope we say what will not work without it, so the Authorisation page can name it.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Scope:
    name: str
    description: str
    required: bool = False
    without_it: str = ""  # what will not work when a required scope is missing


SCOPES: tuple[Scope, ...] = (
    Scope("accounting", _("Write access to accounting data")),
    Scope(
        "article_show",
        _("Read access to items / products"),
        True,
        _("Articles cannot be imported from bexio, so charges cannot be mapped to articles."),
    ),
    Scope("article_edit", _("Write access to items / products")),
    Scope(
        "bank_account_show",
        _("Show bank accounts"),
        True,
        _("Bank accounts cannot be imported, so invoices cannot name the account to pay into."),
    ),
    Scope("bank_payment_show", _("Show bank payments")),
    Scope("bank_payment_edit", _("Show and edit bank payments")),
    Scope(
        "contact_show",
        _("Read access to contacts"),
        True,
        _("Members cannot be matched with existing bexio contacts."),
    ),
    Scope(
        "contact_edit",
        _("Write access to contacts"),
        True,
        _("Members cannot be created or updated as bexio contacts, so no invoice can be transferred."),
    ),
    Scope("file", _("Read and write access to the inbox (file upload)")),
    Scope(
        "kb_invoice_show",
        _("Read access to invoices"),
        True,
        _("Invoice status and payments cannot be read back from bexio."),
    ),
    Scope(
        "kb_invoice_edit",
        _("Write access to invoices"),
        True,
        _("Invoices cannot be transferred to bexio."),
    ),
    Scope("kb_offer_show", _("Read access to quotes")),
    Scope("kb_offer_edit", _("Write access to quotes")),
    Scope("kb_order_show", _("Read access to orders")),
    Scope("kb_order_edit", _("Write access to orders")),
    Scope("kb_delivery_show", _("Read access to deliveries")),
    Scope("kb_delivery_edit", _("Write access to deliveries")),
    Scope("monitoring_show", _("Read access to timesheets")),
    Scope("monitoring_edit", _("Write access to timesheets")),
    Scope("note_show", _("Read access to contact notes")),
    Scope("note_edit", _("Write access to contact notes")),
    Scope("kb_article_order_show", _("Read access to purchase orders")),
    Scope("kb_article_order_edit", _("Write access to purchase orders")),
    Scope("project_show", _("Read access to projects")),
    Scope("project_edit", _("Write access to projects")),
    Scope("stock_edit", _("Write access to item stock")),
    Scope("task_show", _("Read access to tasks")),
    Scope("task_edit", _("Write access to tasks")),
    Scope("kb_bill_show", _("Read access to supplier bills")),
    Scope("kb_expense_show", _("Read access to Purchase Expenses")),
    Scope("payroll_employee_show", _("Read access to Payroll employees")),
    Scope("payroll_employee_edit", _("Write access to Payroll employees")),
    Scope("payroll_absence_show", _("Read access to Payroll absences")),
    Scope("payroll_absence_edit", _("Write access to Payroll absences")),
    Scope("payroll_paystub_show", _("Read access to Payroll paystubs")),
)

BY_NAME: dict[str, Scope] = {s.name: s for s in SCOPES}
REQUIRED_SCOPES: tuple[str, ...] = tuple(s.name for s in SCOPES if s.required)
OPTIONAL_SCOPES: tuple[str, ...] = tuple(s.name for s in SCOPES if not s.required)
# Always requested: an id_token and userinfo (who consented, which company) and a refresh token.
OIDC_SCOPES: tuple[str, ...] = ("openid", "profile", "email", "company_profile", "offline_access")


# Prepaid organisations book their members' credit in bexio's ledger (manual entries, journal).
PREPAID_SCOPES: tuple[str, ...] = ("accounting",)


def required_for(organisation=None) -> tuple[str, ...]:
    """The scopes this organisation cannot do without: the seed's six, and for an organisation in
    prepaid mode `accounting` too (its members' credit is booked in bexio's ledger)."""
    if organisation is not None and organisation.is_prepaid:
        return (*REQUIRED_SCOPES, *PREPAID_SCOPES)
    return REQUIRED_SCOPES


def is_required(scope: Scope, organisation=None) -> bool:
    return scope.name in required_for(organisation)


def why_required(scope: Scope, organisation=None) -> str:
    """What will not work without a required scope."""
    if scope.name in PREPAID_SCOPES and not scope.required:
        return str(
            _(
                "Members' credit (deposits, top-ups, what credit pays for) cannot be booked in bexio's "
                "ledger, so transfers of this prepaid organisation are blocked."
            )
        )
    return str(scope.without_it)


def requested_scopes(optional: list[str] | tuple[str, ...] | set[str], organisation=None) -> list[str]:
    """The scope list for an authorisation request: required + chosen optional + OIDC."""
    required = required_for(organisation)
    chosen = [name for name in OPTIONAL_SCOPES if name in set(optional) and name not in required]
    return [*required, *chosen, *OIDC_SCOPES]


def effective_scopes(granted: list[str] | set[str] | frozenset[str]) -> set[str]:
    """Granted scopes plus those implied: bexio grants read access with the write scope."""
    result = set(granted)
    for name in granted:
        if name.endswith("_edit") and name.removesuffix("_edit") + "_show" in BY_NAME:
            result.add(name.removesuffix("_edit") + "_show")
    return result


def missing_required(granted, organisation=None) -> list[Scope]:
    have = effective_scopes(granted)
    return [BY_NAME[name] for name in required_for(organisation) if name not in have]
