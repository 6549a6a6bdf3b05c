"""CSV member import with random bad rows: each bad row gets a clear error naming its row, no good
row gets one, and nothing is written unless every row is good (then exactly the rows are)."""

import csv
import io

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aeroledger.members.imports import import_members
from aeroledger.members.models import Member
from aeroledger.tenancy.testing import make_member, make_org

pytestmark = pytest.mark.django_db

FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COLUMNS = [
    "number",
    "kind",
    "first_name",
    "last_name",
    "email",
    "language",
    "country",
    "is_active",
    "invoice_to",
]
names = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüéèàç -", min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
BAD = {
    "email": ("email", "not-an-e-mail"),
    "language": ("language", "xx"),
    "kind": ("kind", "robot"),
    "is_active": ("is_active", "maybe"),
    "number_empty": ("number", ""),
    "number_long": ("number", "9" * 40),
    "country": ("country", "Switzerland"),
    "invoice_to": ("invoice_to", "N-does-not-exist"),
    "duplicate": ("number", None),  # the number of an earlier (good) row
}


@st.composite
def files(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    rows, bad_rows, numbers = [], set(), []
    for i in range(n):
        row = {
            "number": f"N{i}",
            "kind": draw(st.sampled_from(["person", "Person"])),
            "first_name": draw(names),
            "last_name": draw(names),
            "email": draw(st.sampled_from(["", f"m{i}@example.ch"])),
            "language": draw(st.sampled_from(["de", "fr", "IT", "en"])),
            "country": draw(st.sampled_from(["CH", "de"])),
            "is_active": draw(st.sampled_from(["", "1", "ja", "no"])),
            "invoice_to": draw(st.sampled_from(["", "P0"])),
        }
        if draw(st.integers(0, 3)) == 0:
            kind = draw(st.sampled_from(sorted(BAD)))
            if kind == "duplicate" and not numbers:
                kind = "email"
            column, value = BAD[kind]
            row[column] = numbers[0] if kind == "duplicate" else value
            bad_rows.add(i + 2)  # the header is row 1
        if row["number"] == f"N{i}":
            numbers.append(row["number"])
        rows.append(row)
    delimiter = draw(st.sampled_from([";", ","]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue(), bad_rows, n


@pytest.fixture
def org(db):
    org = make_org("club")
    make_member(org, "P0")  # a payer the file may name
    return org


@FAST
@given(data=files())
def test_bad_rows_are_named_and_nothing_is_written(org, data):
    text, bad_rows, n = data
    with transaction.atomic():
        before = list(Member.objects.filter(organisation=org).values_list("number", "updated_at"))
        result = import_members(org, text)
        rows_with_errors = {e.row for e in result.errors}
        assert all(str(e) and e.message for e in result.errors)
        assert bad_rows <= rows_with_errors, (bad_rows, [str(e) for e in result.errors])
        assert rows_with_errors <= bad_rows, [str(e) for e in result.errors]
        assert list(Member.objects.filter(organisation=org).values_list("number", "updated_at")) == before
        if bad_rows:
            assert not result.ok
            with pytest.raises(ValueError):
                result.commit()
            assert Member.objects.filter(organisation=org).count() == len(before)
        else:
            assert result.ok
            assert result.commit() == n
            assert Member.objects.filter(organisation=org).count() == len(before) + n
        transaction.set_rollback(True)


@FAST
@given(junk=st.binary(max_size=300))
def test_any_bytes_give_errors_or_a_plan_never_a_crash(org, junk):
    from aeroledger.tenancy.csvfiles import CSVFileError, decode

    try:
        text = decode(junk)
    except CSVFileError:
        return
    with transaction.atomic():
        result = import_members(org, text)
        assert result.ok or result.errors
        assert Member.objects.filter(organisation=org).count() == 1
        transaction.set_rollback(True)
