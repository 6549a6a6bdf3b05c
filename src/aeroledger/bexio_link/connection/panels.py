"""What the connection adds to the club's pages (tenancy.hooks slots, registered in apps.py).

The overview shows the state of the bexio connection: connected since when, when the token was
last refreshed, or that a reconnect is needed (with the reason) and where to do it.
"""

from django.template.loader import render_to_string

from .models import BexioConnection, Status


def dashboard_panel(request, organisation, **_kwargs):
    """The overview's bexio connection figure; nothing without the bexio option."""
    if not organisation.bexio_option:
        return None
    conn = BexioConnection.objects.filter(organisation=organisation).first()
    if conn is not None and conn.status == Status.NOT_CONNECTED and not conn.has_token:
        conn = None
    membership = getattr(request, "membership", None)
    context = {
        "organisation": organisation,
        "conn": conn,
        "missing": conn.missing_scopes if conn is not None else [],
        "can_manage": bool(membership and membership.manage_settings),
    }
    return render_to_string("bexio_connection/panels/dashboard.html", context, request=request)
