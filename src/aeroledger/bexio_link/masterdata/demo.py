"""A ready mapping for the demo organisation against the sandbox's seeded chart and articles.

`configure_demo_mapping(org)` (after the master data was imported) fills only what is still empty
and returns what it did. Sandbox articles: FLZ-<registration without dash> (aircraft time), FL
(instruction), LT-<ICAO> (landing fee), VZ (top-up, on the 3090 clearing account, no VAT); other
charges go to 3400 with the 8.1 % sales tax. Members' credit: 2030; corrections: 3805.
"""

from aeroledger.bexio_link.connection.models import connection_for
from aeroledger.billing.models import ChargeType
from aeroledger.flights.models import Aerodrome, Aircraft

from .master import MasterData
from .models import ChargeMapping, InvoiceSettings, Kind


def _account(master: MasterData, number: str):
    return next((a for a in master.all(Kind.ACCOUNT) if a.data.get("account_no") == number), None)


def configure_demo_mapping(org) -> list[str]:
    master = MasterData(org)
    done: list[str] = []
    articles = {(a.data.get("intern_code") or "").upper(): a for a in master.all(Kind.ARTICLE)}

    settings_row, _created = InvoiceSettings.objects.get_or_create(organisation=org)
    changed = []
    banks = master.bank_accounts()
    if settings_row.bank_account_id is None and banks:
        settings_row.bank_account = banks[0]
        changed.append("bank_account")
    if settings_row.user_id is None:
        conn = connection_for(org)
        consenting = str(getattr(conn, "bexio_user_id", "") or "")
        users = master.all(Kind.USER)
        user = next((u for u in users if str(u.bexio_id) == consenting), users[0] if users else None)
        if user is not None:
            settings_row.user = user
            changed.append("user")
    for field, number in (("credit_account", "2030"), ("corrections_account", "3805")):
        if getattr(settings_row, f"{field}_id") is None and _account(master, number) is not None:
            setattr(settings_row, field, _account(master, number))
            changed.append(field)
    if changed:
        settings_row.save()
        done.append("settings: " + ", ".join(changed))

    def put(charge_type, *, aircraft=None, aerodrome=None, article=None, account=None, tax=None, label=""):
        if article is None and not (account and tax):
            return
        _row, created = ChargeMapping.objects.get_or_create(
            organisation=org,
            charge_type=charge_type,
            aircraft=aircraft,
            aerodrome=aerodrome,
            defaults={"article": article, "account": account, "tax": tax},
        )
        if created:
            done.append(f"{charge_type} {label}".strip())

    for aircraft in Aircraft.objects.filter(organisation=org):
        code = "FLZ-" + aircraft.registration.replace("-", "").upper()
        put(
            ChargeType.AIRCRAFT_TIME,
            aircraft=aircraft,
            article=articles.get(code),
            label=aircraft.registration,
        )
    for aerodrome in Aerodrome.objects.filter(organisation=org):
        put(
            ChargeType.LANDING_FEE,
            aerodrome=aerodrome,
            article=articles.get(f"LT-{aerodrome.icao}"),
            label=aerodrome.icao,
        )
    put(ChargeType.INSTRUCTION, article=articles.get("FL"))
    put(ChargeType.TOP_UP, article=articles.get("VZ"))
    revenue = _account(master, "3400") or _account(master, "3200")
    vat = next((t for t in master.sales_taxes() if str(t.data.get("value")) in ("8.1", "8.10")), None)
    vat = vat or next(iter(master.sales_taxes()), None)
    put(ChargeType.MANUAL, account=revenue, tax=vat)
    # Defaults for aircraft/aerodromes without an article of their own.
    put(ChargeType.AIRCRAFT_TIME, account=revenue, tax=vat, label="default")
    put(ChargeType.LANDING_FEE, account=_account(master, "3420") or revenue, tax=vat, label="default")
    return done
