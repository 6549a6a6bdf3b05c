"""Invoicing > Bexio > Authorisation, and bexio's redirect back (`/bexio/callback`)."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from aeroledger.billing.models import Invoice, InvoiceStatus
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.models import Perm

from . import authorisation as flow
from . import services
from .models import BexioCall, BexioConnection, ConnectionEvent
from .scopes import SCOPES, effective_scopes, is_required, why_required

log = logging.getLogger(__name__)

HISTORY_SHOWN = 20  # the latest connection events on the page (a keep-alive refresh adds 4 a day)


def _page_url(organisation) -> str:
    return reverse("bexio_connection:authorisation", args=[organisation.slug])


def _scope_rows(conn: BexioConnection | None, organisation):
    granted = set(conn.granted_scopes) if conn and conn.has_token else set()
    effective = effective_scopes(granted)
    chosen = set(conn.requested_optional_scopes) if conn else set()
    rows = []
    for scope in SCOPES:
        required = is_required(scope, organisation)
        rows.append(
            {
                "scope": scope,
                "required": required,
                "without_it": why_required(scope, organisation) if required else "",
                "requested": required or scope.name in chosen,
                "granted": scope.name in effective,
                "implied": scope.name in effective and scope.name not in granted,
            }
        )
    return rows


@never_cache
@org_required(Perm.MANAGE_SETTINGS)
def authorisation(request, slug):
    organisation = request.organisation
    conn = BexioConnection.objects.filter(organisation=organisation).first()
    has_token = bool(conn and conn.has_token)
    events = ConnectionEvent.objects.filter(organisation=organisation)
    context = {
        "conn": conn,
        "has_token": has_token,
        "bexio_option": organisation.bexio_option,
        "credentials_configured": flow.credentials_configured(),
        "is_sandbox": flow.is_sandbox(),
        "rows": _scope_rows(conn, organisation),
        "missing": [
            {"scope": scope, "without_it": why_required(scope, organisation)}
            for scope in (conn.missing_scopes if conn else [])
        ],
        "events": events.select_related("user")[:HISTORY_SHOWN],
        "events_total": events.count(),
        "last_calls": BexioCall.objects.filter(organisation=organisation)[:10],
        "test_result": request.session.pop(f"bexio_test_{organisation.pk}", None),
        "forbidden_explanation": flow.forbidden_explanation(),
        # What an IT person registers at developer.bexio.com, and what this installation uses.
        "redirect_uri": flow.redirect_uri(),
        "client_id": settings.BEXIO_CLIENT_ID,
        "auth_issuer": settings.BEXIO_AUTH_ISSUER,
        # For the Disconnect confirmation: what stops.
        "waiting_transfer": Invoice.objects.filter(
            organisation=organisation, status=InvoiceStatus.APPROVED
        ).count(),
    }
    context["can_start"] = context["bexio_option"] and context["credentials_configured"]
    return render(request, "bexio_connection/authorisation.html", context)


@org_required(Perm.MANAGE_SETTINGS, post=True)
def start(request, slug):
    """Get new token: remember the ticked optional scopes, then go to bexio."""
    organisation = request.organisation
    if not organisation.bexio_option:
        messages.error(request, _("The bexio option is not active for this organisation."))
        return redirect(_page_url(organisation))
    if not flow.credentials_configured():
        messages.error(request, _("The application's bexio client credentials are not configured."))
        return redirect(_page_url(organisation))
    flow.save_optional_scopes(organisation, request.POST.getlist("scope"), user=request.user)
    if not request.session.session_key:
        request.session.save()
    url = flow.start_authorisation(organisation, request.user, request.session.session_key)
    return HttpResponseRedirect(url)


@never_cache
@login_required
def callback(request):
    """bexio sends the browser back here, with the state that names the flow."""
    try:
        result = flow.finish_authorisation(
            user=request.user, session_key=request.session.session_key or "", params=request.GET
        )
    except flow.AuthorisationError as exc:
        if exc.organisation is not None and flow._may_manage(request.user, exc.organisation):
            messages.error(request, exc.message)
            return redirect(_page_url(exc.organisation))
        return render(request, "bexio_connection/callback_error.html", {"message": exc.message}, status=400)
    if result.cancelled:
        messages.warning(
            request,
            _("You cancelled at bexio: no access was granted and nothing was changed here."),
        )
    else:
        messages.success(request, _("bexio granted access."))
        for text in result.messages:
            messages.warning(request, text)
    return redirect(_page_url(result.organisation))


@org_required(Perm.MANAGE_SETTINGS, post=True)
def test_connection(request, slug):
    result = services.test_connection(request.organisation, user=request.user)
    request.session[f"bexio_test_{request.organisation.pk}"] = {
        "ok": result.ok,
        "latency_ms": result.latency_ms,
        "company_name": result.company_name,
        "user_name": result.user_name,
        "message": result.message,
        "forbidden": result.forbidden,
    }
    return redirect(_page_url(request.organisation))


@org_required(Perm.MANAGE_SETTINGS, post=True)
def disconnect(request, slug):
    services.disconnect(request.organisation, user=request.user)
    messages.success(request, _("Disconnected: the grant was revoked at bexio and the tokens were deleted."))
    return redirect(_page_url(request.organisation))
