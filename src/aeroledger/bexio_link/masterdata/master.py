"""Typed, cached views on one organisation's imported bexio master data (`BexioRecord` rows)."""

from __future__ import annotations

from .models import BexioRecord, Kind


def iso_of_country(data: dict) -> str:
    # bexio answers iso_3166_alpha2 but documents (and accepts) iso3166_alpha2.
    return (data.get("iso_3166_alpha2") or data.get("iso3166_alpha2") or data.get("name_short") or "").upper()


def name_key(name: str) -> str:
    """A name as compared with bexio's: "  prof.  Dr. " and "Prof. Dr." are the same."""
    return " ".join((name or "").split()).casefold()


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

    def named_id(self, kind: str, name: str) -> int | None:
        """The id of the active record of `kind` called `name` (spaces and case ignored), e.g. a
        salutation "Herr" or a title "Prof. Dr."."""
        index = self._first_active(kind, lambda r: name_key(r.name))
        return index.get(name_key(name)) if name_key(name) else None

    def contact_group(self, name: str) -> BexioRecord | None:
        name = (name or "").strip().casefold()
        return next((r for r in self.all(Kind.CONTACT_GROUP) if r.name.strip().casefold() == name), None)

    def bank_accounts(self) -> list[BexioRecord]:
        """Active bank accounts, QR-capable first (QR invoices need a QR-IBAN)."""
        return sorted(self.all(Kind.BANK_ACCOUNT), key=lambda r: (not r.is_qr, r.name))

    def sales_taxes(self) -> list[BexioRecord]:
        return [r for r in self.all(Kind.TAX) if r.data.get("type", "sales_tax") == "sales_tax"]

    def accounts_of(self, *types) -> list[BexioRecord]:
        """Active accounts of the given bexio account types."""
        wanted = {int(t) for t in types}
        return [r for r in self.all(Kind.ACCOUNT) if r.data.get("account_type") in wanted]

    def earnings_accounts(self) -> list[BexioRecord]:
        """Accounts a position may book to: earnings (type 1), or unknown type (from articles)."""
        return [r for r in self.all(Kind.ACCOUNT) if r.data.get("account_type") in (1, None)]
