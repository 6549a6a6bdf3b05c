from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aeroledger.members.models import Member, fold_name
from aeroledger.tenancy import hooks
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.figures import figure
from aeroledger.tenancy.lists import list_page, pk_in, query_without
from aeroledger.tenancy.models import Perm
from aeroledger.tenancy.pages import form_page
from aeroledger.tenancy.templatetags.money import chf

from . import lists, vat
from .forms import (
    BillingRunForm,
    CreditEntryForm,
    InvoiceForm,
    ManualPositionForm,
    StatementPeriodForm,
    TopUpForm,
)
from .grouping import position_groups
from .models import (
    BillingRun,
    CancelRefused,
    CreditEntry,
    CreditKind,
    InvalidStatusChange,
    Invoice,
    InvoiceKind,
    InvoiceLocked,
    InvoicePosition,
    InvoiceStatus,
    credit_balance,
    lock_credit_account,
)
from .pdf import statement_pdf
from .runs import billing_run, create_top_up, period_label, preview_billing_run

PAGE_SIZE = 50


def _member(request, member_id) -> Member:
    return get_object_or_404(Member, organisation=request.organisation, pk=member_id)


def _invoice(request, invoice_id) -> Invoice:
    return get_object_or_404(
        Invoice.objects.select_related("member"), organisation=request.organisation, pk=invoice_id
    )


CREDIT_SORTS = {"name": ("sort_name", "id"), "balance": ("balance", "sort_name", "id")}


@org_required()
def credit_accounts(request, slug):
    """Members who pay for themselves, with their balance; filters for the overview's numbers."""
    org = request.organisation
    q = request.GET.get("q", "")
    balance = request.GET.get("balance") or ("negative" if request.GET.get("negative") else "")
    sort = request.GET.get("sort") if request.GET.get("sort") in CREDIT_SORTS else "name"
    members = Member.objects.filter(organisation=org, invoice_to__isnull=True).search(q)
    if balance in ("negative", "low"):
        # The same accounts the overview counts (its figure, kept for a few seconds).
        ids, below_total = figure(request, "accounts_below", lambda: lists.accounts_below_ids(org))[balance]
        members = members.filter(pk_in(ids))
    else:
        balance = ""
    if q:
        count, balance_total = members.order_by().count(), None
    elif balance:
        count, balance_total = len(ids), below_total
    else:
        count, balance_total = figure(
            request, "credit_accounts", lambda: (members.order_by().count(), lists.balance_total(members))
        )
    rows = lists.with_balance(members).order_by(*CREDIT_SORTS[sort])
    if sort == "balance":
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        page.paginator.count = count
    else:
        page = list_page(request, rows, PAGE_SIZE, count=count)
    context = {
        "page": page,
        "q": q,
        "balance": balance,
        "sort": sort,
        "balance_total": balance_total if balance_total is not None else lists.balance_total(members),
        "threshold": org.low_balance_threshold,
        "query": query_without(request, "sort"),
    }
    return render(request, "billing/credit_accounts.html", context)


@org_required()
def statement(request, slug, member_id):
    member = _member(request, member_id)
    form = StatementPeriodForm(request.GET or None)
    entries = CreditEntry.objects.filter(organisation=request.organisation, member=member).select_related(
        "invoice"
    )
    start = end = None
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    opening = entries.filter(date__lt=start).balance() if start else None
    shown = entries
    if start:
        shown = shown.filter(date__gte=start)
    if end:
        shown = shown.filter(date__lte=end)
    running = opening or 0
    lines = []
    for entry in _one_line_per_invoice(shown.order_by("date", "id")):
        running += entry.amount
        lines.append((entry, running))
    context = {
        "member": member,
        "form": form,
        "opening": opening,
        "lines": lines,
        "closing": running,
        "balance": entries.balance(),
        "start": start,
        "end": end,
    }
    return render(request, "billing/statement.html", context)


def _one_line_per_invoice(entries):
    """The statement's lines: what one invoice took from the credit (a usage entry per position,
    for the books) is one line with its sum, titled by the invoice."""
    merged = []
    for entry in entries:
        last = merged[-1] if merged else None
        if (
            entry.kind == CreditKind.USAGE
            and last is not None
            and last.kind == CreditKind.USAGE
            and last.invoice_id == entry.invoice_id
            and last.date == entry.date
        ):
            last.amount += entry.amount
            continue
        if entry.kind == CreditKind.USAGE and entry.invoice is not None:
            entry.text = entry.invoice.title
        merged.append(entry)
    return merged


