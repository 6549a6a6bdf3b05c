from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aeroledger.billing.money import invoice_totals, position_amount, round_chf


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "0.00"),
        ("1.02", "1.00"),
        ("1.025", "1.05"),
        ("1.024", "1.00"),
        ("1.03", "1.05"),
        ("1.07", "1.05"),
        ("1.075", "1.10"),
        ("1234.97", "1234.95"),
        ("1234.98", "1235.00"),
        ("-1.03", "-1.05"),
    ],
)
def test_round_chf(value, expected):
    assert round_chf(D(value)) == D(expected)


def test_position_amount_rounds_to_cents():
    assert position_amount(D("45"), D("4.2")) == D("189.00")
    assert position_amount(D("3"), D("0.3333")) == D("1.00")
    assert position_amount(D("1"), D("0.125")) == D("0.13")


def test_totals_keep_rounding_difference():
    totals = invoice_totals([D("189.00"), D("22.52")])
    assert totals.subtotal == D("211.52")
    assert totals.total == D("211.50")
    assert totals.rounding_difference == D("-0.02")
    assert totals.credit_applied == D("0.00")
    assert totals.amount_due == D("211.50")


def test_credit_covers_everything():
    totals = invoice_totals([D("100.00")], credit_available=D("500"))
    assert (totals.credit_applied, totals.amount_due) == (D("100.00"), D("0.00"))


def test_credit_covers_part_and_due_is_a_multiple_of_five_cents():
    totals = invoice_totals([D("100.00")], credit_available=D("33.33"))
    assert totals.amount_due == D("66.70")
    assert totals.credit_applied == D("33.30")
    assert totals.credit_applied <= D("33.33")


def test_no_or_negative_credit_applies_nothing():
    assert invoice_totals([D("10")], credit_available=D("-50")).amount_due == D("10.00")
    assert invoice_totals([D("10")], credit_available=None).credit_applied == D("0.00")


amounts = st.lists(st.decimals(min_value=0, max_value=10000, places=2), max_size=30)
credits = st.decimals(min_value=-1000, max_value=20000, places=2)


@given(amounts, credits)
def test_invariants(values, credit):
    t = invoice_totals(values, credit)
    assert t.total == t.subtotal + t.rounding_difference
    assert abs(t.rounding_difference) <= D("0.025")
    assert t.total % D("0.05") == 0
    assert t.amount_due % D("0.05") == 0
    assert t.credit_applied + t.amount_due == t.total
    assert D("0") <= t.credit_applied <= max(credit, D("0"))
    assert t.amount_due >= 0
