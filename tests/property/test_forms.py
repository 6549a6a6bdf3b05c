"""Every form of the club's data given random input: valid or a clear field error, never a crash,
and a valid form saves (inside a rolled-back transaction)."""

import inspect

import pytest
from django import forms
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aeroledger.billing import forms as billing_forms
from aeroledger.flights import forms as flights_forms
from aeroledger.members import forms as members_forms
from aeroledger.tenancy.testing import make_fleet, make_member, make_org

pytestmark = pytest.mark.django_db

FAST = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORMS = [
    cls
    for module in (members_forms, flights_forms, billing_forms)
    for _name, cls in inspect.getmembers(module, inspect.isclass)
    if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__
]
TRICKY = [
    "", "0", "-1", "1e400", "NaN", "Infinity", "12.345", "99999999999999", "2026-02-30", "31.12.2026",
    "2026-11", "'; DROP TABLE x;--", "\x00", "1'234.50", "person", "de", "CH",
]  # fmt: skip
values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(TRICKY),
    st.integers(-(10**15), 10**15).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)


@pytest.fixture
def org(db):
    org = make_org("club")
    make_member(org, "1")
    make_fleet(org)
    return org


def build(cls, org, data, files=None):
    params = inspect.signature(cls.__init__).parameters
    kwargs = {"organisation": org} if "organisation" in params else {}
    form = cls(data=data, files=files, **kwargs)
    if isinstance(form, forms.ModelForm) and hasattr(form.instance, "organisation_id"):
        form.instance.organisation = org
    return form


def test_there_are_forms():
    assert len(FORMS) >= 6, FORMS


@pytest.mark.parametrize("cls", FORMS, ids=lambda c: c.__name__)
@FAST
@given(data=st.data())
def test_random_input_is_valid_or_a_clear_error(org, cls, data):
    probe = build(cls, org, {})
    payload = {name: data.draw(values, label=name) for name in probe.fields}
    with transaction.atomic():
        form = build(cls, org, payload)
        if form.is_valid():
            if isinstance(form, forms.ModelForm):
                try:
                    obj = form.save(commit=False)
                    if hasattr(obj, "organisation_id") and not obj.organisation_id:
                        obj.organisation = org
                    obj.full_clean()
                    obj.save()
                except Exception as exc:  # noqa: BLE001
                    from django.core.exceptions import ValidationError

                    if not isinstance(exc, ValidationError | ValueError):
                        pytest.fail(f"{cls.__name__} valid but saving failed: {type(exc).__name__}: {exc}")
        else:
            for field, errors in form.errors.items():
                assert field == "__all__" or field in form.fields
                assert all(str(e).strip() for e in errors)
        transaction.set_rollback(True)