@org_required(Perm.MANAGE_INVOICING)
def credit_entry_create(request, slug, member_id):
    member = _member(request, member_id)
    form = CreditEntryForm(request.POST or None, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        entry = form.save(commit=False)
        with transaction.atomic():
            lock_credit_account(member)
            balance = credit_balance(member)
            if entry.kind == CreditKind.REFUND and balance + entry.amount < 0:
                form.add_error(
                    "amount",
                    _("A refund cannot be more than the credit (%(balance)s).") % {"balance": chf(balance)},
                )
            else:
                entry.organisation = request.organisation
                entry.member = member
                entry.created_by = request.user
                entry.save()
                messages.success(request, _("The entry was booked."))
                return redirect("billing:statement", slug, member.pk)
    context = {"form": form, "member": member, "balance": credit_balance(member)}
    return render(request, "billing/credit_entry_form.html", context)


INVOICE_SORTS = {
    "date": ("-date", "-id"),
    "number": ("number", "id"),
    "name": ("member__sort_name", "-date", "-id"),
}


def _invoice_member(request, org):
    """The member `?member=` narrows the list to (their invoices as bill-to member), or None."""
    value = request.GET.get("member", "")
    if not value.isdigit() or len(value) > 18:
        return None
    return Member.objects.filter(organisation=org, pk=int(value)).first()


@org_required()
def invoices(request, slug):
    """The invoice list: filters (status, owed, member, search, and what integrations add), the
    totals of the filtered rows, sorting by date, number or member name."""
    org = request.organisation
    status = request.GET.get("status", "")
    show = request.GET.get("show", "")
    q = request.GET.get("q", "").strip()
    sort = request.GET.get("sort") if request.GET.get("sort") in INVOICE_SORTS else "date"
    invoice_list = Invoice.objects.filter(organisation=org)
    if status in InvoiceStatus.values:
        invoice_list = invoice_list.filter(status=status)
    else:
        status = ""
    if show == "owed":
        invoice_list = lists.owed(invoice_list)
    else:
        show = ""
    member = _invoice_member(request, org)
    if member is not None:
        invoice_list = invoice_list.filter(member=member)
    if q:
        invoice_list = invoice_list.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(member__sort_name__contains=fold_name(q))
        )
    extra_filters = []
    for spec in hooks.collect("invoice_list_filters", request, organisation=org):
        value = request.GET.get(spec["name"], "")
        if value not in dict(spec["choices"]):
            value = ""
        if value:
            invoice_list = spec["apply"](invoice_list, value)
        extra_filters.append({**spec, "value": value})
    if member or q:
        totals = lists.invoice_totals(invoice_list)
    else:  # every invoice, or a status, "owed" or bexio filter: figures kept for a few seconds
        chosen = [f"{f['name']}={f['value']}" for f in extra_filters]
        key = ":".join(["invoice_totals", status, show, *chosen])
        totals = figure(request, key, lambda: lists.invoice_totals(invoice_list))
    rows = lists.with_open_amount(invoice_list.select_related("member").order_by(*INVOICE_SORTS[sort]))
    page = list_page(request, rows, PAGE_SIZE, count=totals.count)
    for inv in page:
        inv.open_amount = lists.open_amount(inv)
    column = hooks.first("invoice_list_rows", request, organisation=org, invoices=page.object_list)
    if column:
        for inv in page:
            inv.integration = column["rows"].get(inv.pk)
    context = {
        "page": page,
        "status": status,
        "show": show,
        "q": q,
        "sort": sort,
        "member": member,
        "statuses": InvoiceStatus.choices,
        "extra_filters": extra_filters,
        "totals": totals,
        "column": column,
        "filtered": bool(status or show or member or q or any(f["value"] for f in extra_filters)),
        "figures_as_of": getattr(request, "figures_as_of", None),
        "query": query_without(request, "sort"),
    }
    return render(request, "billing/invoices.html", context)


