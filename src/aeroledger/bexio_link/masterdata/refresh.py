"""Refresh from bexio: import every kind of master data into `BexioRecord` rows.

Idempotent (a second run writes nothing), one import at a time per organisation; a kind bexio
refuses (403: scope or permission missing) is skipped and its records left as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from aeroledger.bexio_link.connection.clients import client_for
from bexio import errors
from bexio.models import TaxScope, TaxTypes

from .master import MasterData, iso_of_country
from .models import BexioRecord, InvoiceSettings, Kind, MasterDataRefresh

log = logging.getLogger(__name__)


# Each kind and how the client reads all of it (the client pages; its paths live in src/bexio).
SOURCES: tuple[tuple[str, Callable], ...] = (
    (Kind.ARTICLE, lambda c: c.articles.all()),
    (Kind.TAX, lambda c: c.taxes.all(scope=TaxScope.ACTIVE, types=TaxTypes.SALES_TAX)),
    (Kind.ACCOUNT, lambda c: c.accounts.all()),
    (Kind.BANK_ACCOUNT, lambda c: c.bank_accounts.all()),
    (Kind.UNIT, lambda c: c.units.all()),
    (Kind.CURRENCY, lambda c: c.currencies.all()),
    (Kind.LANGUAGE, lambda c: c.languages.all()),
    (Kind.COUNTRY, lambda c: c.countries.all()),
    (Kind.PAYMENT_TYPE, lambda c: c.payment_types.all()),
    (Kind.USER, lambda c: c.users.all()),
    (Kind.COMPANY, lambda c: c.company_profile.all()),
    (Kind.CONTACT_GROUP, lambda c: c.contact_groups.all()),
    (Kind.SALUTATION, lambda c: c.salutations.all()),
    (Kind.TITLE, lambda c: c.titles.all()),
)


def as_data(obj) -> dict:
    """A record as bexio sent it (the read models keep every field bexio sends)."""
    return obj.model_dump(mode="json", exclude_unset=True) if hasattr(obj, "model_dump") else dict(obj)


def describe_error(exc: BaseException) -> str:
    """A log/page line for an error; `BexioError.__str__` never contains a token."""
    if isinstance(exc, errors.BexioError):
        return str(exc)[:1000]
    return type(exc).__name__


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
        client = client if client is not None else client_for(org)
        fetched: dict[str, list[dict]] = {}
        for kind, read_all in SOURCES:
            try:
                fetched[kind] = [as_data(obj) for obj in read_all(client)]
            except errors.PermissionDeniedError:
                summary[kind] = {"skipped": "forbidden"}
        articles = fetched.get(Kind.ARTICLE, [])
        with transaction.atomic():
            # One import at a time per organisation (button, schedule and "after connecting" may meet).
            type(org).objects.select_for_update().filter(pk=org.pk).first()
            for kind, _read in SOURCES:
                if kind in fetched:
                    summary[kind] = _sync_kind(org, kind, fetched[kind])
                elif kind == Kind.ACCOUNT and Kind.ARTICLE in fetched:
                    counts = _sync_kind(
                        org, Kind.ACCOUNT, _derived_from_articles(articles, "account_id"), derived=True
                    )
                    summary[Kind.ACCOUNT] = {**counts, "skipped": "forbidden", "from_articles": True}
                elif kind == Kind.TAX and Kind.ARTICLE in fetched:
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
        run.error = describe_error(exc)
        run.summary, run.finished_at = summary, timezone.now()
        run.save(update_fields=["summary", "error", "finished_at"])
        raise
    run.summary, run.finished_at = summary, timezone.now()
    run.save(update_fields=["summary", "ok", "finished_at"])
    return run


def last_refresh(org) -> MasterDataRefresh | None:
    return MasterDataRefresh.objects.filter(organisation=org).order_by("-started_at", "-id").first()


def _attach_contact_group(settings_row: InvoiceSettings) -> None:
    group = MasterData(settings_row.organisation).contact_group(settings_row.contact_group_name)
    if group is not None and settings_row.contact_group_id != group.pk:
        settings_row.contact_group = group
        settings_row.save(update_fields=["contact_group", "updated_at"])
