"""A ready mapping for the demo organisation against the sandbox's seeded articles.

`make run`'s seed (or a person in a shell) can call `configure_demo_mapping(org)` after the
master data was imported; it only fills what is still empty and returns what it did.
Sandbox articles: FLZ-<registration without dash> (aircraft time), FL (instructor), LT-<ICAO>
(landing fee), VZ (prepayment); other charges go to account 3200 with the first sales tax.
"""

from .master import MasterData
from .models import ChargeMapping, InvoiceSettings, Kind


def configure_demo_mapping(org) -> list[str]:
    from aeroledger.bexio_link.connection.models import connection_for
    from aeroledger.flights.models import Aerodrome, Aircraft

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
        put("aircraft_time", aircraft=aircraft, article=articles.get(code), label=aircraft.registration)
    for aerodrome in Aerodrome.objects.filter(organisation=org):
        put(
            "landing_fee",
            aerodrome=aerodrome,
            article=articles.get(f"LT-{aerodrome.icao}"),
            label=aerodrome.icao,
        )
    put("instruction", article=articles.get("FL"))
    put("top_up", article=articles.get("VZ"))
    account = next((a for a in master.earnings_accounts() if a.data.get("account_no") == "3200"), None)
    taxes = master.sales_taxes()
    put("manual", account=account, tax=taxes[0] if taxes else None)
    # Defaults for aircraft/aerodromes without an article of their own.
    put("aircraft_time", account=account, tax=taxes[0] if taxes else None, label="default")
    put("landing_fee", account=account, tax=taxes[0] if taxes else None, label="default")
    return done
