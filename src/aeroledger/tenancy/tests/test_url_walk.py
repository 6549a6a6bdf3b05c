"""Walk every URL pattern under /o/<slug>/ (all apps, the bexio ones included) and prove access rules.

- anonymous -> redirect to the login page;
- staff of organisation A -> 404 for every URL of organisation B, and 404 for A's URLs carrying
  ids of B's objects (whatever id they type);
- read-only staff -> 403 for every view that names a permission;
- every view is wrapped by `org_required` (it sets `org_perm` on the view).

Object ids in URLs are kwargs named `<model>_id`. KWARG_MODELS maps each name to the model whose
object of organisation B is used; a new kwarg name must be added there (the test says so).
"""

import datetime
import itertools
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from aeroledger.tenancy.models import Organisation
from aeroledger.tenancy.testing import PASSWORD, make_org, make_staff

pytestmark = pytest.mark.django_db

# kwarg name -> "app_label.Model" of the object it names. Add new kwarg names here.
KWARG_MODELS = {
    "member_id": "members.Member",
    "flight_id": "flights.Flight",
    "aircraft_id": "flights.Aircraft",
    "aerodrome_id": "flights.Aerodrome",
    "charge_id": "billing.Charge",
    "invoice_id": "billing.Invoice",
    "position_id": "billing.InvoicePosition",
    "run_id": "billing.BillingRun",
    "entry_id": "billing.CreditEntry",
    "contact_id": "bexio_masterdata.ContactLink",
    "link_id": "bexio_masterdata.ContactLink",
    "mapping_id": "bexio_masterdata.ChargeMapping",
    "record_id": "bexio_masterdata.BexioRecord",
    "article_id": "bexio_masterdata.BexioRecord",
    "refresh_id": "bexio_masterdata.MasterDataRefresh",
    "call_id": "bexio_connection.BexioCall",
    "event_id": "bexio_connection.ConnectionEvent",
    "batch_id": "bexio_transfer.TransferBatch",
    "item_id": "bexio_transfer.OutboxItem",
    "attempt_id": "bexio_transfer.OutboxAttempt",
    "reconciliation_id": "bexio_books.ReconciliationRun",
}


@dataclass(frozen=True)
class OrgView:
    name: str  # namespaced url name
    route: str
    kwargs: tuple[str, ...]  # besides slug
    callback: object

    @property
    def post_only(self) -> bool:
        return bool(getattr(self.callback, "org_post_only", False))


def org_views() -> list[OrgView]:
    found = []

    def walk(patterns, prefix, namespace, kwargs):
        for p in patterns:
            route = prefix + str(p.pattern)
            names = kwargs + tuple(getattr(p.pattern, "converters", {}).keys())
            if isinstance(p, URLResolver):
                ns = namespace
                if p.namespace:
                    ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
                walk(p.url_patterns, route, ns, names)
            elif isinstance(p, URLPattern) and route.startswith("o/<slug:slug>/"):
                if not p.name:
                    pytest.fail(f"URL pattern {route!r} has no name; give it one so it can be tested.")
                name = f"{namespace}:{p.name}" if namespace else p.name
                found.append(OrgView(name, route, tuple(n for n in names if n != "slug"), p.callback))

    walk(get_resolver().url_patterns, "", "", ())
    return found


_counter = itertools.count(1000)


def make_instance(model, org: Organisation, cache: dict):
    """A minimal saved object of `model` for `org`, filling required fields with plain values."""
    label = model._meta.label
    if label in cache:
        return cache[label]
    values = {}
    for field in model._meta.concrete_fields:
        if field.auto_created or field.primary_key:
            continue
        if (
            field.has_default()
            or field.null
            or getattr(field, "auto_now", False)
            or getattr(field, "auto_now_add", False)
        ):
            continue
        if isinstance(field, models.ForeignKey):
            target = field.related_model
            values[field.name] = org if target is Organisation else _related(target, org, cache)
        elif field.choices:
            values[field.name] = field.choices[0][0]
        elif isinstance(field, models.BooleanField):
            values[field.name] = False
        elif isinstance(field, models.DecimalField):
            values[field.name] = Decimal("1")
        elif isinstance(field, models.IntegerField):
            values[field.name] = next(_counter)
        elif isinstance(field, models.DateTimeField):
            values[field.name] = datetime.datetime.now(datetime.UTC)
        elif isinstance(field, models.DateField):
            values[field.name] = datetime.date(2026, 10, 15)
        elif isinstance(field, models.UUIDField):
            values[field.name] = uuid.uuid4()
        elif isinstance(field, models.EmailField):
            values[field.name] = f"x{next(_counter)}@example.ch"
        elif isinstance(field, models.JSONField):
            values[field.name] = {}
        elif isinstance(field, models.BinaryField):
            values[field.name] = b"x"
        elif isinstance(field, models.CharField | models.TextField):
            length = field.max_length or 20
            values[field.name] = f"x{next(_counter)}"[:length]
        else:
            pytest.fail(
                f"url walk: cannot fill {label}.{field.name} ({type(field).__name__}); extend make_instance"
            )
    obj = model(**values)
    if isinstance(obj, models.Model) and hasattr(obj, "amount") and label == "billing.Charge":
        obj.quantity, obj.unit_price = Decimal("1"), Decimal("1")
    obj.save()
    cache[label] = obj
    return obj


