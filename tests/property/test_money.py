"""Money arithmetic (billing/money.py): 0.05 rounding, totals = sum of positions, credit, never float."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from aeroledger.billing.money import invoice_totals, position_amount, round_chf, to_cents

FAST = settings(max_examples=50, deadline=None)
FIVE = Decimal("0.05")
amounts = st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2)
quantities = st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=4)
prices = st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=4)
credits = st.one_of(st.none(), st.decimals(min_value=Decimal("-100"), max_value=Decimal("50000"), places=2))


def is_multiple_of_five_cents(value: Decimal) -> bool:
    return value % FIVE == 0


@FAST
@given(st.decimals(min_value=Decimal("-1e7"), max_value=Decimal("1e7"), places=4))
def test_round_chf_is_nearest_multiple_of_five_cents(value):
    r = round_chf(value)
    assert isinstance(r, Decimal)
    assert is_multiple_of_five_cents(r)
    assert abs(r - value) <= Decimal("0.025")
    assert round_chf(r) == r
    assert round_chf(-value) == -r  # symmetric: half away from zero for negatives


@FAST
@given(quantities, prices)
def test_position_amount_is_exact_product_rounded_to_cents(q, p):
    a = position_amount(q, p)
    assert isinstance(a, Decimal)
    assert a == to_cents(q * p)
    assert abs(a - q * p) <= Decimal("0.005")


@FAST
@given(st.lists(amounts, max_size=40), credits)
def test_invoice_totals(positions, credit):
    t = invoice_totals(positions, credit)
    for v in (t.subtotal, t.total, t.rounding_difference, t.credit_applied, t.amount_due):
        assert isinstance(v, Decimal) and not isinstance(v, float)
        assert v == v.quantize(Decimal("0.01"))
    assert t.subtotal == sum(positions, Decimal("0"))
    if not t.credit_applied:
        assert is_multiple_of_five_cents(t.total)
    assert t.total - t.subtotal == t.rounding_difference
    assert abs(t.rounding_difference) <= Decimal("0.025")
    assert t.credit_applied >= 0
    assert t.credit_applied <= max(Decimal("0"), credit or Decimal("0"))
    assert t.credit_applied + t.amount_due == t.total
    if t.total > 0:
        assert 0 <= t.amount_due <= t.total
        assert is_multiple_of_five_cents(t.amount_due)
    if not credit or credit <= 0 or t.total <= 0:
        assert t.credit_applied == 0 and t.amount_due == t.total


@FAST
@given(st.lists(amounts, min_size=1, max_size=20))
def test_totals_do_not_depend_on_position_order(positions):
    assert invoice_totals(positions) == invoice_totals(list(reversed(positions)))
