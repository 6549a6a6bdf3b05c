"""The demo books of both seeded companies: account groups, the accounts a Swiss flying club needs on
top of the recorded chart, its sales taxes, and the calendar years, business years and VAT periods.

The recorded accounts (data/seed.json, real bexio) stay as they are, ids and numbers included; two get
the names a club uses (2030 holds the members' prepaid credit, 1020 is the demo bank account's
account). VAT is accounted "effective" and "agreed" (vereinbart): an invoice books its VAT to the tax's
account when it is issued. Business year 2024 is closed: manual entries dated in it are refused.
"""

from __future__ import annotations

import uuid
from datetime import date

# id, account_no, name, parent id: the ids the recorded accounts' fibu_account_group_id point at
ACCOUNT_GROUPS = [
    (1, "1", "Aktiven", None),
    (10, "10", "Umlaufvermögen", 1),
    (43, "100", "Flüssige Mittel", 10),
    (42, "110", "Forderungen aus Lieferungen und Leistungen", 10),
    (41, "117", "Vorsteuer", 10),
    (2, "2", "Passiven", None),
    (20, "20", "Kurzfristiges Fremdkapital", 2),
    (47, "200", "Verbindlichkeiten aus Lieferungen und Leistungen, erhaltene Anzahlungen", 20),
    (46, "220", "Umsatzsteuer", 20),
    (3, "3", "Betrieblicher Ertrag aus Lieferungen und Leistungen", None),
    (39, "30", "Produktionserlöse", 3),
    (52, "32", "Handelserlöse", 3),
    (40, "34", "Dienstleistungserlöse", 3),
    (50, "38", "Erlösminderungen", 3),
    (4, "4", "Aufwand für Material, Handelswaren und Dienstleistungen", None),
    (57, "42", "Handelswarenaufwand", 4),
    (55, "49", "Aufwandminderungen", 4),
    (6, "6", "Übriger betrieblicher Aufwand und Finanzerfolg", None),
    (63, "694", "Finanzaufwand", 6),
    (62, "699", "Finanzertrag", 6),
    (68, "9", "Abschluss", None),
]

EARNING, EXPENDITURE, ASSET, LIABILITY, CLOSING = 1, 2, 3, 4, 5  # account_type
BALANCE_SHEET = (ASSET, LIABILITY)

# id, account_no, name, account_type, group
CLUB_ACCOUNTS = [
    (120, "3400", "Ertrag Flugzeugmiete", EARNING, 40),
    (121, "3410", "Ertrag Schulung", EARNING, 40),
    (122, "3420", "Landetaxen", EARNING, 40),
    (123, "3000", "Produktionserlöse", EARNING, 39),
    (124, "3090", "Guthaben-Einzahlungen (Durchlaufkonto)", EARNING, 39),
    (125, "3805", "Erlösminderungen / Korrekturen", EARNING, 50),
]
RENAMED_ACCOUNTS = {106: "Kundenguthaben / erhaltene Anzahlungen", 115: "Bank Zürcher Kantonalbank"}

# the accounts bexio books to by itself (ids of the recorded chart)
DEBTORS = 113  # 1100 Forderungen aus Lieferungen und Leistungen (Debitoren)
ROUNDING = 97  # 6945 Rundungsdifferenz
DEFAULT_REVENUE = 101  # 3200 Handelserlös: a position without an account
BANK = 115  # 1020: the demo bank account's account, and a payment without a bank account


def _club_tax(id_: int, code: str, digit: str, name: str, display: str) -> dict:
    return {
        "id": id_,
        "name": name,
        "code": code,
        "digit": digit,
        "type": "sales_tax",
        "account_id": 105,
        "tax_settlement_type": "none",
        "value": 0,
        "net_tax_value": None,
        "start_year": 2024,
        "end_year": None,
        "is_active": True,
        "display_name": display,
        "start_month": 1,
        "end_month": None,
    }