@org_required()
def invoice_detail(request, slug, invoice_id):
    invoice = _invoice(request, invoice_id)
    positions = list(invoice.positions.select_related("charge__flight__aircraft").order_by("pos", "id"))
    if invoice.status == InvoiceStatus.DRAFT:
        # What the credit would pay if the draft were approved now (approval books it).
        settlement = invoice.settlement(invoice.credit_available())
        covered = dict(
            zip(
                sorted(positions, key=lambda p: (p.date or invoice.date, p.pos, p.pk)),
                settlement.covered,
                strict=True,
            )
        )
        for position in positions:
            position.credit_covered = covered[position]
    context = {
        "invoice": invoice,
        "groups": position_groups(positions),
        "vat": vat.breakdown(invoice, positions),
        "any_credit": any(p.credit_covered for p in positions),
        "edit_positions": invoice.positions_editable and request.membership.has_perm(Perm.MANAGE_INVOICING),
    }
    return render(request, "billing/invoice.html", context)


@org_required()
def invoice_statement_pdf(request, slug, invoice_id):
    """The statement of what the credit paid (the member's copy when no invoice goes out)."""
    invoice = _invoice(request, invoice_id)
    if not invoice.has_statement:
        raise Http404
    response = HttpResponse(statement_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="statement-{invoice.number}.pdf"'
    return response


@org_required(Perm.MANAGE_INVOICING)
def invoice_edit(request, slug, invoice_id):
    invoice = _invoice(request, invoice_id)
    return form_page(
        request,
        InvoiceForm,
        invoice,
        "billing/invoice_form.html",
        {"invoice": invoice},
        saved=_("The invoice was saved."),
        back=redirect("billing:invoice", slug, invoice.pk),
        locked=lambda i: _("An approved invoice cannot be edited here any more.") if i.is_locked else "",
    )


@org_required(Perm.MANAGE_INVOICING, post=True)
def invoice_approve(request, slug, invoice_id):
    invoice = _invoice(request, invoice_id)
    try:
        invoice.approve(request.user)
    except InvalidStatusChange:
        messages.error(
            request,
            _("Invoice %(number)s is no longer a draft (%(status)s); only drafts can be approved.")
            % {"number": invoice.number, "status": invoice.get_status_display()},
        )
    else:
        messages.success(request, approved_message(invoice))
    return redirect("billing:invoice", slug, invoice.pk)


def approved_message(invoice: Invoice) -> str:
    if invoice.is_statement:
        return _(
            "Invoice %(number)s was approved; the credit pays all of it (%(credit)s), nothing is due."
        ) % {
            "number": invoice.number,
            "credit": chf(invoice.credit_applied),
        }
    if invoice.credit_applied:
        return _("Invoice %(number)s was approved: %(credit)s paid from credit, %(due)s due.") % {
            "number": invoice.number,
            "credit": chf(invoice.credit_applied),
            "due": chf(invoice.amount_due),
        }
    return _("Invoice %(number)s was approved.") % {"number": invoice.number}


@org_required(Perm.MANAGE_INVOICING, post=True)
def invoice_cancel(request, slug, invoice_id):
    invoice = _invoice(request, invoice_id)
    try:
        invoice.cancel(request.user)
    except CancelRefused as exc:
        messages.error(request, str(exc))
    except InvalidStatusChange:
        if invoice.status == InvoiceStatus.CANCELLED:
            messages.info(request, _("Invoice %(number)s is already cancelled.") % {"number": invoice.number})
        else:
            messages.error(
                request,
                _(
                    "Invoice %(number)s is in the accounting already (%(status)s): cancel it there; "
                    "its status comes back here."
                )
                % {"number": invoice.number, "status": invoice.get_status_display()},
            )
    else:
        if invoice.credit_applied:
            text = _(
                "Invoice %(number)s was cancelled; the credit it used (%(credit)s) is back on the member's "
                "account and its charges can be billed again."
            )
        else:
            text = _("Invoice %(number)s was cancelled; its charges can be billed again.")
        messages.success(request, text % {"number": invoice.number, "credit": chf(invoice.credit_applied)})
    return redirect("billing:invoice", slug, invoice.pk)


def _positions_locked(invoice: Invoice) -> str:
    """Why the positions of `invoice` cannot change (it is approved, transferred or a top-up)."""
    if invoice.status == InvoiceStatus.DRAFT and invoice.kind == InvoiceKind.TOP_UP:
        return _("A top-up invoice keeps its one position; cancel it and create a new top-up instead.")
    return _(
        "Invoice %(number)s is no longer a draft (%(status)s): only the positions of draft invoices "
        "can be removed or added."
    ) % {"number": invoice.number, "status": invoice.get_status_display()}


@org_required(Perm.MANAGE_INVOICING, post=True)
def position_remove(request, slug, invoice_id, position_id):
    invoice = _invoice(request, invoice_id)
    position = get_object_or_404(InvoicePosition, invoice=invoice, pk=position_id)
    try:
        invoice.remove_position(position)
    except InvoiceLocked:
        messages.error(request, _positions_locked(invoice))
    else:
        if position.charge_id:
            text = _("Position %(pos)s was removed; the next billing run bills its charge again.")
        else:
            text = _("Position %(pos)s was removed.")
        messages.success(request, text % {"pos": position.pos})
    return redirect("billing:invoice", slug, invoice.pk)


@org_required(Perm.MANAGE_INVOICING)
def position_create(request, slug, invoice_id):
    invoice = _invoice(request, invoice_id)
    back = redirect("billing:invoice", slug, invoice.pk)
    if not invoice.positions_editable:
        messages.error(request, _positions_locked(invoice))
        return back
    form = ManualPositionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invoice.add_manual_position(**form.cleaned_data, user=request.user)
        except InvoiceLocked:
            messages.error(request, _positions_locked(invoice))
        else:
            messages.success(request, _("The position was added and the totals recalculated."))
        return back
    return render(request, "billing/position_form.html", {"form": form, "invoice": invoice})


@org_required(Perm.MANAGE_INVOICING)
def top_up(request, slug):
    form = TopUpForm(request.POST or None, organisation=request.organisation, initial=request.GET or None)
    if request.method == "POST" and form.is_valid():
        invoice = create_top_up(
            request.organisation, form.cleaned_data["member"], form.cleaned_data["amount"], user=request.user
        )
        messages.success(request, _("Top-up invoice %(number)s was created.") % {"number": invoice.number})
        return redirect("billing:invoice", slug, invoice.pk)
    return render(request, "billing/top_up.html", {"form": form})


@org_required()
def runs(request, slug):
    run_list = BillingRun.objects.filter(organisation=request.organisation).select_related("created_by")
    page = Paginator(run_list, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/runs.html", {"page": page, "form": BillingRunForm()})


@org_required(Perm.MANAGE_INVOICING)
def run_create(request, slug):
    """Period -> preview (members, invoices, totals; nothing written) -> the run itself."""
    form = BillingRunForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        period = form.cleaned_data["period"]
        if request.POST.get("action") == "create":
            run, made = billing_run(
                request.organisation, period, user=request.user, approve=form.cleaned_data["approve"]
            )
            if run is None:
                messages.info(
                    request,
                    _("Nothing to bill up to the end of %(period)s.") % {"period": period_label(period)},
                )
                return redirect("billing:runs", slug)
            messages.success(
                request,
                ngettext(
                    "The billing run made %(count)s invoice.",
                    "The billing run made %(count)s invoices.",
                    len(made),
                )
                % {"count": len(made)},
            )
            return redirect("billing:run", slug, run.pk)
        preview = preview_billing_run(request.organisation, period)
    return render(request, "billing/run_form.html", {"form": form, "preview": preview})


@org_required(Perm.MANAGE_INVOICING, post=True)
def run_approve(request, slug, run_id):
    """Approve every draft invoice of the run (each in its own transaction, locked and re-checked)."""
    run = get_object_or_404(BillingRun, organisation=request.organisation, pk=run_id)
    approved = 0
    for invoice in run.invoices.filter(status=InvoiceStatus.DRAFT).select_related("member", "organisation"):
        try:
            invoice.approve(request.user)
        except InvalidStatusChange:  # approved or cancelled meanwhile by someone else
            continue
        approved += 1
    messages.success(
        request,
        ngettext("%(count)s invoice was approved.", "%(count)s invoices were approved.", approved)
        % {"count": approved},
    )
    return redirect("billing:run", slug, run.pk)


@org_required()
def run_detail(request, slug, run_id):
    run = get_object_or_404(BillingRun, organisation=request.organisation, pk=run_id)
    invoice_list = run.invoices.select_related("member").order_by("number")
    has_drafts = any(invoice.status == InvoiceStatus.DRAFT for invoice in invoice_list)
    context = {"run": run, "invoices": invoice_list, "has_drafts": has_drafts}
    return render(request, "billing/run.html", context)
