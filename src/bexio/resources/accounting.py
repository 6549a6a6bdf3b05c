"""Accounting (3.0): manual entries, the journal, calendar and business years, VAT periods.

Manual entries are writes that must reach bexio exactly once, and bexio offers no idempotency key
and documents no endpoint that shows one manual entry or searches them. The look-up before a
retry is therefore `manual_entries.find_by_reference(reference_nr, date=...)`: it pages the whole
list (2000 a request) and returns the entries carrying that reference number. Give every entry a
reference number that is unique to its origin (<= 80 characters), and before re-sending an entry
whose answer was lost, look it up: found means it was created.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from bexio import models as m
from bexio.errors import InvalidResponseError
from bexio.resources.base import (
    PAGE_SIZE,
    CreateMixin,
    DeleteMixin,
    ListMixin,
    ReadMixin,
    UpdateMixin,
    parse_answer,
)


class ManualEntries(ListMixin, CreateMixin, UpdateMixin, DeleteMixin):
    """`/3.0/accounting/manual_entries`: list (paged), create, update (PUT replaces the entry),
    delete, `next_ref_nr()`, and `find_by_reference()` (see the module's docstring)."""

    path = "/3.0/accounting/manual_entries"
    model = m.ManualEntry
    create_model = update_model = m.ManualEntryCreate
    update_method = "PUT"

    def next_ref_nr(self) -> str:
        """The reference number bexio proposes for the next manual entry."""
        url = self._url("next_ref_nr")
        answer = parse_answer(m.NextRefNr.model_validate, self._client.request("GET", url), url)
        if answer.next_ref_nr is None:
            raise InvalidResponseError("bexio answered without next_ref_nr", path=url)
        return answer.next_ref_nr

    def find_by_reference(self, reference_nr: str, *, date: dt.date | None = None) -> list[m.ManualEntry]:
        """The entries whose `reference_nr` is exactly `reference_nr` (and booked on `date`, when
        given). Pages through every manual entry of the company: one request per 2000."""
        return [
            entry
            for entry in self.iter(page_size=PAGE_SIZE)
            if entry.reference_nr == reference_nr and (date is None or entry.date == date)
        ]


class Journal(ListMixin):
    """`GET /3.0/accounting/journal`: every booking, paged; filter by booking date and account."""

    path = "/3.0/accounting/journal"
    model = m.JournalEntry

    def iter(  # type: ignore[override]
        self,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        account_uuid: str | None = None,
        page_size: int = PAGE_SIZE,
        max_items: int | None = None,
    ) -> Iterator[m.JournalEntry]:
        """Bookings from `date_from` to `date_to` (bexio's `from`/`to`, both included), of the
        account with `account_uuid` when given; all pages."""
        query: dict[str, Any] = {"from": date_from, "to": date_to, "account_uuid": account_uuid}
        return self._pages("GET", self._path, params=query, page_size=page_size, max_items=max_items)

    def all(  # type: ignore[override]
        self,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        account_uuid: str | None = None,
    ) -> list[m.JournalEntry]:
        return list(self.iter(date_from=date_from, date_to=date_to, account_uuid=account_uuid))


class CalendarYears(ReadMixin):
    """Calendar years with their VAT settings (`is_vat_subject`, `vat_accounting_method`)."""

    path = "/3.0/accounting/calendar_years"
    model = m.CalendarYear


class BusinessYears(ReadMixin):
    """Business years and their `status`: entries dated in a closed year come back `is_locked`."""

    path = "/3.0/accounting/business_years"
    model = m.BusinessYear


class VatPeriods(ReadMixin):
    """VAT periods (`type` "quarter", ...); a closed period's VAT is declared and must not change."""

    path = "/3.0/accounting/vat_periods"
    model = m.VatPeriod
