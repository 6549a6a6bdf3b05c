"""/_sandbox/office: a small HTML view of a company (contacts, invoices) where a person can issue,
cancel and record a payment, as in bexio's web office. Not part of bexio's API."""

from __future__ import annotations

import html
from decimal import Decimal
from urllib.parse import quote

from flask import Blueprint, Response, redirect, request

from . import journal, manual_entries, payments, seed
from .clock import today
from .context import sandbox
from .decimals import fixed6, parse_decimal
from .documents import save, set_status
from .responses import ApiError

bp = Blueprint("office", __name__, url_prefix="/_sandbox/office")

STATUS = {7: "Entwurf", 8: "Offen", 9: "Bezahlt", 16: "Teilweise bezahlt", 19: "Storniert", 31: "Überfällig"}
STYLE = """<style>body{font-family:sans-serif;margin:2rem;color:#223}
table{border-collapse:collapse;margin:1rem 0}
td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}.num{text-align:right}
.note{color:#667;font-size:.8rem} form{display:inline} .err{color:#b00}
.scroll{overflow-x:auto;max-width:100%} .num,.day{white-space:nowrap}
form.booking{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
form.booking label{display:flex;flex-direction:column;font-size:.85rem}
@media (max-width:600px){body{margin:.8rem} td,th{padding:.25rem .35rem;font-size:.85rem}}</style>"""


