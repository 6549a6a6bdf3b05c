"""Invoicing > Bexio > Books: the reconciliation with bexio's journal (start, progress, result,
history), the opening balance of members' credit, and "How Aeroledger books to bexio"."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.bexio_link.transfer.readiness import bexio_writable, transfer_problem
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.models import Perm
from aeroledger.tenancy.params import BadParameter, date_param, int_param, month_param, parse_month

from . import model_page, opening, runs, texts
from .models import ReconciliationRun
from .tasks import reconcile_task

HISTORY = 10
DIFFERENCES_SHOWN = 200
PERIODS = 24  # months offered besides "up to today"


def _periods(today):
    out, year, month = [], today.year, today.month
    for _n in range(PERIODS):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


def _shown(run: ReconciliationRun | None) -> dict:
    """What the page shows of a finished run: its result with the words of each difference."""
    if run is None or not run.result:
        return {}
    data = run.result
    diffs = data.get("differences", [])
    return {
        "result": data,
        "differences": [texts.describe(d) for d in diffs[:DIFFERENCES_SHOWN]],
        "differences_hidden": max(0, len(diffs) - DIFFERENCES_SHOWN),
        "notes": [texts.note_text(n) for n in data.get("notes", [])],
    }


def _live(org) -> dict:
    return {
        "open_run": runs.open_run(org),
        "last_run": ReconciliationRun.objects.filter(organisation=org)
        .exclude(status__in=ReconciliationRun.OPEN)
        .first(),
    }


@org_required()
def books(request, slug):
    org = request.organisation
    mapping = mapping_for(org)
    live = _live(org)
    finished = runs.last_finished(org)
    context = {
        **live,
        **_shown(finished),
        "shown_run": finished,
        "history": ReconciliationRun.objects.filter(organisation=org)[:HISTORY],
        "periods": _periods(timezone.localdate()),
        "can_manage": request.membership.has_perm(Perm.MANAGE_INVOICING),
        "connection_problem": transfer_problem(org),
        "opening": opening.state(org, mapping) if org.is_prepaid else None,
    }
    return render(request, "bexio_books/books.html", context)


@org_required()
def reconciliation(request, slug, reconciliation_id):
    org = request.organisation
    run = get_object_or_404(ReconciliationRun, organisation=org, pk=reconciliation_id)
    context = {
        **_shown(run),
        "shown_run": run,
        "can_manage": request.membership.has_perm(Perm.MANAGE_INVOICING),
    }
    return render(request, "bexio_books/reconciliation.html", context)


@org_required()
def progress(request, slug):
    """The running reconciliation (htmx polls it every second while one runs). Once the run the page
    showed has finished, the whole page is reloaded to show its result."""
    live = _live(request.organisation)
    response = render(request, "bexio_books/_live.html", live)
    was = request.GET.get("was")
    if was and (live["open_run"] is None or str(live["open_run"].pk) != was):
        response["HX-Refresh"] = "true"
    return response


@org_required(Perm.MANAGE_INVOICING, post=True)
@bexio_writable("bexio_books:books")
def start(request, slug):
    org = request.organisation
    period = (request.POST.get("period") or "").strip() or None
    if period:
        parse_month(period, label=_("period"))  # a bad month is a 400 with the reason
    try:
        run = runs.start(org, period, user=request.user)
    except runs.AlreadyRunning as exc:
        messages.info(request, str(exc))
        return redirect("bexio_books:books", slug)
    result = reconcile_task.enqueue(run_id=run.pk)
    ReconciliationRun.objects.filter(pk=run.pk).update(task_id=str(getattr(result, "id", ""))[:64])
    messages.success(request, _("The reconciliation with bexio has started."))
    return redirect("bexio_books:books", slug)


@org_required(Perm.MANAGE_INVOICING, post=True)
@bexio_writable("bexio_books:books")
def book_opening(request, slug):
    org = request.organisation
    account_id = int_param(request.POST, "account", label=_("account"))
    day = date_param(request.POST, "date", label=_("date")) or timezone.localdate()
    try:
        expected = Decimal(request.POST.get("amount") or "")
    except InvalidOperation:
        raise BadParameter(_("The amount confirmed is missing.")) from None
    try:
        item = opening.book(org, account_id=account_id, day=day, expected=expected, user=request.user)
    except opening.OpeningRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The opening balance of members' credit goes to bexio: %(label)s.") % {"label": item.label},
        )
    return redirect("bexio_books:books", slug)


@org_required()
def how(request, slug):
    """How Aeroledger books to bexio, for the treasurer's accountant."""
    org = request.organisation
    mapping = mapping_for(org)
    month = month_param(request.GET, "month", label=_("month"))
    first = model_page.sample_month(org, month[0] if month else None)
    context = {
        "mapping": mapping,
        "credit_account": mapping.account_name(mapping.credit_account_id)
        if mapping.credit_account_id
        else "",
        "top_up_account": mapping.account_name(mapping.top_up_account_id())
        if mapping.top_up_account_id()
        else "",
        "corrections_account": (
            mapping.account_name(mapping.corrections_account_id) if mapping.corrections_account_id else ""
        ),
        "rebooking": mapping.top_ups_need_rebooking,
        "accounts": model_page.accounts_in_use(org, mapping),
        "vat_codes": model_page.vat_codes_in_use(mapping),
        "sample": model_page.sample_bookings(org, mapping, first),
        "opening": opening.state(org, mapping) if org.is_prepaid else None,
    }
    return render(request, "bexio_books/how.html", context)
