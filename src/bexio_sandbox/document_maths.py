"""The maths of a kb document: position totals, discounts spread over the positions above them,
subtotals, tax groups after `mwst_type`/`mwst_is_net`, and the total rounded to the currency's
`round_factor` (CHF 0.05, with `total_rounding_difference`). books.py books the same shares."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .context import company, store
from .decimals import fixed2, fixed4, to_decimal
from .doctypes import PRICED


def position_shares(inv: dict) -> list[list]:
    """[position, amount] of each priced, non-optional position after the discounts below it are
    spread over it; sets position_total, subtotal values, discount totals and subposition sums."""
    lines = []  # [position, amount]
    running = Decimal(0)
    sub_sums: dict[int, Decimal] = {}
    for p in inv["positions"]:
        t = p["type"]
        if t in PRICED:
            total = (
                to_decimal(p["amount"])
                * to_decimal(p["unit_price"])
                * (1 - to_decimal(p["discount_in_percent"]) / 100)
            )
            total = total.quantize(Decimal("0.000001"), ROUND_HALF_UP)
            p["position_total"] = str(total)
            if p.get("is_optional"):
                continue
            lines.append([p, total])
            running += total
            if p.get("parent_id"):
                sub_sums[p["parent_id"]] = sub_sums.get(p["parent_id"], Decimal(0)) + total
        elif t == "KbPositionSubtotal":
            p["value"] = str(running)
        elif t == "KbPositionDiscount":
            value = to_decimal(p["value"])
            discount = (running * value / 100) if p["is_percentual"] else value
            discount = discount.quantize(Decimal("0.000001"), ROUND_HALF_UP)
            p["discount_total"] = str(discount)
            if running:
                factor = discount / running
                for line in lines:
                    line[1] -= (line[1] * factor).quantize(Decimal("0.000001"), ROUND_HALF_UP)
            running -= discount
    for p in inv["positions"]:
        if p["type"] == "KbPositionSubposition":
            p["total_sum"] = str(sub_sums.get(p["id"], Decimal(0)))
    return lines


def compute(inv: dict) -> None:
    """Position totals, tax groups and invoice totals after mwst_type/mwst_is_net and round_factor."""
    lines = [(p.get("_tax_rate"), amount) for p, amount in position_shares(inv)]
    base_sum = sum((amount for _, amount in lines), Decimal(0))
    taxes: dict[str, Decimal] = {}
    if inv["mwst_type"] == 0:
        for rate, amount in lines:
            if rate is None:
                continue
            r = to_decimal(rate)
            tax = amount * r / 100 if inv["mwst_is_net"] else amount * r / (100 + r)
            taxes[rate] = taxes.get(rate, Decimal(0)) + tax
    total_taxes = sum((v.quantize(Decimal("0.0001"), ROUND_HALF_UP) for v in taxes.values()), Decimal(0))
    if inv["mwst_type"] == 0 and inv["mwst_is_net"]:
        net, gross = base_sum, base_sum + total_taxes
    elif inv["mwst_type"] == 0:
        gross, net = base_sum, base_sum - total_taxes
    else:
        net = gross = base_sum
    currency = store().get("currency", company(), inv["currency_id"]) or {"round_factor": 0.01}
    rf = to_decimal(currency["round_factor"])
    total = ((gross / rf).quantize(Decimal(1), ROUND_HALF_UP) * rf).quantize(Decimal("0.000001"))
    received = sum((to_decimal(pay["value"]) for pay in inv.get("payments", ())), Decimal(0))
    inv["total_gross"] = str(gross.quantize(Decimal("0.000001"), ROUND_HALF_UP))
    inv["total_net"] = str(net.quantize(Decimal("0.000001"), ROUND_HALF_UP))
    inv["total_taxes"] = str(total_taxes)
    inv["total"] = str(total)
    diff = (total - gross).quantize(Decimal("0.01"), ROUND_HALF_UP)
    inv["total_rounding_difference"] = 0 if diff == 0 else float(diff)
    inv["total_received_payments"] = str(received)
    inv["total_remaining_payments"] = str(total - received)
    inv["taxs"] = [
        {"percentage": fixed2(rate), "value": fixed4(v)}
        for rate, v in sorted(taxes.items(), key=lambda x: to_decimal(x[0]))
    ]
