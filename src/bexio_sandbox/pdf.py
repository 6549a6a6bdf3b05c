"""A real (simple) PDF of a kb document (invoice, quote, order, delivery, reminder) with fpdf2."""

from __future__ import annotations

from fpdf import FPDF

from .decimals import to_decimal


def _t(text) -> str:
    text = "" if text is None else str(text)
    text = text.replace("<br/>", "\n").replace("<br>", "\n").replace("<br />", "\n")
    return text.encode("latin-1", "replace").decode("latin-1")


def _money(value) -> str:
    q = to_decimal(value).quantize(to_decimal("0.01"))
    whole, _, frac = f"{q:f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{chr(39).join(groups) or '0'}.{frac}"


LABELS = {
    "kb_invoice": ("Rechnung", "Zahlbar bis", "is_valid_to"),
    "kb_offer": ("Offerte", "Gültig bis", "is_valid_until"),
    "kb_order": ("Auftrag", None, None),
    "kb_delivery": ("Lieferschein", None, None),
}


def invoice_pdf(
    inv: dict, store, company: str, logopaper: bool = True, kind: str = "kb_invoice", label: str | None = None
) -> bytes:
    """`kind` picks the heading and the date line; only invoices (and their reminders) get payment info."""
    title, until_label, until_key = LABELS[kind]
    title = label or title
    profile = store.get("company_profile", company, 1) or {}
    currency = (store.get("currency", company, inv["currency_id"]) or {}).get("name", "CHF")
    pdf = FPDF(format="A4")
    pdf.set_title(inv["document_nr"])
    pdf.set_author(_t(profile.get("name")))
    pdf.set_creator("bexio-sandbox")
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    if logopaper:
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(
            0,
            4,
            _t(
                f"{profile.get('name', '')}\n{profile.get('address') or ''}\n"
                f"{profile.get('postcode') or ''} {profile.get('city') or ''}"
            ),
        )
        pdf.set_text_color(0, 0, 0)
    pdf.ln(8)
    pdf.set_x(120)
    pdf.multi_cell(0, 5, _t(inv["contact_address"]))
    pdf.ln(8)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _t(f"{title} {inv['document_nr']}" + (f" - {inv['title']}" if inv.get("title") else "")))
    pdf.ln(10)
    pdf.set_font("Helvetica", size=9)
    until = f"    {until_label}: {inv.get(until_key)}" if until_label else ""
    pdf.cell(0, 5, _t(f"Datum: {inv['is_valid_from']}{until}"))
    pdf.ln(8)
    pdf.multi_cell(0, 5, _t(inv.get("header")))
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 9)
    for w, label, align in (
        (12, "Pos", "L"),
        (88, "Text", "L"),
        (20, "Menge", "R"),
        (15, "Einh.", "L"),
        (25, "Preis", "R"),
        (25, f"Total {currency}", "R"),
    ):
        pdf.cell(w, 6, label, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", size=9)
    for p in inv["positions"]:
        if p["type"] in ("KbPositionCustom", "KbPositionArticle"):
            pdf.cell(12, 6, _t(p.get("pos") or ""))
            pdf.cell(88, 6, _t(p.get("text"))[:60])
            pdf.cell(20, 6, _t(f"{to_decimal(p['amount']).normalize():f}"), align="R")
            pdf.cell(15, 6, _t(p.get("unit_name") or ""))
            pdf.cell(25, 6, _money(p["unit_price"]), align="R")
            pdf.cell(25, 6, _money(p["position_total"]), align="R")
            pdf.ln()
        elif p["type"] in (
            "KbPositionText",
            "KbPositionSubposition",
            "KbPositionSubtotal",
            "KbPositionDiscount",
        ):
            pdf.cell(12, 6, _t(p.get("pos") or ""))
            pdf.multi_cell(0, 6, _t(p.get("text")))
        elif p["type"] == "KbPositionPagebreak":
            pdf.add_page()
    pdf.ln(4)
    rows = [("Total netto", inv["total_net"])]
    rows += [(f"MWST {t['percentage']}%", t["value"]) for t in inv["taxs"]]
    if inv["total_rounding_difference"]:
        rows.append(("Rundungsdifferenz", inv["total_rounding_difference"]))
    rows.append((f"Total {currency}", inv["total"]))
    for label, value in rows:
        pdf.cell(160, 6, _t(label), align="R")
        pdf.cell(25, 6, _money(value), align="R")
        pdf.ln()
    pdf.ln(6)
    pdf.multi_cell(0, 5, _t(inv.get("footer")))
    bank = store.get("bank_account", company, inv.get("bank_account_id") or 1)
    if bank and kind == "kb_invoice":
        pdf.ln(6)
        pdf.multi_cell(
            0,
            5,
            _t(
                f"Zahlbar an {bank['owner']}, IBAN {bank.get('qr_invoice_iban') or bank['iban_nr']}, "
                f"Referenz {inv['document_nr']}"
            ),
        )
    return bytes(pdf.output())
