"""On PostgreSQL: two imports of the same new member numbers at once never make duplicates."""

import threading

import pytest
from django.db import connection

from aeroledger.members.imports import import_members
from aeroledger.members.models import Member
from aeroledger.tenancy.testing import make_org

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CSV = "number;last_name\n" + "".join(f"{n};Name{n}\n" for n in range(1, 21))


def test_concurrent_imports_keep_numbers_unique():
    org = make_org("club")
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        plan = import_members(org, CSV)  # both validate before either commits: all rows "new"
        try:
            barrier.wait()
            outcomes.append(plan.commit())
        except ValueError as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert Member.objects.filter(organisation=org).count() == 20
    assert sorted(map(type, outcomes), key=str) == sorted([int, ValueError], key=str)
