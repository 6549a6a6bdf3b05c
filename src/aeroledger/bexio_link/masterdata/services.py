"""Master data: refresh from bexio, the mapping, validation before a transfer.

Public API (ARCHITECTURE.md "bexio_link internal API"):
    refresh_master_data(org, client=None, *, triggered_by="") -> MasterDataRefresh
    mapping_for(org) -> Mapping
    validate_invoice(invoice, mapping=None) -> list[str]       (reasons; empty = OK)
    ensure_contact(client, member, *, mapping=None) -> int     (in contacts.py, re-exported here)
Every function that talks to bexio takes an optional `client`; without one it asks the connection
app for the organisation's client (`client_for`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import api
from .models import (
    BexioRecord,
    ChargeMapping,
    ContactLink,
    InvoiceSettings,
    Kind,
    LinkState,
    MasterDataRefresh,
)

log = logging.getLogger(__name__)


def client_for(organisation):
    """The organisation's bexio client, from the connection app."""
    from aeroledger.bexio_link.connection.services import client_for as connection_client_for

    return connection_client_for(organisation)


# --- Refresh -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    kind: str
    path: str
    params: dict = field(default_factory=dict)
    paged: bool = True


SOURCES: tuple[Source, ...] = (
    Source(Kind.ARTICLE, "/2.0/article"),
    Source(Kind.TAX, "/3.0/taxes", {"types": "sales_tax", "scope": "active"}),
    Source(Kind.ACCOUNT, "/2.0/accounts"),
    Source(Kind.BANK_ACCOUNT, "/3.0/banking/accounts"),
    Source(Kind.UNIT, "/2.0/unit"),
    Source(Kind.CURRENCY, "/3.0/currencies", paged=False),
    Source(Kind.LANGUAGE, "/2.0/language"),
    Source(Kind.COUNTRY, "/2.0/country"),
    Source(Kind.PAYMENT_TYPE, "/2.0/payment_type"),
    Source(Kind.USER, "/3.0/users"),
    Source(Kind.COMPANY, "/2.0/company_profile", paged=False),
    Source(Kind.CONTACT_GROUP, "/2.0/contact_group"),
)


def record_name(kind: str, data: dict) -> str:
    """The label a person recognises for a bexio object of this kind."""
    if kind == Kind.ARTICLE:
        code, name = data.get("intern_code") or "", data.get("intern_name") or ""
        return f"{code} {name}".strip() if code and code != name else name
    if kind == Kind.TAX:
        return data.get("display_name") or data.get("code") or data.get("name") or ""
    if kind == Kind.ACCOUNT:
        return f"{data.get('account_no') or ''} {data.get('name') or ''}".strip()
    if kind == Kind.USER:
        name = f"{data.get('firstname') or ''} {data.get('lastname') or ''}".strip()
        return f"{name} <{data['email']}>" if data.get("email") else name
    if kind == Kind.BANK_ACCOUNT:
        iban = data.get("qr_invoice_iban") or data.get("iban_nr") or ""
        return f"{data.get('name') or ''} {iban}".strip()
    if kind == Kind.COUNTRY:
        return f"{data.get('name') or ''} ({iso_of_country(data)})"
    return str(data.get("name") or data.get("display_name") or "")


def iso_of_country(data: dict) -> str:
    # bexio answers iso_3166_alpha2 but documents (and accepts) iso3166_alpha2.
    return (data.get("iso_3166_alpha2") or data.get("iso3166_alpha2") or data.get("name_short") or "").upper()


def record_active(kind: str, data: dict) -> bool:
    if kind in (Kind.ACCOUNT, Kind.TAX):
        return data.get("is_active", True) is not False
    return True


