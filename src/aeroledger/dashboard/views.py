"""The organisation's overview: what needs the treasurer today, each number linking to its list.

The club's own figures come from billing.lists (aggregates over the organisation's invoices and
credit entries, kept for a few seconds by tenancy.figures); what an integration adds (the bexio
connection, transfers waiting or failed) is rendered into the "dashboard" slot by the integration
itself (tenancy.hooks), so this page knows nothing of bexio.
"""

from django.shortcuts import render

from aeroledger.billing import lists
from aeroledger.flights.models import Flight
from aeroledger.members.models import Member
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.figures import figure


def overview_figures(org) -> dict:
    return {
        "owed": lists.owed_summary(org),
        "drafts": lists.drafts_summary(org),
        "balances": lists.balance_summary(org) if org.is_prepaid else None,
        "last_run": lists.last_run(org),
        "flights_to_sign_off": Flight.objects.filter(organisation=org, signed_off_at__isnull=True).count(),
        "active_members": Member.objects.filter(organisation=org, is_active=True).count(),
    }


@org_required()
def home(request, slug):
    org = request.organisation
    context = figure(request, "overview", lambda: overview_figures(org))
    return render(request, "dashboard/home.html", context)