def _related(target, org, cache):
    return make_instance(target, org, cache)


@pytest.fixture
def world():
    from aeroledger.tenancy.testing import make_fleet, make_flight, make_member

    a = make_org("club-a", bexio=True)
    b = make_org("club-b", bexio=True)
    staff_a = make_staff(a, "staff-a")
    reader_a = make_staff(a, "reader-a", perms=())
    cache_b: dict = {}
    member_b = make_member(b, "1")
    aircraft_b, aerodrome_b = make_fleet(b)
    flight_b = make_flight(b, aircraft_b, member_b, landings=[(aerodrome_b, 1)])
    cache_b.update(
        {
            "members.Member": member_b,
            "flights.Aircraft": aircraft_b,
            "flights.Aerodrome": aerodrome_b,
            "flights.Flight": flight_b,
            "billing.Charge": flight_b.charges.first(),
        }
    )
    return {"a": a, "b": b, "staff_a": staff_a, "reader_a": reader_a, "cache_b": cache_b}


def ids_of_b(view: OrgView, world) -> dict:
    kwargs = {}
    for name in view.kwargs:
        if name not in KWARG_MODELS:
            pytest.fail(
                f"{view.name} ({view.route}) has URL kwarg {name!r}: add it to KWARG_MODELS in "
                f"tenancy/tests/test_url_walk.py with the model whose id it carries."
            )
        try:
            model = apps.get_model(KWARG_MODELS[name])
        except LookupError:
            pytest.fail(
                f"KWARG_MODELS[{name!r}] names {KWARG_MODELS[name]!r}, which does not exist; fix the map."
            )
        kwargs[name] = make_instance(model, world["b"], world["cache_b"]).pk
    return kwargs


def request(client, view: OrgView, url: str):
    return client.post(url) if view.post_only else client.get(url)


def test_there_are_org_views_to_walk():
    names = {v.name for v in org_views()}
    assert {"members:list", "flights:list", "billing:invoices", "billing:credit_accounts"} <= names


def test_every_org_view_uses_org_required():
    missing = [v.name for v in org_views() if not hasattr(v.callback, "org_perm")]
    assert not missing, f"views under /o/<slug>/ without @org_required: {missing}"


def test_anonymous_is_sent_to_login(client, world):
    for view in org_views():
        url = reverse(view.name, kwargs={"slug": world["b"].slug, **ids_of_b(view, world)})
        response = request(client, view, url)
        assert response.status_code == 302, (view.name, response.status_code)
        assert response["Location"].startswith("/login/"), view.name


def test_staff_of_a_gets_404_for_every_url_of_b(client, world):
    client.login(username="staff-a", password=PASSWORD)
    for view in org_views():
        url = reverse(view.name, kwargs={"slug": world["b"].slug, **ids_of_b(view, world)})
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if method == "get" and view.post_only:
                assert response.status_code == 405, (view.name, response.status_code)
                continue
            assert response.status_code == 404, (view.name, method, response.status_code)


def test_staff_of_a_gets_404_for_ids_of_b_in_their_own_urls(client, world):
    client.login(username="staff-a", password=PASSWORD)
    for view in org_views():
        if not view.kwargs:
            continue
        url = reverse(view.name, kwargs={"slug": world["a"].slug, **ids_of_b(view, world)})
        for method in ("get", "post"):
            if method == "get" and view.post_only:
                continue
            response = getattr(client, method)(url)
            assert response.status_code == 404, (view.name, method, url, response.status_code)


def test_read_only_staff_gets_403_where_a_permission_is_needed(client, world):
    client.login(username="reader-a", password=PASSWORD)
    guarded = [v for v in org_views() if getattr(v.callback, "org_perm", None)]
    assert guarded
    for view in guarded:
        url = reverse(view.name, kwargs={"slug": world["a"].slug, **ids_of_b(view, world)})
        response = request(client, view, url)
        assert response.status_code == 403, (view.name, response.status_code)


def test_read_only_staff_can_read(client, world):
    client.login(username="reader-a", password=PASSWORD)
    for view in org_views():
        if view.kwargs or view.post_only or getattr(view.callback, "org_perm", None):
            continue
        response = client.get(reverse(view.name, kwargs={"slug": world["a"].slug}))
        assert response.status_code in (200, 302), (view.name, response.status_code)