def _sync_kind(org, kind: str, items: list[dict], *, derived: bool = False) -> dict:
    """Upsert the records of one kind; mark those bexio no longer has inactive. Writes only changes."""
    existing = {r.bexio_id: r for r in BexioRecord.objects.filter(organisation=org, kind=kind)}
    counts = {"created": 0, "updated": 0, "deactivated": 0, "unchanged": 0}
    seen: set[int] = set()
    for data in items:
        try:
            bexio_id = int(data["id"])
        except (KeyError, TypeError, ValueError):
            continue
        if bexio_id in seen:
            continue
        seen.add(bexio_id)
        name = record_name(kind, data)[:300]
        active = record_active(kind, data)
        record = existing.get(bexio_id)
        if record is None:
            BexioRecord.objects.create(
                organisation=org, kind=kind, bexio_id=bexio_id, name=name, data=data, is_active=active
            )
            counts["created"] += 1
        elif derived and not record.data.get("derived_from"):
            counts["unchanged"] += 1  # a real record from an earlier full import: keep it
        elif record.name != name or record.data != data or record.is_active != active:
            record.name, record.data, record.is_active = name, data, active
            record.save(update_fields=["name", "data", "is_active", "changed_at"])
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    # After a derived import only stand-ins may go; real records stay as the last full import left them.
    gone = [
        r.pk
        for bid, r in existing.items()
        if bid not in seen and r.is_active and (not derived or r.data.get("derived_from"))
    ]
    if gone:
        BexioRecord.objects.filter(pk__in=gone).update(is_active=False, changed_at=timezone.now())
        counts["deactivated"] = len(gone)
    return counts


def _derived_from_articles(articles: list[dict], *keys: str) -> list[dict]:
    """Stand-in records for what articles carry when bexio will not list the kind itself."""
    ids = []
    for article in articles:
        for key in keys:
            value = article.get(key)
            if value and value not in ids:
                ids.append(value)
    return [{"id": i, "name": f"#{i}", "derived_from": "article"} for i in ids]


def refresh_master_data(
    org, client=None, *, triggered_by: str = "", run: MasterDataRefresh | None = None
) -> MasterDataRefresh:
    """Import every kind of master data for `org`. Idempotent: a second run changes nothing.

    A kind bexio refuses (403: scope or permission missing) is skipped and its records are left as
    they are; accounts and taxes then fall back to the ids the articles carry. `run`: a row made
    when the refresh was enqueued (the page shows it as running), else a new one is made.
    """
    if run is None:
        run = MasterDataRefresh.objects.create(organisation=org, triggered_by=triggered_by[:40])
    summary: dict = {}
    try:
        bexio = api.Api(client if client is not None else client_for(org))
        fetched: dict[str, list[dict]] = {}
        for source in SOURCES:
            try:
                fetched[source.kind] = bexio.list(source.path, source.params, paged=source.paged)
            except api.Forbidden:
                summary[source.kind] = {"skipped": "forbidden"}
        articles = fetched.get(Kind.ARTICLE, [])
        with transaction.atomic():
            # One import at a time per organisation (button, schedule and "after connecting" may meet).
            type(org).objects.select_for_update().filter(pk=org.pk).first()
            for source in SOURCES:
                if source.kind in fetched:
                    summary[source.kind] = _sync_kind(org, source.kind, fetched[source.kind])
                elif source.kind == Kind.ACCOUNT and Kind.ARTICLE in fetched:
                    counts = _sync_kind(
                        org, Kind.ACCOUNT, _derived_from_articles(articles, "account_id"), derived=True
                    )
                    summary[Kind.ACCOUNT] = {**counts, "skipped": "forbidden", "from_articles": True}
                elif source.kind == Kind.TAX and Kind.ARTICLE in fetched:
                    counts = _sync_kind(
                        org,
                        Kind.TAX,
                        _derived_from_articles(articles, "tax_income_id", "tax_id"),
                        derived=True,
                    )
                    summary[Kind.TAX] = {**counts, "skipped": "forbidden", "from_articles": True}
            # The contact group named in the settings may have appeared (or vanished) in bexio.
            settings_row = InvoiceSettings.objects.filter(organisation=org).first()
            if settings_row is not None:
                _attach_contact_group(settings_row)
        run.ok = True
    except Exception as exc:  # recorded for the page; re-raised for the caller/task log
        run.error = api.describe_error(exc)
        run.summary, run.finished_at = summary, timezone.now()
        run.save(update_fields=["summary", "error", "finished_at"])
        raise
    run.summary, run.finished_at = summary, timezone.now()
    run.save(update_fields=["summary", "ok", "finished_at"])
    return run


def last_refresh(org) -> MasterDataRefresh | None:
    return MasterDataRefresh.objects.filter(organisation=org).order_by("-started_at", "-id").first()


# --- Typed accessors -----------------------------------------------------------------------------


