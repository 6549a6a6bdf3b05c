"""Extension points: an upper layer adds to the pages and jobs of a lower one without being imported.

The club apps (members, flights, billing, the dashboard) know nothing of bexio. Where a page of
theirs shows something of an integration (the bexio state of an invoice, the connection on the
dashboard), the page names a *slot* and renders what is registered there; `bexio_link` registers
its functions in its AppConfig.ready(). With no integration installed a slot renders nothing.

    # billing/templates/billing/invoice.html
    {% load hooks %}{% panels "invoice_detail" invoice=invoice %}

    # bexio_link/transfer/apps.py, ready():
    hooks.register("invoice_detail", invoice_panel)   # (request, invoice=...) -> html | None

A slot function gets the request and the page's keyword arguments and returns rendered HTML
(or None for nothing). `facts` slots return plain data for a view to use (e.g. one lookup for the
rows of a whole list page), never HTML.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

_slots: dict[str, list[Callable[..., Any]]] = defaultdict(list)


def register(slot: str, func: Callable[..., Any] | None = None):
    """Register `func` for `slot` (usable as a decorator). Registering twice is harmless."""

    def add(f: Callable[..., Any]) -> Callable[..., Any]:
        if f not in _slots[slot]:
            _slots[slot].append(f)
        return f

    return add(func) if func is not None else add


def collect(slot: str, *args: Any, **kwargs: Any) -> list[Any]:
    """Call every function of `slot`; the answers that are not None, in registration order."""
    answers = (f(*args, **kwargs) for f in list(_slots.get(slot, ())))
    return [a for a in answers if a is not None]


def first(slot: str, *args: Any, default: Any = None, **kwargs: Any) -> Any:
    """The first non-None answer of `slot`, or `default`."""
    answers = collect(slot, *args, **kwargs)
    return answers[0] if answers else default


def registered(slot: str) -> bool:
    return bool(_slots.get(slot))
