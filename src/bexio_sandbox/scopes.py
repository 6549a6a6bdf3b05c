"""Which token scope and which bexio user right an API path needs.

bexio checks two things (docs, "API Scopes"): the token's scope (write implies read: `contact_edit`
grants `contact_show`) and the consenting user's right in bexio; either missing is 403. A resource
claims its path for an area when it is declared (`claim`); a path no area claims needs only a valid
token (countries, languages, units, users, ...). A search is a read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    show: str  # scope for reading
    edit: str  # scope for writing
    right: str  # the bexio user right (seed.ALL_RIGHTS)


AREAS = {
    "contact": Area("contact_show", "contact_edit", "contact"),
    "kb_invoice": Area("kb_invoice_show", "kb_invoice_edit", "kb_invoice"),
    "kb_offer": Area("kb_offer_show", "kb_offer_edit", "kb_offer"),
    "kb_order": Area("kb_order_show", "kb_order_edit", "kb_order"),
    "kb_delivery": Area("kb_delivery_show", "kb_delivery_edit", "kb_delivery"),
    "note": Area("note_show", "note_edit", "other"),
    "article": Area("article_show", "article_edit", "article"),
    "bank_account": Area("bank_account_show", "bank_account_show", "bank_account"),
    "accounting": Area("accounting", "accounting", "accounting"),
}

KNOWN_SCOPES = {
    "openid",
    "profile",
    "email",
    "offline_access",
    "company_profile",
    "accounting",
    "article_show",
    "article_edit",
    "bank_account_show",
    "bank_payment_show",
    "bank_payment_edit",
    "contact_show",
    "contact_edit",
    "file",
    "kb_invoice_show",
    "kb_invoice_edit",
    "kb_offer_show",
    "kb_offer_edit",
    "kb_order_show",
    "kb_order_edit",
    "kb_delivery_show",
    "kb_delivery_edit",
    "monitoring_show",
    "monitoring_edit",
    "note_show",
    "note_edit",
    "kb_article_order_show",
    "kb_article_order_edit",
    "project_show",
    "project_edit",
    "stock_edit",
    "task_show",
    "task_edit",
    "kb_bill_show",
    "kb_expense_show",
    "payroll_employee_show",
    "payroll_employee_edit",
    "payroll_absence_show",
    "payroll_absence_edit",
    "payroll_paystub_show",
    "additional_company",
}
ALL_API_SCOPES = sorted(KNOWN_SCOPES - {"additional_company"})

_CLAIMS: list[tuple[re.Pattern, Area]] = []


def claim(path: str, area: str) -> None:
    """`path` (a Flask rule or a prefix, e.g. "/2.0/contact/<int:parent>/additional_address") and
    everything below it belong to `area`."""
    pattern = "^" + re.sub(r"<[^>]*>", "[^/]+", re.escape(path)) + r"(?![\w])"
    _CLAIMS.append((re.compile(pattern), AREAS[area]))


def area_for(path: str) -> Area | None:
    for pattern, area in _CLAIMS:
        if pattern.match(path):
            return area
    return None


def expand_scopes(scopes) -> list[str]:
    """Write implies read: `contact_edit` grants `contact_show` too."""
    out = []
    for s in scopes:
        if s and s not in out:
            out.append(s)
        if s.endswith("_edit"):
            show = s[: -len("_edit")] + "_show"
            if show in KNOWN_SCOPES and show not in out:
                out.append(show)
    return out