class MasterData:
    """Typed, cached views on one organisation's `BexioRecord` rows."""

    def __init__(self, org):
        self.org = org
        self._by_kind: dict[str, list[BexioRecord]] | None = None
        self._index_of: dict | None = None  # the `_by_kind` the indexes below were built from
        self._indexes: dict = {}

    def _load(self) -> dict[str, list[BexioRecord]]:
        if self._by_kind is None:
            by_kind: dict[str, list[BexioRecord]] = {k: [] for k in Kind.values}
            for record in BexioRecord.objects.filter(organisation=self.org):
                by_kind.setdefault(record.kind, []).append(record)
            self._by_kind = by_kind
        return self._by_kind

    def _index(self, name: str, build) -> dict:
        """A lookup dict built once per load of the records (`_by_kind = None` forgets them all).

        Read by the transfer's threads at once: a race builds the same dict twice, harmlessly.
        """
        by_kind = self._load()
        if self._index_of is not by_kind:
            self._indexes, self._index_of = {}, by_kind
        indexes = self._indexes
        index = indexes.get(name)
        if index is None:
            index = build(by_kind)
            indexes[name] = index
        return index

    def by_pk(self, pk) -> BexioRecord | None:
        """The record with this primary key (any kind, active or not)."""
        if pk is None:
            return None
        return self._index("pk", lambda by_kind: {r.pk: r for recs in by_kind.values() for r in recs}).get(pk)

    def _first_active(self, kind: str, key) -> dict:
        """{key(record): bexio_id} of the active records of `kind`; the first record wins."""

        def build(by_kind):
            found: dict = {}
            for r in by_kind.get(kind, []):
                if r.is_active:
                    found.setdefault(key(r), r.bexio_id)
            return found

        return self._index(f"{kind}:active", build)

    def all(self, kind: str, *, active_only: bool = True) -> list[BexioRecord]:
        records = self._load().get(kind, [])
        return [r for r in records if r.is_active] if active_only else list(records)

    def get(self, kind: str, bexio_id) -> BexioRecord | None:
        def build(by_kind):
            found: dict = {}
            for r in by_kind.get(kind, []):
                found.setdefault(r.bexio_id, r)
            return found

        return self._index(f"{kind}:bexio_id", build).get(bexio_id)

    @property
    def is_empty(self) -> bool:
        return not any(self._load().values())

    def country_id(self, iso: str) -> int | None:
        return self._first_active(Kind.COUNTRY, lambda r: iso_of_country(r.data)).get((iso or "").upper())

    def language_id(self, code: str) -> int | None:
        index = self._first_active(Kind.LANGUAGE, lambda r: (r.data.get("iso_639_1") or "").lower())
        return index.get((code or "").lower())

    def currency_id(self, code: str) -> int | None:
        index = self._first_active(Kind.CURRENCY, lambda r: (r.data.get("name") or "").upper())
        return index.get((code or "").upper())

    def contact_group(self, name: str) -> BexioRecord | None:
        name = (name or "").strip().casefold()
        return next((r for r in self.all(Kind.CONTACT_GROUP) if r.name.strip().casefold() == name), None)

    def bank_accounts(self) -> list[BexioRecord]:
        """Active bank accounts, QR-capable first (QR invoices need a QR-IBAN)."""
        return sorted(self.all(Kind.BANK_ACCOUNT), key=lambda r: (not r.is_qr, r.name))

    def sales_taxes(self) -> list[BexioRecord]:
        return [r for r in self.all(Kind.TAX) if r.data.get("type", "sales_tax") == "sales_tax"]

    def earnings_accounts(self) -> list[BexioRecord]:
        """Accounts a position may book to: earnings (type 1), or unknown type (from articles)."""
        return [r for r in self.all(Kind.ACCOUNT) if r.data.get("account_type") in (1, None)]


def _attach_contact_group(settings_row: InvoiceSettings) -> None:
    group = MasterData(settings_row.organisation).contact_group(settings_row.contact_group_name)
    if group is not None and settings_row.contact_group_id != group.pk:
        settings_row.contact_group = group
        settings_row.save(update_fields=["contact_group", "updated_at"])


# --- Mapping -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionTarget:
    """Where one invoice position goes in bexio. `article_id` None = a custom position."""

    article_id: int | None
    account_id: int | None
    tax_id: int | None
    unit_id: int | None

    @property
    def position_type(self) -> str:
        return "KbPositionArticle" if self.article_id else "KbPositionCustom"


def charge_type_label(charge_type: str) -> str:
    from aeroledger.billing.models import ChargeType

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
        return reasons

    def position_problems(self, charge_type: str, aircraft_id=None, aerodrome_id=None, label="") -> list[str]:
        row = self.row_for(charge_type, aircraft_id, aerodrome_id)
        what = charge_type_label(charge_type) + (f" ({label})" if label else "")
        if row is None:
            return [_("%(what)s is not mapped to a bexio article or account.") % {"what": what}]
        return [f"{what}: {reason}" for reason in self.row_problems(row)]


