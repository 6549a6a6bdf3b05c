from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aeroledger.billing.money import invoice_totals, position_amount, round_chf, settle


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
    assert totals.total == D("100.00")


def test_credit_pays_to_the_cent_without_rounding():
    totals = invoice_totals([D("100.02")], credit_available=D("500"))
    assert (totals.total, totals.credit_applied, totals.amount_due) == (D("100.02"), D("100.02"), D("0.00"))


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
    assert t.amount_due % D("0.05") == 0  # what the member pays in cash
    assert t.credit_applied + t.amount_due == t.total
    assert D("0") <= t.credit_applied <= max(credit, D("0"))
    assert t.amount_due >= 0
    if t.credit_applied:  # credit pays to the cent; the invoiced rest is exact too
        assert t.rounding_difference == 0
    if 0 < t.credit_applied < t.subtotal:
        assert credit - t.credit_applied < D("0.05")  # credit is used as far as it goes


@given(amounts, credits)
def test_settle_pays_oldest_first(values, credit):
    s = settle(values, credit)
    assert sum(s.covered, D("0")) == s.credit_used
    partial = [i for i, (a, c) in enumerate(zip(values, s.covered, strict=True)) if 0 < c < a]
    assert len(partial) <= 1
    first_unpaid = next(
        (i for i, (a, c) in enumerate(zip(values, s.covered, strict=True)) if c < a), len(values)
    )
    assert all(c == a for a, c in zip(values[:first_unpaid], s.covered, strict=False))
    assert all(c == 0 for c in s.covered[first_unpaid + 1 :])


def test_credit_covers_part_oldest_first():
    s = settle([D("30"), D("40"), D("50")], D("55"))
    assert s.covered == (D("30.00"), D("25.00"), D("0.00"))
    assert (s.credit_used, s.amount_due) == (D("55.00"), D("65.00"))
