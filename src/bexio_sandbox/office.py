"""/_sandbox/office: a small HTML view of a company (contacts, invoices) where a person can issue,
cancel and record a payment, as in bexio's web office. Not part of bexio's API."""

from __future__ import annotations

import html

from flask import Blueprint, Response, redirect, request

from . import seed
from .common import dec, f6, sb, today

bp = Blueprint("office", __name__, url_prefix="/_sandbox/office")

STATUS = {7: "Entwurf", 8: "Offen", 9: "Bezahlt", 16: "Teilweise bezahlt", 19: "Storniert", 31: "Überfällig"}
STYLE = """<style>body{font-family:sans-serif;margin:2rem;color:#223}
table{border-collapse:collapse;margin:1rem 0}
td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}.num{text-align:right}
.note{color:#667;font-size:.8rem} form{display:inline} .err{color:#b00}</style>"""


def _page(title: str, body: str) -> Response:
    doc = (
        f'<!DOCTYPE html><html lang="de-CH"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
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
    store = sb().store
    tabs = " | ".join(
        f'<a href="?company={c}">{html.escape(i["name"])}</a>' for c, i in seed.COMPANIES.items()
    )
    msg = request.args.get("msg")
    body = [f"<p>{tabs}</p>"]
    if msg:
        body.append(f'<p class="err">{html.escape(msg)}</p>')
    body.append(
        "<h2>Rechnungen</h2><table><tr><th>Nr.</th><th>Kontakt</th><th>Titel</th><th>Status</th>"
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
                f'value="{f6(inv["total_remaining_payments"])[:-4]}"><input type="date" name="date" '
                f'value="{today()}"><button>Zahlung erfassen</button></form>'
            )
        body.append(
            f'<tr><td><a href="{base}">{html.escape(inv["document_nr"])}</a></td>'
            f"<td>{html.escape((inv['contact_address'] or '').split(chr(10))[0])}</td>"
            f"<td>{html.escape(inv.get('title') or '')}</td><td>{STATUS.get(status, status)}</td>"
            f'<td class="num">{f6(inv["total"])[:-4]}</td>'
            f'<td class="num">{f6(inv["total_remaining_payments"])[:-4]}</td>'
            f"<td>{' '.join(actions)}</td></tr>"
        )
    body.append(
        "</table><h2>Kontakte</h2><table><tr><th>Nr.</th><th>Name</th><th>Ort</th><th>E-Mail</th>"
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
    body.append("</table>")
    return _page(seed.COMPANIES[company]["name"], "".join(body))


DOC_LABELS = {"invoice": "Rechnung", "offer": "Offerte"}
OFFER_STATUS = {1: "Entwurf", 2: "Offen", 3: "Bestätigt", 4: "Abgelehnt"}


@bp.get("/<any(invoice,offer):doc>/<company>/<int:id_>")
def invoice_detail(doc, company, id_):
    """The page a sent document's `network_link` points to (invoices with their payments, quotes)."""
    request.environ["sandbox.company"] = company
    inv = sb().store.get(f"kb_{doc}", company, id_) if company in seed.COMPANIES else None
    if inv is None:
        return _page("Nicht gefunden", "<p>Dieses Dokument gibt es nicht.</p>")
    rows = "".join(
        f"<tr><td>{html.escape(p.get('pos') or '')}</td><td>{html.escape(p.get('text') or '')}</td>"
        f'<td class="num">{f6(p["amount"]) if "amount" in p else ""}</td>'
        f'<td class="num">{f6(p["position_total"]) if "position_total" in p else ""}</td></tr>'
        for p in inv["positions"]
    )
    pays = "".join(f"<li>{html.escape(p['date'])}: {f6(p['value'])}</li>" for p in inv.get("payments", ()))
    if doc == "invoice":
        state = f"{STATUS.get(inv['kb_item_status_id'])}; Total {f6(inv['total'])}; "
        state += f"offen {f6(inv['total_remaining_payments'])}"
        payments = f"<h2>Zahlungen</h2><ul>{pays}</ul>"
    else:
        state, payments = f"{OFFER_STATUS.get(inv['kb_item_status_id'])}; Total {f6(inv['total'])}", ""
    body = (
        f"<p>{html.escape(inv['contact_address']).replace(chr(10), '<br>')}</p>"
        f"<p>Status: {state}</p><table><tr><th>Pos</th><th>Text</th>"
        f'<th class="num">Menge</th><th class="num">Total</th></tr>{rows}</table>'
        f"{payments}<p><a href='/_sandbox/office/?company={company}'>zurück</a></p>"
    )
    return _page(f"{DOC_LABELS[doc]} {inv['document_nr']}", body)


def _act(company: str, id_: int, action: str) -> str | None:
    from . import invoices

    request.environ["sandbox.company"] = company
    store = sb().store
    with store.tx():
        inv = store.get("kb_invoice", company, id_)
        if inv is None:
            return "Rechnung nicht gefunden"
        status = inv["kb_item_status_id"]
        if action == "issue":
            if status != 7:
                return "Nur Entwürfe können ausgestellt werden"
            inv["kb_item_status_id"] = 8
        elif action == "cancel":
            if status not in (8, 16, 31):
                return "Nur offene Rechnungen können storniert werden"
            inv["kb_item_status_id"] = 19
        elif action == "payment":
            if status not in (8, 16, 31):
                return "Zahlungen nur auf offenen Rechnungen"
            try:
                value, raw = dec(request.form.get("value"), "value", required=True)
            except Exception:  # noqa: BLE001 (ApiError: show the message on the page)
                return "Ungültiger Betrag"
            if value <= 0:
                return "Ungültiger Betrag"
            invoices.add_payment(inv, value, raw, request.form.get("date") or today(), 1)
        invoices.save(inv)
    return None


@bp.post("/invoice/<company>/<int:id_>/<action>")
def invoice_action(company, id_, action):
    if company not in seed.COMPANIES or action not in ("issue", "cancel", "payment"):
        return _page("Fehler", "<p>Unbekannte Aktion.</p>")
    problem = _act(company, id_, action)
    target = f"/_sandbox/office/?company={company}"
    if problem:
        from urllib.parse import quote

        target += "&msg=" + quote(problem)
    return redirect(target, 303)