def mapping_for(org) -> Mapping:
    return Mapping(org)


# --- Validation ----------------------------------------------------------------------------------

# Address fields bexio (and the QR bill) needs on the paying contact.
REQUIRED_ADDRESS = (
    ("street", "street"),
    ("postcode", "postcode"),
    ("city", "city"),
    ("country", "country"),
)


def member_problems(member, mapping: Mapping) -> list[str]:
    """What keeps `member` from becoming a complete bexio contact."""
    from aeroledger.members.models import MemberKind

    labels = {
        "street": _("street"),
        "postcode": _("postcode"),
        "city": _("city"),
        "country": _("country"),
    }
    name = f"{member.number} {member.display_name}".strip()
    reasons = []
    if member.kind == MemberKind.COMPANY and not member.company_name:
        reasons.append(_("Member %(name)s has no company name.") % {"name": name})
    if member.kind != MemberKind.COMPANY and not member.last_name:
        reasons.append(_("Member %(name)s has no last name.") % {"name": name})
    missing = [
        str(labels[key]) for key, attr in REQUIRED_ADDRESS if not (getattr(member, attr) or "").strip()
    ]
    if missing:
        reasons.append(
            _("Member %(name)s is missing address fields bexio needs: %(fields)s.")
            % {"name": name, "fields": ", ".join(missing)}
        )
    if member.country and not mapping.master.is_empty and mapping.country_id(member.country) is None:
        reasons.append(
            _("The country %(country)s of member %(name)s does not exist in bexio.")
            % {"country": member.country, "name": name}
        )
    link = known_link(member)
    if link is False:
        link = ContactLink.objects.filter(member=member).first()
    if link is not None and link.state == LinkState.CONFLICT:
        reasons.append(
            _("Several bexio contacts match member %(name)s: link one by hand (Bexio > Contacts).")
            % {"name": name}
        )
    return reasons


def known_link(member):
    """The member's ContactLink when already loaded (select_related "bexio_link"): the link or
    None (no link); False when it was not loaded (the caller reads it)."""
    from aeroledger.members.models import Member

    related = Member.bexio_link.related
    if not related.is_cached(member):
        return False
    return related.get_cached_value(member)


def invoice_positions(invoice) -> list:
    """The invoice's positions in order (pos, id), with aircraft and aerodrome; the prefetched ones
    when the caller loaded them (`prefetch_related("positions")`)."""
    prefetched = getattr(invoice, "_prefetched_objects_cache", {}).get("positions")
    if prefetched is not None:
        return sorted(prefetched, key=lambda p: (p.pos, p.pk))
    return list(invoice.positions.select_related("aircraft", "aerodrome").order_by("pos", "id"))


def validate_invoice(invoice, mapping: Mapping | None = None, *, positions=None) -> list[str]:
    """Every reason why `invoice` cannot be transferred to bexio now; empty means it can.

    Pass `mapping` (from `mapping_for`) when validating many invoices of one organisation, and
    `positions` (`invoice_positions(invoice)`) when the caller has them already.
    """
    mapping = mapping or mapping_for(invoice.organisation)
    reasons = list(mapping.problems())
    if (getattr(invoice, "currency", None) or invoice.organisation.currency) != invoice.organisation.currency:
        reasons.append(_("The invoice currency differs from the organisation's currency."))
    reasons += member_problems(invoice.member, mapping)
    if positions is None:
        positions = invoice_positions(invoice)
    if not positions:
        reasons.append(_("The invoice has no positions."))
    for position in positions:
        label = ""
        if position.aircraft_id:
            label = position.aircraft.registration
        elif position.aerodrome_id:
            label = position.aerodrome.icao
        reasons += mapping.position_problems(
            position.charge_type, position.aircraft_id, position.aerodrome_id, label=label
        )
    return list(dict.fromkeys(reasons))


def ensure_contact(client, member, *, mapping: Mapping | None = None) -> int:
    """Create or update `member`'s bexio contact; return its id. See contacts.ensure_contact.

    Pass `mapping` (from `mapping_for`) when ensuring many members' contacts of one organisation.
    """
    from .contacts import ensure_contact as _ensure_contact

    return _ensure_contact(client, member, mapping=mapping)
