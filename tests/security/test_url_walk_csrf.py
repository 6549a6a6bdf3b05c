"""Every URL pattern walked by a staff user with every permission:

(a) GET makes no database write except to the session table: a state-changing view that forgot
    `post=True` / POST-only would write on GET (and be open to CSRF by a link or an <img>);
(b) POST without a CSRF token is refused with 403, for every URL (state-changing or not);
(c) no view is `csrf_exempt`.

Object ids in URLs come from `world["ids"]` (conftest.py): a new kwarg name must be added there.
"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .conftest import all_patterns

pytestmark = pytest.mark.django_db

WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)"?', re.IGNORECASE)
ALLOWED_WRITES = {"django_session"}


@pytest.fixture(autouse=True)
def no_bexio(settings):
    """Nothing may reach a bexio: a closed loopback port answers any call a page makes."""
    settings.BEXIO_API_BASE = "http://127.0.0.1:9"
    settings.BEXIO_AUTH_ISSUER = "http://127.0.0.1:9/realms/bexio"
    settings.BEXIO_TIMEOUT_S = 1


def url_of(route, name, kwargs, world) -> str:
    values = {}
    for k in kwargs:
        if k == "slug":
            values[k] = world["org"].slug
        elif k in world["ids"]:
            values[k] = world["ids"][k]
        else:
            pytest.fail(f"{name} ({route}): URL kwarg {k!r} unknown; add it to world['ids'] in conftest.py")
    return reverse(name, kwargs=values)


def writes_of(queries) -> list[str]:
    found = []
    for q in queries:
        m = WRITE.match(q["sql"])
        if m and m.group(2).lower() not in ALLOWED_WRITES:
            found.append(f"{m.group(1).split()[0].upper()} {m.group(2)}")
    return found


def test_there_are_patterns_to_walk():
    names = {name for _r, name, _k, _c in all_patterns()}
    assert {"members:list", "billing:invoices", "bexio_transfer:log", "bexio_callback", "login"} <= names


def test_get_by_full_permission_staff_writes_nothing_but_the_session(world):
    client = Client()
    client.force_login(world["staff"])
    offenders, crashed, statuses = [], [], {}
    for route, name, kwargs, _cb in all_patterns():
        if name == "logout":
            continue  # logging out is the session's business (and POST-only)
        url = url_of(route, name, kwargs, world)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        statuses[name] = response.status_code
        if response.status_code >= 500:
            crashed.append((name, response.status_code))
        written = writes_of(ctx.captured_queries)
        if written:
            offenders.append((name, response.status_code, sorted(set(written))))
    # The walk must reach the views, not stop at 404s: most pages render.
    assert sum(1 for s in statuses.values() if s == 200) >= len(statuses) // 2, statuses
    assert not crashed, f"GET answered 5xx: {crashed}"
    assert not offenders, "GET wrote to the database (state change without POST/CSRF):\n" + "\n".join(
        f"  {n} [{s}]: {w}" for n, s, w in offenders
    )


def test_post_without_csrf_token_is_refused_everywhere(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["staff"])
    accepted = []
    for route, name, kwargs, _cb in all_patterns():
        url = url_of(route, name, kwargs, world)
        response = client.post(url, {"ids": [world["ids"]["invoice_id"]], "confirm": "1"})
        if response.status_code != 403:
            accepted.append((name, response.status_code))
    assert not accepted, f"POST without CSRF token not refused with 403: {accepted}"


def test_post_with_csrf_token_is_not_refused_by_csrf(world):
    """The 403s above come from the CSRF check: with the token, the same POST gets past it."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["staff"])
    page = client.get(reverse("members:list", kwargs={"slug": world["org"].slug}))
    assert page.status_code == 200
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("bexio_transfer:retry_all", kwargs={"slug": world["org"].slug}), HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code != 403


def test_no_view_is_csrf_exempt():
    exempt = [
        name
        for _r, name, _k, cb in all_patterns()
        if getattr(cb, "csrf_exempt", False) or getattr(getattr(cb, "view_class", None), "csrf_exempt", False)
    ]
    assert not exempt, f"csrf_exempt views: {exempt}"


AUDIT_TABLES = {"bexio_connection_bexiocall", "bexio_connection_bexioconnection"}


def test_pdf_download_of_a_transferred_invoice_writes_only_the_call_log(world):
    """The one GET that talks to bexio: it may log the call (audit), nothing else."""
    from aeroledger.bexio_link.transfer.models import InvoiceLink
    from aeroledger.billing.models import Invoice

    invoice = Invoice.objects.get(pk=world["ids"]["invoice_id"])
    Invoice.objects.filter(pk=invoice.pk).update(status="transferred")
    InvoiceLink.objects.create(
        organisation=invoice.organisation, invoice=invoice, bexio_id=4711, document_nr="RE-00001"
    )
    client = Client()
    client.force_login(world["staff"])
    url = reverse("bexio_transfer:invoice_pdf", kwargs={"slug": world["org"].slug, "invoice_id": invoice.pk})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code < 500
    written = {w.split()[1] for w in writes_of(ctx.captured_queries)}
    assert written <= AUDIT_TABLES, written


def test_the_write_detector_sees_writes():
    sql = [
        {"sql": 'UPDATE "billing_invoice" SET "status" = %s WHERE "id" = %s'},
        {"sql": 'INSERT INTO "bexio_transfer_transferbatch" ("organisation_id") VALUES (%s)'},
        {"sql": 'DELETE FROM "members_member" WHERE "id" IN (%s)'},
        {"sql": 'UPDATE "django_session" SET "session_data" = %s'},
        {"sql": 'SELECT "billing_invoice"."id" FROM "billing_invoice"'},
    ]
    assert writes_of(sql) == [
        "UPDATE billing_invoice",
        "INSERT bexio_transfer_transferbatch",
        "DELETE members_member",
    ]
