"""`aeroledger bexio_reconcile`: exit 0 without differences, 1 with, 2 when it cannot reconcile; --json;
one run at a time per organisation."""

import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from aeroledger.bexio_link.books import runs
from aeroledger.bexio_link.books.models import ReconciliationRun
from aeroledger.bexio_link.masterdata.mapping import mapping_for
from bexio.models import ManualEntryCreate

pytestmark = pytest.mark.django_db(transaction=True)


def reconcile_command(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("bexio_reconcile", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_exit_codes_and_json(honest_month, client):
    org = honest_month
    code, out = reconcile_command("--org", org.slug)
    assert code == 0, out
    assert "0 differences." in out and "2030 Kundenguthaben" in out

    code, out = reconcile_command("--org", org.slug, "--json")
    data = json.loads(out)
    assert code == 0 and data["difference_count"] == 0 and data["requests"] > 0
    assert data["credit"]["ours"] == data["credit"]["bexio"]

    mapping = mapping_for(org)
    client.manual_entries.create(  # planted by hand in bexio
        ManualEntryCreate.single(
            date=date.today(),
            debit_account_id=mapping.credit_account_id,
            credit_account_id=mapping.bank_ledger_account_id(),
            amount=Decimal("75.50"),
            reference_nr="BAR-7",
        )
    )
    code, out = reconcile_command("--org", org.slug)
    assert code == 1
    assert "2 difference(s):" in out and "BAR-7" in out and "what to do:" in out
    code, out = reconcile_command("--org", org.slug, "--json")
    data = json.loads(out)
    assert code == 1 and sorted(d["kind"] for d in data["differences"]) == ["credit_balance", "entry_foreign"]
    assert ReconciliationRun.objects.filter(organisation=org, status="finished").count() == 4


def test_it_cannot_reconcile_exits_2(honest_month):
    with pytest.raises(CommandError) as exc:
        call_command("bexio_reconcile", "--org", "nope")
    assert exc.value.returncode == 2
    with pytest.raises(CommandError) as exc:
        call_command("bexio_reconcile", "--org", honest_month.slug, "--period", "2026-13")
    assert exc.value.returncode == 2


def test_one_run_at_a_time_per_organisation(honest_month):
    org = honest_month
    first = runs.start(org)
    with pytest.raises(runs.AlreadyRunning):
        runs.start(org, "2026-11")
    with pytest.raises(CommandError) as exc:
        call_command("bexio_reconcile", "--org", org.slug)
    assert exc.value.returncode == 2 and "already running" in str(exc.value)
    # A run whose worker died no longer blocks.
    ReconciliationRun.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=1))
    second = runs.start(org)
    first.refresh_from_db()
    assert first.status == "failed" and second.status == "queued"
