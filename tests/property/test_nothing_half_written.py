"""Malformed bexio answers in the middle of the app's work leave nothing half-written.

A forwarding httpx transport sends every request to the sandbox and, for one path, replaces the
answer with garbage (after bexio committed it, as a broken proxy or a bug at bexio would):
- master-data refresh: the records are all updated or none (the refresh is one transaction);
- invoice transfer: the invoice is retried and adopted, exactly one bexio invoice results.
"""

import json
import re
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bexio import BexioClient, StaticToken

pytestmark = pytest.mark.django_db(transaction=True)

GARBAGE = [b"", b"not json", b"[]", b'{"id": "x"}', b"null", json.dumps({"id": 1, "total": "abc"}).encode()]
SCOPES = [
    "openid", "offline_access", "accounting", "article_show", "bank_account_show",
    "contact_show", "contact_edit", "kb_invoice_show", "kb_invoice_edit",
]  # fmt: skip


def forwarding_client(sb, path_re: str | None, garbage: bytes, method: str = "GET") -> BexioClient:
    upstream = httpx.Client(base_url=sb.url, timeout=30)

    def handler(request: httpx.Request) -> httpx.Response:
        real = upstream.request(
            request.method, request.url.raw_path.decode(), content=request.content, headers=request.headers
        )
        if path_re and request.method == method and re.search(path_re, request.url.path):
            return httpx.Response(
                real.status_code, content=garbage, headers={"Content-Type": "application/json"}
            )
        return httpx.Response(real.status_code, content=real.content, headers=real.headers)

    return BexioClient(
        base_url=sb.url,
        token_provider=StaticToken(sb.token(scopes=SCOPES)),
        transport=httpx.MockTransport(handler),
        max_retries=0,
        sleep=lambda s: None,
    )


def snapshot(org):
    from aeroledger.bexio_link.masterdata.models import BexioRecord

    return sorted(
        BexioRecord.objects.filter(organisation=org).values_list("kind", "bexio_id", "name", "is_active")
    )


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(
        [r"^/2\.0/article", r"^/3\.0/taxes", r"^/2\.0/accounts", r"^/3\.0/banking", r"^/2\.0/unit"]
    ),
    garbage=st.sampled_from(GARBAGE),
)
def test_master_data_refresh_is_all_or_nothing(sandbox, path, garbage):
    from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
    from aeroledger.tenancy.models import Organisation

    org, _ = Organisation.objects.get_or_create(slug="md", defaults={"name": "MD", "bexio_option": True})
    sandbox.reset()
    with forwarding_client(sandbox, None, b"") as good:
        refresh_master_data(org, good)
    before = snapshot(org)
    # The next refresh reads garbage for one kind.
    with forwarding_client(sandbox, path, garbage) as bad:
        try:
            refresh_master_data(org, bad)
        except Exception as exc:  # noqa: BLE001
            from bexio import errors

            assert isinstance(exc, errors.BexioError | ValueError | TypeError), type(exc)
            assert snapshot(org) == before  # nothing half-written
        else:
            assert snapshot(org)  # the garbage was an accepted shape (e.g. an empty list): a full refresh


@pytest.mark.parametrize("garbage", GARBAGE)
def test_malformed_create_answer_then_retry_gives_exactly_one_invoice(sandbox, garbage, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from aeroledger.bexio_link.masterdata.contacts import ensure_contact_group
    from aeroledger.bexio_link.masterdata.mapping import mapping_for
    from aeroledger.bexio_link.masterdata.models import BexioRecord, ChargeMapping, InvoiceSettings, Kind
    from aeroledger.bexio_link.masterdata.refresh import refresh_master_data
    from aeroledger.bexio_link.transfer.models import InvoiceLink, OutboxItem
    from aeroledger.bexio_link.transfer.outbox import outcome
    from aeroledger.bexio_link.transfer.start import transfer_invoices
    from aeroledger.billing.models import ChargeType, Invoice, InvoicePosition
    from aeroledger.tenancy.testing import make_member, make_org

    monkeypatch.setattr(outcome, "backoff", lambda attempts: timedelta(0))
    org = make_org("tx", bexio=True, prepaid=False)
    with forwarding_client(sandbox, None, b"") as good:
        refresh_master_data(org, good)
        records = BexioRecord.objects.filter(organisation=org)
        tax = next(r for r in records.filter(kind=Kind.TAX) if r.data.get("type") == "sales_tax")
        account = next(r for r in records.filter(kind=Kind.ACCOUNT) if r.data.get("account_type") == 1)
        InvoiceSettings.objects.create(
            organisation=org, user=records.filter(kind=Kind.USER).first(),
            bank_account=records.filter(kind=Kind.BANK_ACCOUNT).first(),
        )  # fmt: skip
        for ct in ChargeType.values:
            ChargeMapping.objects.create(organisation=org, charge_type=ct, account=account, tax=tax)
        ensure_contact_group(good, mapping_for(org))
        member = make_member(org, "7", email="m7@example.ch", street="Weg", house_number="1")
        inv = Invoice.objects.create(
            organisation=org, member=member, number="2026-00001", date=timezone.localdate(),
            due_date=timezone.localdate() + timedelta(days=30), title="Flights",
        )  # fmt: skip
        position = InvoicePosition(invoice=inv, pos=1, charge_type="aircraft_time", text="HB-ABC")
        position.quantity, position.unit_price = Decimal("60"), Decimal("4.2")
        position.save()
        inv.recalculate(None)
        inv.save()
        inv.approve(None)
        with forwarding_client(sandbox, r"^/2\.0/kb_invoice$", garbage, method="POST") as bad:
            transfer_invoices(org, client=bad, concurrency=1, wait_for_retries_s=0)
        transfer_invoices(org, client=good, concurrency=1)
        found = [b for b in good.invoices.iter() if str(b.api_reference) == str(inv.uuid)]
        assert len(found) == 1
        item = OutboxItem.objects.get(invoice=inv)
        assert (
            item.status == "done"
            and InvoiceLink.objects.get(invoice=inv).bexio_id == found[0].id == item.bexio_id
        )
        assert Decimal(str(found[0].total)) == inv.total
