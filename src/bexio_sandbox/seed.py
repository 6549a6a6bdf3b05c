"""Seed data, shaped like the recordings in shared/reference/bexio-recorded."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

from . import chart

DATA = Path(__file__).parent / "data"

SEED_VERSION = 2  # 2: the club's chart of accounts, taxes, years and articles (HB-CQA/KGE/KCX, LSZF/LSZG)
DEMO_COMPANY = "aero5demo7kz"
SECOND_COMPANY = "zweit8ab3c4d"
DEMO_CLIENT_ID = "aeroledger-demo"
DEMO_CLIENT_SECRET = "aeroledger-demo-secret"  # noqa: S105 (documented demo secret)
DEMO_REDIRECT_URIS = ["http://127.0.0.1:8000/bexio/callback", "http://localhost:8000/bexio/callback"]
PASSWORD = "sandbox"  # noqa: S105 (documented demo password)

ALL_RIGHTS = [
    "contact",
    "kb_invoice",
    "kb_offer",
    "kb_order",
    "kb_delivery",
    "article",
    "accounting",
    "bank_account",
    "other",
]

# realm users: login -> profile + memberships (company -> company user id, rights)
REALM_USERS = [
    {
        "username": "demo@bexio.test",
        "sub": "c5798551-d986-4c57-8c57-1365f667f4a1",
        "given_name": "Daniela",
        "family_name": "Demo",
        "gender": "female",
        "memberships": {DEMO_COMPANY: {"user_id": 1, "rights": ALL_RIGHTS, "superadmin": True}},
    },
    {
        "username": "clerk@bexio.test",
        "sub": "c5798551-d986-4c57-8c57-1365f667f4a2",
        "given_name": "Claudio",
        "family_name": "Clerk",
        "gender": "male",
        "memberships": {DEMO_COMPANY: {"user_id": 2, "rights": ["other"], "superadmin": False}},
    },
    {
        "username": "multi@bexio.test",
        "sub": "c5798551-d986-4c57-8c57-1365f667f4a3",
        "given_name": "Martina",
        "family_name": "Multi",
        "gender": "female",
        "memberships": {
            DEMO_COMPANY: {"user_id": 3, "rights": ALL_RIGHTS, "superadmin": False},
            SECOND_COMPANY: {"user_id": 1, "rights": ALL_RIGHTS, "superadmin": True},
        },
    },
]

COMPANIES = {
    DEMO_COMPANY: {
        "name": "Flugschule Demo AG",
        "address": "Flugplatzstrasse",
        "address_nr": "1",
        "postcode": "8640",
        "city": "Rapperswil",
    },
    SECOND_COMPANY: {
        "name": "Motorfluggruppe Zwei",
        "address": "Hangarweg",
        "address_nr": "7",
        "postcode": "3123",
        "city": "Belp",
    },
}


@cache
def _raw() -> dict:
    return json.loads((DATA / "seed.json").read_text())


def raw(key: str):
    return copy.deepcopy(_raw()[key])


def openid_template() -> dict:
    return raw("openid")


def profile_image() -> str:
    return _raw()["profile_image"]


COUNTRIES = [
    (1, "Schweiz", "CH"),
    (2, "Deutschland", "DE"),
    (3, "Österreich", "AT"),
    (4, "Frankreich", "FR"),
    (5, "Italien", "IT"),
    (6, "Liechtenstein", "LI"),
    (7, "Vereinigtes Königreich", "GB"),
]

UNITS = [(1, "Stk"), (2, "h"), (3, "Min."), (4, "Landung"), (5, "Pauschal")]


def _article(id_, code, name, price, unit, description, account, tax):
    return {
        "id": id_,
        "user_id": 1,
        "article_type_id": 2,
        "contact_id": None,
        "deliverer_code": "",
        "deliverer_name": "",
        "deliverer_description": "",
        "intern_code": code,
        "intern_name": name,
        "intern_description": description,
        "purchase_price": None,
        "sale_price": price,
        "purchase_total": None,
        "sale_total": None,
        "currency_id": 1,
        "tax_income_id": None,
        "tax_id": tax,
        "tax_expense_id": None,
        "unit_id": unit,
        "is_stock": False,
        "stock_id": None,
        "stock_place_id": None,
        "stock_nr": 0,
        "stock_min_nr": 0,
        "stock_reserved_nr": 0,
        "stock_available_nr": 0,
        "stock_picked_nr": 0,
        "stock_disposed_nr": 0,
        "stock_ordered_nr": 0,
        "width": None,
        "height": None,
        "weight": None,
        "volume": None,
        "html_text": "",
        "remarks": "",
        "delivery_price": None,
        "article_group_id": None,
        "account_id": account,
        "expense_account_id": None,
    }


# the demo club's fleet and aerodromes (aeroledger.billing.demo): aircraft time 8.1 % on 3400,
# instruction exempt on 3410, landing fees 8.1 % on 3420, prepaid credit without VAT on the 3090 clearing
ACC_3400, ACC_3410, ACC_3420, ACC_3090 = 120, 121, 122, 124
UN81, UEX, UVZ = 14, 29, 30
MINUTE, LANDING, LUMP_SUM = 3, 4, 5
ARTICLE_ROWS = [  # intern_code, intern_name, sale_price, unit, description, account, tax
    ("FLZ-HBCQA", "Flugzeit HB-CQA", "4.200000", MINUTE, "Miete pro Minute, Cessna 172S", ACC_3400, UN81),
    ("FLZ-HBKGE", "Flugzeit HB-KGE", "3.900000", MINUTE, "Miete pro Minute, Piper PA-28-181", ACC_3400, UN81),
    ("FLZ-HBKCX", "Flugzeit HB-KCX", "3.100000", MINUTE, "Miete pro Minute, Aquila A211", ACC_3400, UN81),
    ("FL", "Fluglehrer", "1.600000", MINUTE, "Flugunterricht pro Minute", ACC_3410, UEX),
    ("LT-LSZF", "Landetaxe LSZF", "18.000000", LANDING, "Birrfeld", ACC_3420, UN81),
    ("LT-LSZG", "Landetaxe LSZG", "22.500000", LANDING, "Grenchen", ACC_3420, UN81),
    ("VZ", "Vorauszahlung", "0.000000", LUMP_SUM, "Einzahlung auf das Flugkonto", ACC_3090, UVZ),
]
ARTICLES = [_article(i, *row) for i, row in enumerate(ARTICLE_ROWS, start=1)]


def _contact(id_, nr, type_id, name_1, name_2, street, house, postcode, city, mail):
    return {
        "id": id_,
        "nr": nr,
        "contact_type_id": type_id,
        "name_1": name_1,
        "name_2": name_2,
        "salutation_id": 0,
        "salutation_form": None,
        "title_id": None,
        "birthday": None,
        "address": f"{street} {house}".strip() if street else None,
        "street_name": street,
        "house_number": house,
        "address_addition": None,
        "postcode": postcode,
        "city": city,
        "country_id": 1,
        "mail": mail,
        "mail_second": None,
        "phone_fixed": None,
        "phone_fixed_second": None,
        "phone_mobile": "",
        "fax": "",
        "url": "",
        "skype_name": "",
        "remarks": "",
        "language_id": None,
        "is_lead": False,
        "contact_group_ids": "1",
        "contact_branch_ids": None,
        "user_id": 1,
        "owner_id": 1,
        "updated_at": "2009-06-09 08:37:17",
        "is_archived": False,
    }


def seed_company(store, company: str) -> None:
    """Write the seed documents of one company (inside the caller's transaction)."""
    info = COMPANIES[company]
    for lang in raw("languages"):
        store.put("language", company, lang["id"], lang)
    for pt in raw("payment_types"):
        store.put("payment_type", company, pt["id"], pt)
    for cid, name, rf in [(1, "CHF", 0.05), (2, "EUR", 0.01), (3, "USD", 0.01), (4, "GBP", 0.01)]:
        store.put("currency", company, cid, {"id": cid, "name": name, "round_factor": rf})
    store.kv_set(f"seq:currency:{company}", 4)
    for uid, name in UNITS:
        store.put("unit", company, uid, {"id": uid, "name": name})
    store.kv_set(f"seq:unit:{company}", len(UNITS))
    chart.seed_books(store, company, raw("accounts"), raw("taxes"))
    for cid, name, iso in COUNTRIES:
        store.put(
            "country", company, cid, {"id": cid, "name": name, "name_short": iso, "iso_3166_alpha2": iso}
        )
    for c in raw("countries"):
        if c["name"] != "Test Country":
            store.put("country", company, c["id"], c)
    store.kv_set(f"seq:country:{company}", 40)
    for kind in ("contact_groups", "salutations", "titles"):
        name = kind[:-1]
        rows = raw(kind)
        for row in rows:
            store.put(name, company, row["id"], row)
        store.kv_set(f"seq:{name}:{company}", max(r["id"] for r in rows))
    bank = raw("bank_account")
    bank.update(
        {
            "name": "Zürcher Kantonalbank",
            "owner": info["name"],
            "owner_address": info["address"],
            "owner_house_number": info["address_nr"],
            "owner_zip": info["postcode"],
            "owner_city": info["city"],
            "bank_name": "Zürcher Kantonalbank",
            "bc_nr": "700",
            "iban_nr": "CH9300762011623852957",
            "bank_account_nr": "1162-3852.957",
            "invoice_mode": "qr_invoice",
            "qr_invoice_iban": "CH4431999123000889012",
            "bank_nr": "ZKBKCHZZ80A",
            "remarks": "",
            "account_id": chart.BANK,
        }
    )
    store.put("bank_account", company, 1, bank)
    profile = raw("company_profile")
    profile.update(
        {
            "name": info["name"],
            "address": f"{info['address']} {info['address_nr']}",
            "address_nr": info["address_nr"],
            "postcode": info["postcode"],
            "city": info["city"],
            "country_name": "Schweiz",
            "mail": f"info@{company}.example",
            "mwst_nr": "CHE-123.456.789 MWST",
        }
    )
    store.put("company_profile", company, 1, profile)
    for user in REALM_USERS:
        m = user["memberships"].get(company)
        if m:
            store.put(
                "user",
                company,
                m["user_id"],
                {
                    "id": m["user_id"],
                    "salutation_type": "female" if user["gender"] == "female" else "male",
                    "firstname": user["given_name"],
                    "lastname": user["family_name"],
                    "email": user["username"],
                    "is_superadmin": m["superadmin"],
                    "is_accountant": False,
                },
            )
    for art in ARTICLES:
        store.put("article", company, art["id"], art)
    store.kv_set(f"seq:article:{company}", len(ARTICLES))
    contacts = [
        _contact(1, "000001", 1, "bexio AG", "", "Alte Jonastrasse", "24", "8640", "Rapperswil", None),
        _contact(
            2, "000002", 2, "Muster", "Hans", "Seestrasse", "12", "8800", "Thalwil", "hans.muster@example.ch"
        ),
    ]
    contacts[0]["url"] = "https://www.bexio.com"
    for c in contacts:
        store.put("contact", company, c["id"], c)
    store.kv_set(f"seq:contact:{company}", len(contacts))
    store.kv_set(f"seq:contact_nr:{company}", len(contacts))


# small lists bexio serves as they are (resources.py declares them)
LOOKUPS = {
    "contact_branch": ["Luftfahrt", "Ausbildung", "Handel", "Dienstleistungen"],
    "communication_kind": ["Telefon", "E-Mail", "Brief"],
    "todo_priority": ["Tief", "Normal", "Hoch"],
    "todo_status": ["Offen", "In Arbeit", "Erledigt"],
    "timesheet_status": ["Offen", "Abgerechnet"],
    "pr_project_state": ["Offen", "Aktiv", "Archiviert"],
    "pr_project_type": ["Intern", "Kundenprojekt"],
}
DOCUMENT_SETTINGS = [
    {"id": 1, "kb_item_class": "KbInvoice", "default_time_period_in_days": 30},
    {"id": 2, "kb_item_class": "KbOffer", "default_time_period_in_days": 30},
]


def seed_lookups(store, company: str) -> None:
    for kind, names in LOOKUPS.items():
        for i, name in enumerate(names, start=1):
            store.put(kind, company, i, {"id": i, "name": name})
    for setting in DOCUMENT_SETTINGS:
        store.put("kb_item_setting", company, setting["id"], setting)


def seed_all(store) -> None:
    for company in COMPANIES:
        seed_company(store, company)
        seed_lookups(store, company)
    store.kv_set("seeded", True)
    store.kv_set("seed_version", SEED_VERSION)
