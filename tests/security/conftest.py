"""A fully populated organisation for walking every URL: objects for every URL kwarg, a connection."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from aeroledger.tenancy.testing import PASSWORD, make_fleet, make_flight, make_member, make_org, make_staff


def all_patterns() -> list[tuple[str, str, tuple[str, ...], object]]:
    """(route, name, kwarg names, callback) of every URL pattern outside Django's admin."""
    found = []

    def walk(patterns, prefix, namespace, kwargs):
        for p in patterns:
            route = prefix + str(p.pattern)
            names = kwargs + tuple(getattr(p.pattern, "converters", {}).keys())
            if isinstance(p, URLResolver):
                if route.startswith("admin/"):
                    continue
                ns = namespace
                if p.namespace:
                    ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
                walk(p.url_patterns, route, ns, names)
            elif isinstance(p, URLPattern):
                if route.startswith(("admin/", "static/", "media/")) or not p.name:
                    continue
                name = f"{namespace}:{p.name}" if namespace else p.name
                found.append((route, name, names, p.callback))

    walk(get_resolver().url_patterns, "", "", ())
    return found


@pytest.fixture
def world(db):
    """Organisation A with every kind of object the URLs name, a staff user with every permission."""
    from aeroledger.bexio_link.books.models import ReconciliationRun
    from aeroledger.bexio_link.connection.models import BexioCall, BexioConnection, ConnectionEvent, Status
    from aeroledger.bexio_link.masterdata.models import BexioRecord, ChargeMapping, ContactLink, Kind
    from aeroledger.bexio_link.transfer.models import OutboxAttempt, OutboxItem, TransferBatch
    from aeroledger.billing.models import CreditEntry, CreditKind
    from aeroledger.billing.runs import billing_run

    org = make_org("club-a", bexio=True)
    staff = make_staff(org, "boss")
    member = make_member(org, "1", email="anna@example.ch", street="Dorfstrasse", house_number="1")
    other = make_member(org, "2")
    aircraft, aerodrome = make_fleet(org)
    flight = make_flight(org, aircraft, member, landings=[(aerodrome, 1)])
    make_flight(org, aircraft, other, minutes=30, sign_off_by=staff)
    CreditEntry.objects.create(
        organisation=org, member=member, kind=CreditKind.DEPOSIT, amount=Decimal("100")
    )
    run, invoices = billing_run(org, f"{date.today():%Y-%m}", user=staff)
    invoice = invoices[0]
    conn = BexioConnection(
        organisation=org, status=Status.CONNECTED, company_id="demo", company_name="Demo AG"
    )
    conn.set_tokens("secret-access-token-value", "secret-refresh-token-value")
    conn.expires_at = timezone.now() + timedelta(hours=1)
    conn.granted_scopes = ["contact_show"]
    conn.save()
    call = BexioCall.objects.create(organisation=org, method="GET", path="/2.0/contact", status=200)
    event = ConnectionEvent.objects.create(organisation=org, kind="connected")
    record = BexioRecord.objects.create(
        organisation=org, kind=Kind.ARTICLE, bexio_id=1, name="Article", data={}
    )
    mapping = ChargeMapping.objects.create(organisation=org, charge_type="manual")
    link = ContactLink.objects.create(organisation=org, member=member, bexio_id=5)
    batch = TransferBatch.objects.create(organisation=org)
    item = OutboxItem.objects.create(
        organisation=org, kind="invoice", key=str(invoice.uuid), invoice=invoice, batch=batch, status="failed"
    )
    attempt = OutboxAttempt.objects.create(organisation=org, item=item, batch=batch)
    reconciliation = ReconciliationRun.objects.create(organisation=org, date_to=date.today())
    ids = {
        "member_id": member.pk,
        "flight_id": flight.pk,
        "aircraft_id": aircraft.pk,
        "aerodrome_id": aerodrome.pk,
        "charge_id": flight.charges.first().pk,
        "invoice_id": invoice.pk,
        "position_id": invoice.positions.first().pk,
        "run_id": run.pk,
        "entry_id": CreditEntry.objects.filter(organisation=org).first().pk,
        "contact_id": link.pk,
        "link_id": link.pk,
        "mapping_id": mapping.pk,
        "record_id": record.pk,
        "article_id": record.pk,
        "refresh_id": 1,
        "call_id": call.pk,
        "event_id": event.pk,
        "batch_id": batch.pk,
        "item_id": item.pk,
        "attempt_id": attempt.pk,
        "reconciliation_id": reconciliation.pk,
    }
    return {"org": org, "staff": staff, "ids": ids, "password": PASSWORD}
