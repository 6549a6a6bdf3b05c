"""The flight import page (upload, preview, import all rows or none): tenancy.importpage's flow."""

from django.utils.translation import gettext as _

from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.importpage import import_page
from aeroledger.tenancy.models import Perm

from .imports import COLUMNS, FlightImport, import_flights


@org_required(Perm.MANAGE_MEMBERS)
def flight_import(request, slug):
    return import_page(
        request,
        import_flights,
        kind="flights",
        columns=COLUMNS,
        template="flights/import.html",
        message=_("%(count)s flights were imported; sign them off when checked."),
        next_url="flights:list",
        rows_setting=FlightImport.rows_setting,
    )
