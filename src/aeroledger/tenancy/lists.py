"""What the list pages of every app share: a page of rows that stays fast deep into a long list.

`list_page(request, queryset, per_page, count=...)` is Django's paginator with two changes that
matter at 50,000 rows:

- the page's rows are found by their ids first (`SELECT id ... ORDER BY ... LIMIT 50 OFFSET n`,
  which the database answers from the list's index), then read with their joins and annotations
  for those 50 ids only; a plain OFFSET would build every skipped row with its joins;
- the number of rows may be given (`count`), when the page computes it anyway with its totals in
  one aggregate query, so the paginator does not count again.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Q
from django.db.models.expressions import RawSQL


def list_page(request, queryset, per_page: int, *, count: int | None = None) -> Page:
    """The page `?page=` of `queryset` (in its order), its rows fully loaded."""
    paginator = Paginator(queryset.values_list("pk", flat=True), per_page)
    if count is not None:
        paginator.count = count  # a cached_property: set, it is not computed
    page = paginator.get_page(request.GET.get("page"))
    ids = list(page.object_list)
    rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)} if ids else {}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def pk_in(ids, using: str = "default") -> Q:
    """`Q(pk__in=ids)` for a long list of ids: on PostgreSQL one array parameter (`= ANY`), not one
    placeholder per id (1,500 placeholders cost more to bind and plan than the query itself)."""
    ids = [int(i) for i in ids]
    if connections[using].vendor == "postgresql" and len(ids) > 50:
        return Q(pk__in=RawSQL("SELECT unnest(%s::bigint[])", [ids]))
    return Q(pk__in=ids)


def query_without(request, *names: str) -> str:
    """The current query string without `names` (and without the page): for sort and filter links."""
    params = request.GET.copy()
    for name in ("page", *names):
        params.pop(name, None)
    return params.urlencode()
