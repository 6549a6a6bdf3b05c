"""`aeroledger bexio_transfer` (dry run and real) and `aeroledger bexio_sync_status`."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from aeroledger.bexio_link.transfer.models import OutboxItem
from aeroledger.billing.models import Invoice, InvoiceStatus

from .conftest import assert_exactly_once
from .test_views import site  # noqa: F401 - the connected, mapped demo club

pytestmark = pytest.mark.django_db(transaction=True)


def test_dry_run_shows_everything_and_writes_nothing(sb, site):  # noqa: F811
    mark = sb.requests()[-1]["id"]
    inv = Invoice.objects.filter(organisation=site, status=InvoiceStatus.APPROVED).first()
    out = StringIO()
    call_command("bexio_transfer", "--org", site.slug, "--dry-run", "--invoice", inv.number, stdout=out)
    text = out.getvalue()
    assert inv.number in text and "invoice in bexio" in text and "Dry run" in text
    assert "KbPosition" not in text and str(inv.uuid) not in text
    assert "-> account" in text and re.search(r"VAT \d+\.\d\d %", text)
    assert sb.requests(mark) == []
    assert not OutboxItem.objects.exists()


def test_transfer_then_sync_status(sb, client, site):  # noqa: F811
    out = StringIO()
    call_command("bexio_transfer", "--org", site.slug, "--concurrency", "4", stdout=out)
    assert "created" in out.getvalue() and "[" in out.getvalue()
    assert_exactly_once(site, client)
    out = StringIO()
    call_command("bexio_sync_status", "--org", site.slug, "--full", stdout=out)
    assert "requests" in out.getvalue()
