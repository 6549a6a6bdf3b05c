"""Whether bexio can take writes for an organisation now, and the guard for pages that write."""

from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from aeroledger.bexio_link.connection.models import connection_for
from aeroledger.bexio_link.masterdata.mapping import mapping_for


def transfer_problem(org) -> str:
    """Why nothing can go to bexio now (connection, permission, ledger), in the treasurer's words."""
    conn = connection_for(org)
    if conn is None:
        return _("bexio is not connected (Bexio > Authorisation).")
    if not conn.transfers_allowed:
        if conn.needs_reconnect:
            return _("The bexio connection needs to be renewed (Bexio > Authorisation > Get new token).")
        missing = ", ".join(s.name for s in conn.missing_scopes)
        return _("The bexio connection lacks a required permission (%(scopes)s): Bexio > Authorisation.") % {
            "scopes": missing
        }
    problems = mapping_for(org).ledger_problems()
    return problems[0] if problems else ""


def bexio_writable(back: str):
    """Decorate a view (inside `org_required`) that writes to bexio: while bexio cannot take writes,
    the person is sent back to the page named `back` with the reason, and the view does not run."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            problem = transfer_problem(request.organisation)
            if problem:
                messages.error(request, problem)
                return redirect(back, slug)
            return view(request, slug, *args, **kwargs)

        return wrapper

    return decorator
