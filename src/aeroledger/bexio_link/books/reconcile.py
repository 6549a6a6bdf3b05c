"""Reconciliation: Aeroledger's ledger against bexio's books, for a month or up to a day.

What is read from bexio (paced by the client's rate governor; each list pages by 2,000):
1. every invoice (`client.invoices.iter()`): total, payments received, status;
2. every manual entry (`client.manual_entries.iter()`): reference number, date, lines;
3. the journal of the members' credit account from the beginning to the period's end, and of each
   revenue and VAT account the mapping uses for the period (`client.journal.iter(date_from=,
   date_to=, account_uuid=)`; an account whose uuid is unknown is read from the whole journal).

What is compared (`ledger.py` is Aeroledger's side, `maths.py` bexio's booking maths):
- the sum of members' credit balances as of the period's end against the balance of the credit
  account in bexio's journal up to that day; a difference is broken down into its causes (credit
  never booked, bookings waiting or failed, bookings made by hand in bexio, bookings changed there);
- revenue per revenue account (net) and VAT per VAT account in the period against what Aeroledger
  sent: the due part of its invoices issued in bexio and dated in the period, and the bookings of
  members' credit dated in the period. Only bexio's lines that come from Aeroledger count: lines of
  its invoices and manual entries, less the manual entries Aeroledger did not make (listed apart);
- each invoice of the period: bexio's total, open amount and status against Aeroledger's;
- each booking of the period against bexio's manual entry of the same reference number (missing,
  twice, changed), and manual entries on the credit account that Aeroledger did not make.

Every difference is a `Difference(kind, data)`; `texts.py` says its cause and what to do.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.bexio_link.masterdata.mapping import Mapping, mapping_for
from aeroledger.bexio_link.transfer.invoices import status as bexio_status
from aeroledger.bexio_link.transfer.models import InvoiceLink, ItemKind, ItemStatus, OutboxItem
from aeroledger.billing.models import BEXIO_STATUSES, ChargeType, Invoice, InvoicePayment, InvoiceStatus
from bexio.models import InvoiceStatus as BexioStatus

from . import ledger, maths

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ISSUED = {BexioStatus.OPEN, BexioStatus.UNPAID, BexioStatus.PARTIALLY_PAID, BexioStatus.PAID}
# The order differences are listed in: the sums first, then what explains them.
ORDER = {
    kind: n
    for n, kind in enumerate(
        [
            "credit_balance",
            "account",
            "invoices_waiting",
            "bookings_waiting",
            "booking_failed",
            "entry_foreign",
            "entry_unknown_ref",
            "entry_missing",
            "entry_changed",
            "entry_duplicate",
            "invoice_missing",
            "invoice_duplicate",
            "invoice_total",
            "invoice_open",
            "invoice_status",
        ]
    )
}


def money(value) -> str:
    return str(Decimal(value or 0).quantize(CENT))


def differs(a: Decimal, b: Decimal) -> bool:
    return abs(Decimal(a) - Decimal(b)) >= CENT


@dataclass
class Difference:
    kind: str
    data: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"kind": self.kind, **self.data}


@dataclass
class Result:
    org: str
    period: str
    date_from: date | None
    date_to: date
    credit: dict | None = None
    accounts: list[dict] = field(default_factory=list)
    vat_codes: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    notes: list[dict] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    def add(self, kind: str, **data) -> None:
        self.differences.append(Difference(kind, data))

    def as_json(self) -> dict:
        return {
            "org": self.org,
            "period": self.period,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat(),
            "credit": self.credit,
            "accounts": self.accounts,
            "vat_codes": self.vat_codes,
            "counts": self.counts,
            "notes": self.notes,
            "differences": [d.as_json() for d in self.differences],
            "difference_count": len(self.differences),
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
        }


def period_bounds(period: str | None, today: date | None = None) -> tuple[date | None, date]:
    """'2026-11' -> (1.11., 30.11.); no period: (None, today)."""
    if not period:
        return None, today or timezone.localdate()
    from aeroledger.tenancy.params import parse_month  # noqa: PLC0415 - only for a period

    return parse_month(period, label=_("period"))


class Reader:
    """What is read from bexio, with progress and a request count."""

    def __init__(self, client, progress=None):
        self.client = client
        self.progress = progress or (lambda step, steps, label, requests: None)
        self.requests = 0
        self.step = 0
        self.steps = 0

    def counting(self):
        previous = self.client.on_request

        def on_request(event):
            self.requests += 1
            if previous is not None:
                previous(event)

        return previous, on_request

    def next(self, label: str) -> None:
        self.step += 1
        self.progress(self.step, self.steps, label, self.requests)


def _account_label(mapping: Mapping, account_id) -> str:
    return mapping.account_name(account_id) if account_id else ""


def _uuid(mapping: Mapping, account_id) -> str | None:
    record = mapping.account(account_id)
    return (record.data.get("uuid") or None) if record is not None else None


def _line_effect(line, account_id: int) -> Decimal:
    amount = Decimal(str(line.amount or 0))
    if line.credit_account_id == account_id:
        return amount
    if line.debit_account_id == account_id:
        return -amount
    return ZERO


def _entry_lines(entry) -> list[dict]:
    return [
        {
            "debit": line.debit_account_id,
            "credit": line.credit_account_id,
            "amount": Decimal(str(line.amount or 0)),
            "tax_id": line.tax_id,
            "tax_account_id": line.tax_account_id,
        }
        for line in entry.entries or []
    ]


def _shape(lines: list[dict]) -> list[tuple]:
    """Lines as comparable values: accounts, amount to the cent, tax (in any order)."""
    return sorted(
        (
            line["debit"] or 0,
            line["credit"] or 0,
            maths.cents(line["amount"]),
            line["tax_id"] or 0,
        )
        for line in lines
    )


def _debit_total(lines: list[dict]) -> Decimal:
    if len(lines) == 1:
        return lines[0]["amount"]
    return sum((line["amount"] for line in lines if line["debit"] is not None), ZERO)


def _lines_json(lines: list[dict], mapping: Mapping) -> list[dict]:
    return [
        {
            "debit": line["debit"],
            "credit": line["credit"],
            "debit_name": _account_label(mapping, line["debit"]),
            "credit_name": _account_label(mapping, line["credit"]),
            "amount": money(line["amount"]),
            "tax_id": line["tax_id"],
        }
        for line in lines
    ]


def _in(day, date_from, date_to) -> bool:
    return day is not None and (date_from is None or day >= date_from) and day <= date_to


def compared_accounts(mapping: Mapping, tax_of, credit_account: int | None) -> dict[int, str]:
    """Revenue accounts (and the top-up clearing account) of the mapping and their VAT accounts."""
    roles: dict[int, str] = {}
    clearing = mapping.top_up_account_id() if mapping.top_ups_need_rebooking else None
    if clearing:
        roles[clearing] = "clearing"
    for charge_type, aircraft_id, aerodrome_id in mapping.rows:
        target = mapping.target_for(charge_type, aircraft_id, aerodrome_id)
        if target is None or not target.account_id:
            continue
        roles.setdefault(target.account_id, "revenue")
        tax = tax_of(target.tax_id)
        if tax is not None and tax.rate and tax.account_id:
            roles[tax.account_id] = "vat"
    roles.pop(credit_account, None)
    return roles


def reconcile(org, *, period: str | None = None, client=None, progress=None, today=None) -> Result:
    """Compare Aeroledger's ledger with bexio's books for `period` ('YYYY-MM'; None: up to today)."""
    from aeroledger.bexio_link.connection.clients import client_for  # noqa: PLC0415 - app loading

    started = time.monotonic()
    date_from, date_to = period_bounds(period, today)
    client = client if client is not None else client_for(org, context="reconcile")
    mapping = mapping_for(org)
    tax_of = ledger.tax_lookup(mapping)
    credit_account = mapping.credit_account_id if org.is_prepaid else None
    roles = compared_accounts(mapping, tax_of, credit_account)
    result = Result(org=org.slug, period=period or "", date_from=date_from, date_to=date_to)
    if org.is_prepaid and not credit_account:
        result.notes.append({"kind": "no_credit_account"})
    reader = Reader(client, progress)
    reader.steps = 3 + len(roles) + (1 if credit_account else 0)
    previous, counter = reader.counting()
    client.on_request = counter
    try:
        reader.next("invoices")
        bexio_invoices = list(client.invoices.iter())
        reader.next("manual entries")
        entries = list(client.manual_entries.iter()) if credit_account or org.is_prepaid else []
        journal: dict[int, list] = {}
        whole: dict[tuple, list] = {}

        def lines_of(account_id: int, since: date | None):
            uuid = _uuid(mapping, account_id)
            if uuid:
                return list(client.journal.iter(date_from=since, date_to=date_to, account_uuid=uuid))
            if (since,) not in whole:
                whole[(since,)] = list(client.journal.iter(date_from=since, date_to=date_to))
            return [
                line
                for line in whole[(since,)]
                if account_id in (line.debit_account_id, line.credit_account_id)
            ]

        if credit_account:
            reader.next("journal: credit account")
            journal[credit_account] = lines_of(credit_account, None)
        for account_id in roles:
            reader.next("journal: " + _account_label(mapping, account_id))
            journal[account_id] = lines_of(account_id, date_from)
    finally:
        client.on_request = previous
    reader.next("comparing")

    bookings = ledger.bookings(org, mapping, until=date_to)
    issued, skipped, ours = _check_invoices(org, mapping, tax_of, result, bexio_invoices, date_from, date_to)
    foreign = _check_entries(
        org, mapping, tax_of, result, bookings, entries, date_from, date_to, credit_account
    )
    for booking in bookings:
        if booking.state == ledger.DONE and _in(booking.date, date_from, date_to):
            maths.add(ours, ledger.effects(booking.lines, tax_of))
    _check_accounts(mapping, result, roles, journal, ours, foreign["period"], issued, skipped)
    if credit_account:
        _check_credit(
            org, mapping, tax_of, result, bookings, entries, journal[credit_account], foreign, date_to
        )
    _vat_codes(mapping, tax_of, result, bookings, issued, date_from, date_to)
    result.differences.sort(key=lambda d: ORDER.get(d.kind, len(ORDER)))
    result.counts.update(
        bexio_invoices=len(bexio_invoices),
        bexio_entries=len(entries),
        journal_lines=sum(len(v) for v in journal.values()),
        bookings=sum(1 for b in bookings if _in(b.date, date_from, date_to)),
    )
    result.requests = reader.requests
    result.seconds = time.monotonic() - started
    return result


# --- invoices ------------------------------------------------------------------------------------
def _check_invoices(org, mapping, tax_of, result: Result, bexio_invoices, date_from, date_to):
    """Each invoice of the period against bexio's; returns the bexio ids whose journal lines count
    (issued) and those to leave out on both sides (drafts, cancelled), and Aeroledger's effects."""
    by_id = {inv.id: inv for inv in bexio_invoices}
    by_ref: dict[str, list] = defaultdict(list)
    for inv in bexio_invoices:
        if inv.api_reference:
            by_ref[str(inv.api_reference)].append(inv)
    paid = (
        InvoicePayment.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    invoices = (
        Invoice.objects.filter(organisation=org, date__lte=date_to)
        .exclude(status__in=[InvoiceStatus.DRAFT])
        .select_related("member", "bexio_invoice")
        .prefetch_related("positions")
        .annotate(paid_sum=Coalesce(Subquery(paid), Value(ZERO), output_field=DecimalField()))
        .order_by("date", "number")
    )
    if date_from is not None:
        invoices = invoices.filter(date__gte=date_from)
    effects: maths.Effects = {}
    issued: dict = {}
    skipped: set[int] = set()
    waiting = {"count": 0, "amount": ZERO}
    drafts = {"count": 0, "amount": ZERO}
    checked = 0
    for inv in invoices:
        link = getattr(inv, "bexio_invoice", None)
        expected = ledger.expected_in_bexio(inv)
        about = {"invoice_id": inv.pk, "number": inv.number, "member": inv.member.display_name}
        if link is None or not link.bexio_id:
            if inv.status == InvoiceStatus.APPROVED and expected > 0:
                waiting["count"] += 1
                waiting["amount"] += expected
            continue
        checked += 1
        about.update(bexio_id=link.bexio_id, document_nr=link.document_nr)
        twins = by_ref.get(str(inv.uuid), [])
        if len(twins) > 1:
            result.add("invoice_duplicate", count=len(twins), ids=sorted(t.id for t in twins), **about)
        found = by_id.get(link.bexio_id)
        if found is None:
            result.add("invoice_missing", ours=money(expected), **about)
            continue
        about["document_nr"] = found.document_nr or link.document_nr
        status = BexioStatus.of(found.kb_item_status_id)
        total = Decimal(str(found.total or 0))
        if differs(total, expected):
            result.add("invoice_total", ours=money(expected), bexio=money(total), **about)
        if status != BexioStatus.CANCELLED and inv.status != InvoiceStatus.CANCELLED:
            open_ours = expected - inv.paid_sum
            open_bexio = total - Decimal(str(found.total_received_payments or 0))
            if differs(open_ours, open_bexio):
                result.add("invoice_open", ours=money(open_ours), bexio=money(open_bexio), **about)
        local = bexio_status.local_status(found.kb_item_status_id)
        if local is not None and inv.status in BEXIO_STATUSES and inv.status != local:
            result.add(
                "invoice_status",
                ours=inv.status,
                bexio=int(found.kb_item_status_id),
                **about,
            )
        if status in ISSUED:
            issued[found.id] = inv
            maths.add(effects, ledger.invoice_effects(inv, mapping, tax_of))
        else:
            skipped.add(found.id)
            if status == BexioStatus.DRAFT:
                drafts["count"] += 1
                drafts["amount"] += total
    if waiting["count"]:
        result.add("invoices_waiting", count=waiting["count"], amount=money(waiting["amount"]))
    # Lines of Aeroledger's invoices of other periods (e.g. cancelled in bexio later): not compared.
    skipped |= {
        bexio_id
        for bexio_id in InvoiceLink.objects.filter(organisation=org, bexio_id__isnull=False).values_list(
            "bexio_id", flat=True
        )
        if bexio_id not in issued
    }
    if drafts["count"]:
        result.notes.append({"kind": "drafts", "count": drafts["count"], "amount": money(drafts["amount"])})
    result.counts["invoices"] = checked
    return issued, skipped, effects


# --- manual entries --------------------------------------------------------------------------------
def _check_entries(org, mapping, tax_of, result, bookings, entries, date_from, date_to, credit_account):
    """Each booking of the period against bexio's manual entry of its reference number; manual entries
    Aeroledger did not make. Returns the effects of those (in the period; and on the credit account up
    to the period's end)."""
    by_ref: dict[str, list] = defaultdict(list)
    for entry in entries:
        by_ref[entry.reference_nr or ""].append(entry)
    ours = {b.reference_nr for b in bookings}
    ours |= set(
        OutboxItem.objects.filter(organisation=org, kind=ItemKind.MANUAL_ENTRY)
        .exclude(status=ItemStatus.CANCELLED)
        .values_list("key", flat=True)
    )
    errors = dict(
        OutboxItem.objects.filter(
            pk__in=[b.item_id for b in bookings if b.state == ledger.FAILED and b.item_id]
        ).values_list("pk", "last_error")
    )
    waiting = {"count": 0, "amount": ZERO}
    for b in bookings:
        if not _in(b.date, date_from, date_to):
            continue
        if b.state == ledger.WAITING:
            waiting["count"] += 1
            waiting["amount"] += b.amount
            continue
        about = {
            "reference_nr": b.reference_nr,
            "label": b.label,
            "date": b.date.isoformat(),
            "item_id": b.item_id,
        }
        if b.state == ledger.FAILED:
            error = errors.get(b.item_id) or ""
            result.add("booking_failed", amount=money(b.amount), error=error[:500], **about)
            continue
        found = by_ref.get(b.reference_nr, [])
        if not found:
            result.add("entry_missing", amount=money(b.amount), lines=_lines_json(b.lines, mapping), **about)
            continue
        if len(found) > 1:
            result.add("entry_duplicate", count=len(found), ids=sorted(e.id for e in found), **about)
        entry = min(found, key=lambda e: e.id)
        theirs = _entry_lines(entry)
        what = []
        if entry.date != b.date:
            what.append("date")
        if _shape(theirs) != _shape(b.lines):
            same_amounts = sorted(maths.cents(x["amount"]) for x in theirs) == sorted(
                maths.cents(x["amount"]) for x in b.lines
            )
            what.append("accounts" if same_amounts else "amount")
        if what:
            result.add(
                "entry_changed",
                what=what,
                ours=money(b.amount),
                bexio=money(_debit_total(theirs)),
                bexio_date=entry.date.isoformat() if entry.date else "",
                bexio_id=entry.id,
                **about,
            )
    if waiting["count"]:
        result.add("bookings_waiting", count=waiting["count"], amount=money(waiting["amount"]))

    prefix = f"AL-{org.slug}-"
    period: maths.Effects = {}
    on_credit = ZERO
    for entry in entries:
        if (entry.reference_nr or "") in ours:
            continue
        lines = _entry_lines(entry)
        eff = ledger.effects(lines, tax_of)
        if entry.date is not None and entry.date <= date_to and credit_account:
            on_credit += eff.get(credit_account, ZERO)
        if not _in(entry.date, date_from, date_to):
            continue
        maths.add(period, eff)
        touches = credit_account is not None and any(
            credit_account in (x["debit"], x["credit"]) for x in lines
        )
        unknown = (entry.reference_nr or "").startswith(prefix)
        if touches or unknown:
            result.add(
                "entry_unknown_ref" if unknown else "entry_foreign",
                bexio_id=entry.id,
                reference_nr=entry.reference_nr or "",
                date=entry.date.isoformat(),
                amount=money(_debit_total(lines)),
                effect=money(eff.get(credit_account, ZERO)) if credit_account else "0.00",
                description=next((ln.description for ln in entry.entries if ln.description), "") or "",
            )
    return {"period": period, "credit": on_credit}


# --- revenue and VAT ---------------------------------------------------------------------------
def _check_accounts(mapping, result, roles, journal, ours, foreign, issued_ids, skipped_ids):
    others: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for account_id, role in roles.items():
        bexio = ZERO
        for line in journal.get(account_id, []):
            effect = _line_effect(line, account_id)
            if line.ref_class is None:  # a manual entry (bexio names none on its journal lines)
                bexio += effect
            elif line.ref_id in issued_ids:
                bexio += effect
            elif line.ref_id not in skipped_ids:
                others[account_id] += effect
        bexio -= foreign.get(account_id, ZERO)
        mine = ours.get(account_id, ZERO)
        row = {
            "account_id": account_id,
            "account": _account_label(mapping, account_id),
            "role": role,
            "ours": money(mine),
            "bexio": money(bexio),
        }
        result.accounts.append(row)
        if differs(mine, bexio):
            result.add("account", difference=money(bexio - mine), **row)
    for account_id, amount in others.items():
        if amount:
            result.notes.append(
                {
                    "kind": "other_documents",
                    "account": _account_label(mapping, account_id),
                    "amount": money(amount),
                }
            )
    for account_id, amount in foreign.items():
        if account_id in roles and amount:
            result.notes.append(
                {
                    "kind": "other_entries",
                    "account": _account_label(mapping, account_id),
                    "amount": money(amount),
                }
            )
    result.accounts.sort(key=lambda r: (["revenue", "clearing", "vat"].index(r["role"]), r["account"]))


# --- the credit account ------------------------------------------------------------------------
def _check_credit(org, mapping, tax_of, result, bookings, entries, lines, foreign, date_to):
    account = mapping.credit_account_id
    balance = ledger.credit_total(org, date_to)
    in_bexio = sum((_line_effect(line, account) for line in lines), ZERO)
    documents = sum((_line_effect(line, account) for line in lines if line.ref_class is not None), ZERO)
    in_bexio_by_ref: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        if entry.date is not None and entry.date <= date_to:
            in_bexio_by_ref[entry.reference_nr or ""] += ledger.effects(_entry_lines(entry), tax_of).get(
                account, ZERO
            )
    by_state: dict[str, Decimal] = defaultdict(lambda: ZERO)  # what each kind of booking should add
    gap: dict[str, Decimal] = defaultdict(lambda: ZERO)  # what bexio has of them less that
    for b in bookings:
        should = ledger.effects(b.lines, tax_of).get(account, ZERO)
        by_state[b.state] += should
        gap[b.state] += in_bexio_by_ref.pop(b.reference_nr, ZERO) - should
    direct = ledger.top_ups_paid(org, date_to) if ledger.top_ups_on_credit_account(mapping) else ZERO
    booked_all = sum(by_state.values(), ZERO)
    causes = {
        "not_booked": -(balance - booked_all - direct),
        "waiting": gap[ledger.WAITING],
        "failed": gap[ledger.FAILED],
        "by_hand": foreign["credit"],
        "changed": gap[ledger.DONE],
        "documents": documents - direct,
    }
    causes["unexplained"] = (in_bexio - balance) - sum(causes.values(), ZERO)
    result.credit = {
        "account": _account_label(mapping, account),
        "ours": money(balance),
        "bexio": money(in_bexio),
    }
    if differs(in_bexio, balance):
        result.add(
            "credit_balance",
            ours=money(balance),
            bexio=money(in_bexio),
            difference=money(in_bexio - balance),
            account=result.credit["account"],
            causes=[{"cause": k, "amount": money(v)} for k, v in causes.items() if differs(v, ZERO)],
        )


# --- revenue per VAT code (Aeroledger's side, for the page) -----------------------------------
def _vat_codes(mapping, tax_of, result, bookings, issued, date_from, date_to):
    rows: dict = defaultdict(lambda: [ZERO, ZERO])
    for inv in issued.values():
        for position in inv.positions.all():
            due = position.amount - position.credit_covered
            target = mapping.target_for(position.charge_type, position.aircraft_id, position.aerodrome_id)
            if due <= 0 or target is None or position.charge_type == ChargeType.TOP_UP:
                continue  # a top-up is no revenue: it becomes the member's credit
            tax = tax_of(target.tax_id)
            vat = maths.vat_included(due, tax.rate if tax else None)
            rows[target.tax_id][0] += due - vat
            rows[target.tax_id][1] += vat
    for b in bookings:
        if b.state != ledger.DONE or b.kind != "usage" or not _in(b.date, date_from, date_to):
            continue
        for line in b.lines:
            if mapping.credit_account_id in (line["debit"], line["credit"]):
                continue  # the credit account's side; the other lines are revenue (a reversal: debited)
            sign = 1 if line["credit"] is not None else -1
            tax = tax_of(line["tax_id"])
            vat = maths.vat_included(line["amount"], tax.rate if tax else None)
            rows[line["tax_id"]][0] += sign * (maths.cents(line["amount"]) - vat)
            rows[line["tax_id"]][1] += sign * vat
    for tax_id, (net, vat) in sorted(rows.items(), key=lambda kv: mapping.tax_name(kv[0])):
        rate = mapping.tax_rate(tax_id)
        result.vat_codes.append(
            {
                "tax": mapping.tax_name(tax_id) or "-",
                "rate": str(rate) if rate is not None else "",
                "net": money(net),
                "vat": money(vat),
            }
        )
