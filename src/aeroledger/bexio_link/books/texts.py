"""The differences of a reconciliation in the treasurer's words: what, why, what to do.

A stored result keeps each difference as a kind and its facts (`reconcile.Difference`); the words
are made here when the page or the command shows it, in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aeroledger.bexio_link.transfer.invoices import status as bexio_status
from aeroledger.billing.models import InvoiceStatus
from aeroledger.tenancy.templatetags.money import format_chf


@dataclass
class Described:
    kind: str
    title: str
    cause: str
    action: str
    ours: str = ""  # amounts or values, already formatted
    bexio: str = ""
    details: list[str] | None = None
    link: tuple | None = None  # (url name, args)


def chf(value) -> str:
    return "CHF " + format_chf(value) if value not in (None, "") else ""


def day(value) -> str:
    """'2026-11-30' -> '30.11.2026' (the Swiss way)."""
    try:
        return date.fromisoformat(str(value)).strftime("%d.%m.%Y")
    except ValueError:
        return str(value or "")


def _invoice(d: dict) -> str:
    number = d.get("number") or ""
    nr = d.get("document_nr")
    return f"{number} ({_('bexio')} {nr})" if nr else number


CAUSES = {
    "not_booked": lambda: _(
        "Credit that members had before bexio was connected was never booked in bexio. "
        "Book the opening balance of members' credit below."
    ),
    "waiting": lambda: _(
        "Bookings waiting for the transfer to bexio. Start the transfer (Bexio > Transfer)."
    ),
    "failed": lambda: _("Bookings that bexio refused. See the transfer log, fix what it says and retry."),
    "by_hand": lambda: _("Bookings on the credit account made by hand in bexio (listed below)."),
    "changed": lambda: _("Bookings of Aeroledger changed or deleted in bexio (listed below)."),
    "documents": lambda: _(
        "Invoices or payments in bexio booked on the credit account (top-ups mapped to it are booked "
        "there when the invoice is issued, but are credit only once paid)."
    ),
    "unexplained": lambda: _(
        "Not explained by the bookings bexio lists: check the credit account's journal in bexio."
    ),
}


def cause_text(code: str) -> str:
    make = CAUSES.get(code)
    return make() if make else code


def describe(d: dict) -> Described:
    kind = d.get("kind", "")
    maker = globals().get(f"_{kind}")
    if maker is None:
        return Described(kind, kind, "", "")
    return maker(d)


def _credit_balance(d):
    causes = [f"{chf(c['amount'])}: {cause_text(c['cause'])}" for c in d.get("causes", [])]
    return Described(
        d["kind"],
        _("Members' credit and the credit account %(account)s differ by %(amount)s")
        % {"account": d.get("account", ""), "amount": chf(d["difference"])},
        _(
            "The sum of all members' credit in Aeroledger is not the balance of the credit account in "
            "bexio's journal on the same day. What makes up the difference:"
        ),
        _("Deal with each cause below; then run the reconciliation again."),
        chf(d["ours"]),
        chf(d["bexio"]),
        details=causes,
    )


def _account(d):
    if d.get("role") == "clearing":
        title = _("The top-up clearing account %(account)s differs") % {"account": d["account"]}
        cause = _(
            "Top-up invoices issued in bexio less the top-ups re-booked to the members' credit in the "
            "period are not what bexio's journal shows on this account."
        )
    elif d.get("role") == "vat":
        title = _("VAT on %(account)s differs") % {"account": d["account"]}
        cause = _(
            "The VAT Aeroledger invoiced and booked on this account in the period is not what bexio's "
            "journal shows (VAT of the invoices issued in bexio and of the credit used)."
        )
    else:
        title = _("Revenue on %(account)s differs") % {"account": d["account"]}
        cause = _(
            "The revenue (without VAT) Aeroledger invoiced and booked on this account in the period is "
            "not what bexio's journal shows."
        )
    return Described(
        d["kind"],
        title,
        cause,
        _(
            "Look at the bookings and invoices listed here as changed, missing or made by hand; an "
            "invoice changed in bexio after the transfer, or a mapping changed since, also shows here."
        ),
        chf(d["ours"]),
        chf(d["bexio"]),
    )


def _inv_link(d):
    return ("bexio_transfer:invoice", (d["invoice_id"],)) if d.get("invoice_id") else None


def _invoice_missing(d):
    return Described(
        d["kind"],
        _("Invoice %(invoice)s is no longer in bexio") % {"invoice": _invoice(d)},
        _("Aeroledger transferred this invoice, but bexio does not list it any more: it was deleted there."),
        _(
            "If the member still owes it, create a new invoice here and transfer it; otherwise cancel it "
            "here with a credit note so both books agree."
        ),
        chf(d.get("ours")),
        _("none"),
        link=_inv_link(d),
    )


def _invoice_duplicate(d):
    return Described(
        d["kind"],
        ngettext(
            "Invoice %(invoice)s is %(count)s time in bexio",
            "Invoice %(invoice)s is %(count)s times in bexio",
            d["count"],
        )
        % {"invoice": _invoice(d), "count": d["count"]},
        _("bexio has more than one invoice carrying this invoice's reference (bexio ids %(ids)s).")
        % {"ids": ", ".join(str(i) for i in d.get("ids", []))},
        _("Cancel the extra invoices in bexio (keep bexio id %(id)s).") % {"id": d.get("bexio_id")},
        link=_inv_link(d),
    )


def _invoice_total(d):
    return Described(
        d["kind"],
        _("Invoice %(invoice)s has another total in bexio") % {"invoice": _invoice(d)},
        _("The invoice was changed in bexio after the transfer (positions, discount or rounding)."),
        _("Change it back in bexio, or, if the change is right, correct the member's account here."),
        chf(d["ours"]),
        chf(d["bexio"]),
        link=_inv_link(d),
    )


def _invoice_open(d):
    return Described(
        d["kind"],
        _("Invoice %(invoice)s: the open amount differs") % {"invoice": _invoice(d)},
        _(
            "The payments bexio received for this invoice are not the ones Aeroledger knows: a payment "
            "was recorded or deleted in bexio since the last status update."
        ),
        _("Update the status from bexio (Bexio > Transfer), then run the reconciliation again."),
        chf(d["ours"]),
        chf(d["bexio"]),
        link=_inv_link(d),
    )


def _invoice_status(d):
    try:
        ours = str(InvoiceStatus(d["ours"]).label)
    except ValueError:
        ours = d["ours"]
    return Described(
        d["kind"],
        _("Invoice %(invoice)s has another status in bexio") % {"invoice": _invoice(d)},
        _("bexio changed the invoice's status since the last status update."),
        _("Update the status from bexio (Bexio > Transfer), then run the reconciliation again."),
        ours,
        bexio_status.label(d["bexio"]),
        link=_inv_link(d),
    )


def _invoices_waiting(d):
    return Described(
        d["kind"],
        ngettext(
            "%(count)s approved invoice is not in bexio yet",
            "%(count)s approved invoices are not in bexio yet",
            d["count"],
        )
        % {"count": d["count"]},
        _("They are approved here but were not transferred (or their transfer has not finished)."),
        _("Start the transfer (Bexio > Transfer)."),
        chf(d["amount"]),
        chf(0),
        link=("bexio_transfer:transfers", ()),
    )


def _lines(d):
    return [
        _("debit %(debit)s, credit %(credit)s: %(amount)s")
        % {
            "debit": line.get("debit_name") or line.get("debit") or "-",
            "credit": line.get("credit_name") or line.get("credit") or "-",
            "amount": chf(line["amount"]),
        }
        for line in d.get("lines", [])
    ]


def _entry_missing(d):
    return Described(
        d["kind"],
        _("Booking %(ref)s is no longer in bexio") % {"ref": d["reference_nr"]},
        _(
            "Aeroledger booked it (%(label)s, %(date)s), but bexio does not list it any more: it was "
            "deleted there."
        )
        % {"label": d.get("label", ""), "date": day(d.get("date"))},
        _(
            "Book it again in bexio by hand with the same reference number and lines (below), or, if "
            "the deletion was right, book the same change here as a correction of the member's credit."
        ),
        chf(d["amount"]),
        _("none"),
        details=_lines(d),
    )


def _entry_duplicate(d):
    return Described(
        d["kind"],
        ngettext(
            "Booking %(ref)s is %(count)s time in bexio",
            "Booking %(ref)s is %(count)s times in bexio",
            d["count"],
        )
        % {"ref": d["reference_nr"], "count": d["count"]},
        _("bexio lists more than one manual entry with this reference number (bexio ids %(ids)s).")
        % {"ids": ", ".join(str(i) for i in d.get("ids", []))},
        _("Delete the extra manual entries in bexio, keeping the first one."),
    )


def _entry_changed(d):
    words = {"date": _("date"), "accounts": _("accounts or VAT"), "amount": _("amount")}
    return Described(
        d["kind"],
        _("Booking %(ref)s was changed in bexio") % {"ref": d["reference_nr"]},
        _("Changed in bexio: %(what)s (Aeroledger booked it on %(date)s, bexio has it on %(bexio_date)s).")
        % {
            "what": ", ".join(str(words.get(w, w)) for w in d.get("what", [])),
            "date": day(d.get("date")),
            "bexio_date": day(d.get("bexio_date")),
        },
        _(
            "Change it back in bexio; or, if the change is right, book the same change here (a "
            "correction of the member's credit) so that both books agree."
        ),
        chf(d["ours"]),
        chf(d["bexio"]),
    )


def _entry_foreign(d):
    return Described(
        d["kind"],
        _("A booking on the credit account was made by hand in bexio (%(ref)s, %(date)s)")
        % {"ref": d.get("reference_nr") or _("no reference"), "date": day(d.get("date"))},
        _(
            "Aeroledger did not make this manual entry (%(text)s); it changes the credit account by "
            "%(amount)s."
        )
        % {"text": d.get("description") or "-", "amount": chf(d.get("effect"))},
        _(
            "If it is money of a member, record it here (a deposit, refund or correction: Aeroledger "
            "books it in bexio itself) and delete the hand booking in bexio; otherwise book it to "
            "another account in bexio."
        ),
        "",
        chf(d.get("amount")),
    )


def _entry_unknown_ref(d):
    return Described(
        d["kind"],
        _("A manual entry in bexio carries Aeroledger's reference %(ref)s") % {"ref": d.get("reference_nr")},
        _("Aeroledger has no booking with this reference number (a copied entry, or one made by hand)."),
        _("Check it in bexio and delete it if it is not right."),
        "",
        chf(d.get("amount")),
    )


def _bookings_waiting(d):
    return Described(
        d["kind"],
        ngettext(
            "%(count)s booking of members' credit is not in bexio yet",
            "%(count)s bookings of members' credit are not in bexio yet",
            d["count"],
        )
        % {"count": d["count"]},
        _("They wait for the transfer to bexio (credit used by approved invoices, deposits, top-ups paid)."),
        _("Start the transfer (Bexio > Transfer)."),
        chf(d["amount"]),
        chf(0),
        link=("bexio_transfer:transfers", ()),
    )


def _booking_failed(d):
    return Described(
        d["kind"],
        _("Booking %(ref)s needs attention") % {"ref": d["reference_nr"]},
        _("bexio refused it: %(error)s") % {"error": d.get("error") or "-"},
        _(
            "Fix what bexio says (mapping, accounts, the date's business year), then retry it in the "
            "transfer log."
        ),
        chf(d["amount"]),
        chf(0),
        link=("bexio_transfer:log", ()),
    )


NOTES = {
    "no_credit_account": lambda n: _(
        "No account for members' credit is chosen on the mapping page: members' credit and its "
        "bookings are not compared."
    ),
    "drafts": lambda n: (
        ngettext(
            "%(count)s invoice is a draft in bexio (%(amount)s): bexio books its revenue when it is issued "
            "there; it is left out of the revenue comparison until then.",
            "%(count)s invoices are drafts in bexio (%(amount)s): bexio books their revenue when they are "
            "issued there; they are left out of the revenue comparison until then.",
            n["count"],
        )
        % {"count": n["count"], "amount": chf(n["amount"])}
    ),
    "other_documents": lambda n: (
        _("%(account)s also carries %(amount)s from bexio documents Aeroledger did not make (not compared).")
        % {"account": n["account"], "amount": chf(n["amount"])}
    ),
    "other_entries": lambda n: (
        _("%(account)s also carries %(amount)s from manual entries Aeroledger did not make (not compared).")
        % {"account": n["account"], "amount": chf(n["amount"])}
    ),
}


def note_text(note: dict) -> str:
    make = NOTES.get(note.get("kind"))
    return make(note) if make else str(note)