# after the recorded ones (UN81 stays the first active sales tax): exempt instruction (reported under
# digit 230) and prepaid credit paid in (no VAT, not turnover: digit 000)
CLUB_TAXES = [
    _club_tax(29, "UEX", "230", "Von der Steuer ausgenommene Leistungen", "UEX - Exempt revenue 0.00%"),
    _club_tax(30, "UVZ", "000", "Vorauszahlung, keine MWST", "UVZ - Prepayment, no VAT 0.00%"),
]
FIRST_YEAR = 2024
CLOSED_YEARS = {2024: "2025-04-28"}  # business year -> closed_at


def stable_uuid(company: str, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{company}/{what}"))


def account_groups(company: str) -> list[dict]:
    return [
        {
            "id": id_,
            "uuid": stable_uuid(company, f"account_group/{no}"),
            "account_no": no,
            "name": name,
            "parent_fibu_account_group_id": parent,
            "is_active": True,
            "is_locked": True,
        }
        for id_, no, name, parent in ACCOUNT_GROUPS
    ]


def accounts(company: str, recorded: list[dict]) -> list[dict]:
    out = [{**a, "name": RENAMED_ACCOUNTS.get(a["id"], a["name"])} for a in recorded]
    out += [
        {
            "id": id_,
            "uuid": stable_uuid(company, no),
            "account_no": no,
            "name": name,
            "account_type": type_,
            "tax_id": None,
            "fibu_account_group_id": group,
            "is_active": True,
            "is_locked": False,
        }
        for id_, no, name, type_, group in CLUB_ACCOUNTS
    ]
    return out


def taxes(company: str, recorded: list[dict]) -> list[dict]:
    return recorded + [{**t, "uuid": stable_uuid(company, f"tax/{t['code']}")} for t in CLUB_TAXES]


def last_year(today: date | None = None) -> int:
    return max(2027, (today or date.today()).year + 1)


def calendar_year(id_: int, year: int) -> dict:
    return {
        "id": id_,
        "start": f"{year}-01-01",
        "end": f"{year}-12-31",
        "is_vat_subject": True,
        "is_annual_reporting": False,
        "created_at": f"{year - 1}-12-01T09:00:00+00:00",
        "updated_at": f"{year - 1}-12-01T09:00:00+00:00",
        "vat_accounting_method": "effective",
        "vat_accounting_type": "agreed",
    }


def business_year(id_: int, year: int) -> dict:
    closed = CLOSED_YEARS.get(year)
    return {
        "id": id_,
        "start": f"{year}-01-01",
        "end": f"{year}-12-31",
        "status": "closed" if closed else "open",
        "closed_at": closed,
    }


def vat_periods(first_id: int, year: int) -> list[dict]:
    out = []
    closed = year in CLOSED_YEARS
    for q, end in enumerate(("03-31", "06-30", "09-30", "12-31")):
        out.append(
            {
                "id": first_id + q,
                "start": f"{year}-{q * 3 + 1:02d}-01",
                "end": f"{year}-{end}",
                "type": "quarter",
                "status": "closed" if closed else "open",
                "closed_at": CLOSED_YEARS[year] if closed else None,
            }
        )
    return out


def seed_books(store, company: str, recorded_accounts: list[dict], recorded_taxes: list[dict]) -> None:
    """Groups, accounts, taxes and years of one company (inside the caller's transaction)."""
    for group in account_groups(company):
        store.put("account_group", company, group["id"], group)
    for acc in accounts(company, recorded_accounts):
        store.put("account", company, acc["id"], acc)
    for tax in taxes(company, recorded_taxes):
        store.put("tax", company, tax["id"], tax)
    for i, year in enumerate(range(FIRST_YEAR, last_year() + 1), start=1):
        store.put("calendar_year", company, i, calendar_year(i, year))
        store.put("business_year", company, i, business_year(i, year))
        for period in vat_periods((i - 1) * 4 + 1, year):
            store.put("vat_period", company, period["id"], period)
        store.kv_set(f"seq:calendar_year:{company}", i)
        store.kv_set(f"seq:business_year:{company}", i)
        store.kv_set(f"seq:vat_period:{company}", i * 4)
