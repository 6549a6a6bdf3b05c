"""The resources, declared (python-gitlab style): each names its path, models and mixins; odd
operations add a method or two. One module per domain."""

from bexio.resources.accounting import BusinessYears, CalendarYears, Journal, ManualEntries, VatPeriods
from bexio.resources.base import Resource
from bexio.resources.contacts import ContactGroups, Contacts, Salutations, Titles
from bexio.resources.invoices import InvoicePayments, InvoicePositions, Invoices
from bexio.resources.masterdata import (
    AccountGroups,
    Accounts,
    Articles,
    BankAccounts,
    CompanyProfiles,
    Countries,
    Currencies,
    Languages,
    PaymentTypes,
    Taxes,
    Units,
    Users,
)

__all__ = [
    "AccountGroups",
    "Accounts",
    "Articles",
    "BankAccounts",
    "BusinessYears",
    "CalendarYears",
    "CompanyProfiles",
    "ContactGroups",
    "Contacts",
    "Countries",
    "Currencies",
    "InvoicePayments",
    "InvoicePositions",
    "Invoices",
    "Journal",
    "Languages",
    "ManualEntries",
    "PaymentTypes",
    "Resource",
    "Salutations",
    "Taxes",
    "Titles",
    "Units",
    "Users",
    "VatPeriods",
]
