"""On PostgreSQL, with real concurrency: two billing runs at once never invoice a charge twice."""

import threading

import pytest
from django.db import connection

from aeroledger.billing.models import Charge, Invoice, InvoicePosition
from aeroledger.billing.runs import billing_run
from aeroledger.tenancy.testing import make_fleet, make_flight, make_member, make_org, make_staff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(target, count=2):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def test_concurrent_billing_runs_do_not_double_invoice():
    org = make_org("club")
    admin = make_staff(org, "admin")
    aircraft, aerodrome = make_fleet(org)
    for i in range(8):
        pilot = make_member(org, str(i))
        for _ in range(3):
            make_flight(org, aircraft, pilot, landings=[(aerodrome, 1)], sign_off_by=admin)

    results, errors = run_concurrently(lambda: billing_run(org, "2026-10"))
    assert not errors
    made = [invoice for _run, invoices in results for invoice in invoices]
    assert len(made) == 8  # one run made them all, the other found nothing left
    assert sorted(len(invoices) for _run, invoices in results) == [0, 8]
    assert Charge.objects.filter(invoice__isnull=True).count() == 0
    assert InvoicePosition.objects.count() == Charge.objects.count() == 8 * 3 * 2
    assert Invoice.objects.values("number").distinct().count() == 8