def _page(title: str, body: str) -> Response:
    doc = (
        f'<!DOCTYPE html><html lang="de-CH"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'{STYLE}</head><body><p class="note">bexio sandbox office (local stand-in, not bexio)</p>'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(doc, mimetype="text/html")


def _company() -> str:
    company = request.values.get("company") or seed.DEMO_COMPANY
    if company not in seed.COMPANIES:
        company = seed.DEMO_COMPANY
    request.environ["sandbox.company"] = company
    return company


@bp.get("/")
def office():
    company = _company()
    store = sandbox().store
    tabs = " | ".join(
        f'<a href="?company={c}">{html.escape(i["name"])}</a>' for c, i in seed.COMPANIES.items()
    )
    msg = request.args.get("msg")
    body = [f"<p>{tabs}</p>"]
    if msg:
        body.append(f'<p class="err">{html.escape(msg)}</p>')
    body.append(
        '<h2>Rechnungen</h2><div class="scroll"><table><tr><th>Nr.</th><th>Kontakt</th><th>Titel</th>'
        "<th>Status</th>"
        '<th class="num">Total</th><th class="num">Offen</th><th>Aktionen</th></tr>'
    )
    for inv in store.all("kb_invoice", company):
        status = inv["kb_item_status_id"]
        actions = []
        base = f"/_sandbox/office/invoice/{company}/{inv['id']}"
        if status == 7:
            actions.append(f'<form method="post" action="{base}/issue"><button>Ausstellen</button></form>')
        if status in (8, 16, 31):
            actions.append(f'<form method="post" action="{base}/cancel"><button>Stornieren</button></form>')
            actions.append(
                f'<form method="post" action="{base}/payment"><input name="value" size="8" '
                f'value="{fixed6(inv["total_remaining_payments"])[:-4]}"><input type="date" name="date" '
                f'value="{today()}"><button>Zahlung erfassen</button></form>'
            )
        body.append(
            f'<tr><td><a href="{base}">{html.escape(inv["document_nr"])}</a></td>'
            f"<td>{html.escape((inv['contact_address'] or '').split(chr(10))[0])}</td>"
            f"<td>{html.escape(inv.get('title') or '')}</td><td>{STATUS.get(status, status)}</td>"
            f'<td class="num">{fixed6(inv["total"])[:-4]}</td>'
            f'<td class="num">{fixed6(inv["total_remaining_payments"])[:-4]}</td>'
            f"<td>{' '.join(actions)}</td></tr>"
        )
    body.append(
        '</table></div><h2>Kontakte</h2><div class="scroll"><table><tr><th>Nr.</th><th>Name</th><th>Ort</th>'
        "<th>E-Mail</th>"
        "<th>Archiviert</th></tr>"
    )
    for c in store.all("contact", company):
        name = (
            " ".join(x for x in (c.get("name_2"), c["name_1"]) if x)
            if c["contact_type_id"] == 2
            else c["name_1"]
        )
        body.append(
            f"<tr><td>{html.escape(c['nr'])}</td><td>{html.escape(name)}</td>"
            f"<td>{html.escape(c.get('city') or '')}</td><td>{html.escape(c.get('mail') or '')}</td>"
            f"<td>{'ja' if c.get('is_archived') else ''}</td></tr>"
        )
    body.append("</table></div>")
    body.append(books_section(company, show_all=request.args.get("journal") == "all"))
    return _page(seed.COMPANIES[company]["name"], "".join(body))


ACCOUNT_TYPES = {1: "Ertrag", 2: "Aufwand", 3: "Aktiven", 4: "Passiven", 5: "Abschluss"}
JOURNAL_ROWS = 100


def _chf(value) -> str:
    return f"{Decimal(value).quantize(Decimal('0.01')):,.2f}".replace(",", "'")


def books_section(company: str, show_all: bool = False) -> str:
    """Account balances, the journal (newest last) and a form for a manual single entry."""
    accounts = {a["id"]: a for a in sandbox().store.all("account", company)}

    def name(account_id) -> str:
        acc = accounts.get(account_id)
        return html.escape(f"{acc['account_no']} {acc['name']}") if acc else ""

    out = [
        '<h2 id="saldi">Kontensaldi</h2><p class="note">Saldo = Soll − Haben (Passiven, Ertrag: negativ)</p>'
        '<div class="scroll"><table><tr><th>Konto</th><th>Typ</th>'
        '<th class="num">Soll</th><th class="num">Haben</th><th class="num">Saldo</th></tr>'
    ]
    totals = journal.balances()
    for account_id in sorted(totals, key=lambda i: accounts.get(i, {}).get("account_no", "")):
        debit, credit = totals[account_id]
        kind = ACCOUNT_TYPES.get(accounts.get(account_id, {}).get("account_type"), "")
        out.append(
            f"<tr><td>{name(account_id)}</td><td>{kind}</td><td class='num'>{_chf(debit)}</td>"
            f"<td class='num'>{_chf(credit)}</td><td class='num'>{_chf(debit - credit)}</td></tr>"
        )
    out.append("</table></div>")
    lines = journal.lines()
    shown = lines if show_all else lines[-JOURNAL_ROWS:]
    more = ""
    if not show_all and len(lines) > JOURNAL_ROWS:
        link = f'<a href="?company={company}&journal=all#journal">alle</a>'
        more = f" (die letzten {JOURNAL_ROWS} von {len(lines)}, {link})"
    out.append(
        f'<h2 id="journal">Journal</h2><p class="note">{len(lines)} Buchungen{more}</p><div class="scroll">'
        "<table><tr><th>Nr.</th><th>Datum</th><th>Soll</th><th>Haben</th><th>Text</th>"
        '<th class="num">Betrag</th><th>Beleg</th></tr>'
    )
    for line in shown:
        ref = f"{line['ref_class']} {line['ref_id']}" if line["ref_class"] else "Manuelle Buchung"
        out.append(
            f"<tr><td>{line['id']}</td><td class='day'>{line['date']}</td>"
            f"<td>{name(line['debit_account_id'])}</td><td>{name(line['credit_account_id'])}</td>"
            f"<td>{html.escape(line['description'] or '')}</td>"
            f"<td class='num'>{_chf(line['amount'])}</td><td>{html.escape(ref)}</td></tr>"
        )
    out.append("</table></div>")
    options = "".join(
        f'<option value="{a["id"]}">{html.escape(a["account_no"] + " " + a["name"])}</option>'
        for a in sorted(accounts.values(), key=lambda a: a["account_no"])
        if a.get("account_type") != 5
    )
    taxes = "".join(
        f'<option value="{t["id"]}">{html.escape(t["display_name"])}</option>'
        for t in sandbox().store.all("tax", company)
        if t["is_active"] and t["type"] == "sales_tax"
    )
    out.append(
        '<h2 id="buchen">Manuelle Buchung</h2><p class="note">Eine Einzelbuchung wie unter Buchhaltung &gt; '
        "Manuelle Buchungen (z. B. um eine Differenz zur Buchhaltung von Aeroledger zu erzeugen).</p>"
        f'<form class="booking" method="post" action="/_sandbox/office/manual_entry/{company}">'
        f'<label>Datum <input type="date" name="date" value="{today()}" required></label>'
        f'<label>Soll <select name="debit_account_id">{options}</select></label>'
        f'<label>Haben <select name="credit_account_id">{options}</select></label>'
        '<label>Betrag <input name="amount" size="8" required></label>'
        f'<label>MWST <select name="tax_id"><option value="">keine</option>{taxes}</select></label>'
        '<label>Text <input name="description" size="24"></label>'
        '<label>Referenz <input name="reference_nr" size="10"></label>'
        "<button>Buchen</button></form>"
    )
    return "".join(out)


@bp.post("/manual_entry/<company>")
def manual_entry(company):
    """A manual single entry booked by a person (created_by user 1, the company's admin)."""
    if company not in seed.COMPANIES:
        return _page("Fehler", "<p>Unbekannte Firma.</p>")
    request.environ["sandbox.company"] = company
    form = request.form

    def number(key):
        return int(form[key]) if (form.get(key) or "").isdigit() else None

    data = {
        "type": "manual_single_entry",
        "date": form.get("date") or today(),
        "reference_nr": form.get("reference_nr") or None,
        "entries": [
            {
                "debit_account_id": number("debit_account_id"),
                "credit_account_id": number("credit_account_id"),
                "tax_id": number("tax_id"),
                "amount": (form.get("amount") or "").replace("'", "").strip(),
                "description": form.get("description") or "",
            }
        ],
    }
    target = f"/_sandbox/office/?company={company}"
    try:
        with sandbox().store.tx():
            manual_entries.create_entry(data, by_user=1)
    except ApiError as exc:
        return redirect(target + "&msg=" + quote("; ".join(exc.errors or [exc.message])) + "#buchen", 303)
    return redirect(target + "#journal", 303)


DOC_LABELS = {"invoice": "Rechnung", "offer": "Offerte"}
OFFER_STATUS = {1: "Entwurf", 2: "Offen", 3: "Bestätigt", 4: "Abgelehnt"}


@bp.get("/<any(invoice,offer):doc>/<company>/<int:id_>")
def invoice_detail(doc, company, id_):
    """The page a sent document's `network_link` points to (invoices with their payments, quotes)."""
    request.environ["sandbox.company"] = company
    inv = sandbox().store.get(f"kb_{doc}", company, id_) if company in seed.COMPANIES else None
    if inv is None:
        return _page("Nicht gefunden", "<p>Dieses Dokument gibt es nicht.</p>")
    rows = "".join(
        f"<tr><td>{html.escape(p.get('pos') or '')}</td><td>{html.escape(p.get('text') or '')}</td>"
        f'<td class="num">{fixed6(p["amount"]) if "amount" in p else ""}</td>'
        f'<td class="num">{fixed6(p["position_total"]) if "position_total" in p else ""}</td></tr>'
        for p in inv["positions"]
    )
    pays = "".join(
        f"<li>{html.escape(p['date'])}: {fixed6(p['value'])}</li>" for p in inv.get("payments", ())
    )
    if doc == "invoice":
        state = f"{STATUS.get(inv['kb_item_status_id'])}; Total {fixed6(inv['total'])}; "
        state += f"offen {fixed6(inv['total_remaining_payments'])}"
        payments = f"<h2>Zahlungen</h2><ul>{pays}</ul>"
    else:
        state, payments = f"{OFFER_STATUS.get(inv['kb_item_status_id'])}; Total {fixed6(inv['total'])}", ""
    body = (
        f"<p>{html.escape(inv['contact_address']).replace(chr(10), '<br>')}</p>"
        f"<p>Status: {state}</p><table><tr><th>Pos</th><th>Text</th>"
        f'<th class="num">Menge</th><th class="num">Total</th></tr>{rows}</table>'
        f"{payments}<p><a href='/_sandbox/office/?company={company}'>zurück</a></p>"
    )
    return _page(f"{DOC_LABELS[doc]} {inv['document_nr']}", body)


def _act(company: str, id_: int, action: str) -> str | None:
    request.environ["sandbox.company"] = company
    store = sandbox().store
    with store.tx():
        inv = store.get("kb_invoice", company, id_)
        if inv is None:
            return "Rechnung nicht gefunden"
        status = inv["kb_item_status_id"]
        if action == "issue":
            if status != 7:
                return "Nur Entwürfe können ausgestellt werden"
            set_status(inv, 8)
        elif action == "cancel":
            if status not in (8, 16, 31):
                return "Nur offene Rechnungen können storniert werden"
            set_status(inv, 19)
        elif action == "payment":
            if status not in (8, 16, 31):
                return "Zahlungen nur auf offenen Rechnungen"
            try:
                value, raw = parse_decimal(request.form.get("value"), "value", required=True)
            except Exception:  # noqa: BLE001 (ApiError: show the message on the page)
                return "Ungültiger Betrag"
            if value <= 0:
                return "Ungültiger Betrag"
            payments.add_payment(inv, value, raw, request.form.get("date") or today(), 1)
        save(inv)
    return None


@bp.post("/invoice/<company>/<int:id_>/<action>")
def invoice_action(company, id_, action):
    if company not in seed.COMPANIES or action not in ("issue", "cancel", "payment"):
        return _page("Fehler", "<p>Unbekannte Aktion.</p>")
    problem = _act(company, id_, action)
    target = f"/_sandbox/office/?company={company}"
    if problem:
        target += "&msg=" + quote(problem)
    return redirect(target, 303)
