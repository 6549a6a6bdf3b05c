"""The statement a member gets when credit pays the whole invoice (no bexio invoice of CHF 0.00).

One A4 page (more when long) in the member's language: the club's and the member's address, the
positions grouped by flight, what the credit paid, the amount due (0.00) and the VAT included per
rate, so the member sees the same figures as on the invoice page. fpdf2's core fonts cover
Latin-1, which holds every letter of the four languages; anything else is replaced, never raised.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from aeroledger.tenancy.templatetags.money import format_chf, price, qty

from . import vat
from .grouping import position_groups

PAGE_WIDTH = 180  # mm between the margins
COLUMNS = (98, 18, 22, 22, 20)  # text, quantity, unit price, amount, paid from credit


def _latin1(text: str) -> str:
    return (
        str(text).replace("\u2013", "-").replace("\u2019", "'").encode("latin-1", "replace").decode("latin-1")
    )


class _Page(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=20)

    def footer(self):
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, _latin1(f"{self.footer_text}   {self.page_no()}/{{nb}}"), align="C")


def _row(pdf: _Page, cells, *, bold: bool = False, fill: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 9)
    for i, (width, text) in enumerate(zip(COLUMNS, cells, strict=True)):
        pdf.cell(width, 6, _latin1(text), border="B", align="L" if i == 0 else "R", fill=fill)
    pdf.ln()


def statement_pdf(invoice) -> bytes:
    """The statement of `invoice` as PDF bytes, in the invoice's language."""
    org, member = invoice.organisation, invoice.member
    positions = list(invoice.positions.select_related("charge__flight__aircraft").order_by("pos", "id"))
    with translation.override(invoice.language or member.language):
        pdf = _Page(
            " · ".join(p for p in (org.name, org.vat_number and f"{_('VAT number')} {org.vat_number}") if p)
        )
        pdf.alias_nb_pages()
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, _latin1(org.name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=9)
        for line in (f"{org.street} {org.house_number}".strip(), f"{org.postcode} {org.city}".strip()):
            if line:
                pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(12)
        pdf.set_x(110)
        address = [
            member.letter_name(),
            member.address_addition,
            f"{member.street} {member.house_number}".strip(),
            f"{member.postcode} {member.city}".strip(),
        ]
        pdf.multi_cell(85, 5, _latin1("\n".join(a for a in address if a)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(10)
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(
            0,
            8,
            _latin1(_("Statement %(number)s") % {"number": invoice.number}),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("Helvetica", size=9)
        facts = [f"{invoice.title}", f"{_('Date')}: {invoice.date:%d.%m.%Y}"]
        if invoice.period_start and invoice.period_end:
            facts.append(f"{_('Period')}: {invoice.period_start:%d.%m.%Y} - {invoice.period_end:%d.%m.%Y}")
        pdf.multi_cell(0, 5, _latin1("\n".join(facts)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_fill_color(235, 239, 244)
        _row(
            pdf,
            [_("Text"), _("Quantity"), _("Unit price"), _("Amount"), _("From credit")],
            bold=True,
            fill=True,
        )
        for title, group in position_groups(positions):
            pdf.set_font("Helvetica", "B", 9)
            pdf.cell(PAGE_WIDTH, 6, _latin1(title), new_x="LMARGIN", new_y="NEXT")
            for p in group:
                covered = format_chf(p.credit_covered) if p.credit_covered else ""
                _row(pdf, [p.text[:70], qty(p.quantity), price(p.unit_price), format_chf(p.amount), covered])
        _row(pdf, [_("Total of the charges CHF"), "", "", format_chf(invoice.subtotal), ""], bold=True)
        if invoice.rounding_difference:
            _row(pdf, [_("Rounding"), "", "", format_chf(invoice.rounding_difference), ""])
        _row(pdf, [_("Paid from the credit account"), "", "", format_chf(-invoice.credit_applied), ""])
        _row(pdf, [_("Amount due CHF"), "", "", format_chf(invoice.amount_due), ""], bold=True)
        pdf.ln(4)
        if invoice.amount_due == 0:
            note = _("Your credit pays this in full: there is nothing to pay.")
        else:
            note = _("The rest, CHF %(amount)s, comes as an invoice with a payment slip.") % {
                "amount": format_chf(invoice.amount_due)
            }
        pdf.multi_cell(0, 5, _latin1(note), new_x="LMARGIN", new_y="NEXT")
        breakdown = vat.breakdown(invoice, positions)
        if breakdown and breakdown["all"]:
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 9)
            pdf.cell(0, 6, _latin1(_("VAT included")), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", size=9)
            for line in breakdown["all"]:
                text = _("%(rate)s %% of CHF %(gross)s: CHF %(vat)s") % {
                    "rate": qty(line.rate),
                    "gross": format_chf(line.gross),
                    "vat": format_chf(line.vat),
                }
                pdf.cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
