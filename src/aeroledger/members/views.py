from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from aeroledger.billing import lists
from aeroledger.billing.models import Invoice, credit_balance
from aeroledger.flights.models import Flight
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.figures import figure
from aeroledger.tenancy.importpage import import_page
from aeroledger.tenancy.lists import list_page, query_without
from aeroledger.tenancy.models import Perm

from .forms import MemberForm
from .imports import COLUMNS, import_members
from .models import Member

PAGE_SIZE = 50


def _member(request, member_id) -> Member:
    return get_object_or_404(Member, organisation=request.organisation, pk=member_id)


MEMBER_SORTS = {"name": ("sort_name", "id"), "number": ("number", "id")}
RECENT = 10  # flights and invoices shown on a member's page


@org_required()
def member_list(request, slug):
    q = request.GET.get("q", "")
    show = request.GET.get("show", "active")
    sort = request.GET.get("sort") if request.GET.get("sort") in MEMBER_SORTS else "name"
    members = Member.objects.filter(organisation=request.organisation).search(q)
    if show == "active":
        members = members.filter(is_active=True)
    elif show == "archived":
        members = members.filter(is_active=False)
    else:
        show = "all"
    if q or show != "active":
        count, balance_total = members.order_by().count(), None
    else:  # the default view: an overview figure, kept for a few seconds
        count, balance_total = figure(
            request, "members", lambda: (members.order_by().count(), lists.balance_total(members))
        )
    rows = lists.with_balance(members.select_related("invoice_to").order_by(*MEMBER_SORTS[sort]))
    page = list_page(request, rows, PAGE_SIZE, count=count)
    context = {
        "page": page,
        "q": q,
        "show": show,
        "sort": sort,
        "balance_total": balance_total if balance_total is not None else lists.balance_total(members),
        "query": query_without(request, "sort"),
    }
    return render(request, "members/list.html", context)


@org_required()
def member_detail(request, slug, member_id):
    """A member at a glance: balance, recent flights and invoices, who pays for whom."""
    member = get_object_or_404(
        Member.objects.select_related("invoice_to"), organisation=request.organisation, pk=member_id
    )
    pays_for = list(member.pays_for.order_by("sort_name", "id"))
    # Their own flights, those they taught, and those of the members they pay for (each through
    # its index: no join over every flight).
    flights = (
        Flight.objects.filter(organisation=request.organisation)
        .filter(Q(pilot_id__in=[member.pk, *(m.pk for m in pays_for)]) | Q(instructor=member))
        .select_related("aircraft", "pilot", "instructor")
        .order_by("-date", "-id")[:RECENT]
    )
    invoices = lists.with_open_amount(
        Invoice.objects.filter(organisation=request.organisation, member=member).order_by("-date", "-id")
    )[:RECENT]
    invoices = list(invoices)
    for inv in invoices:
        inv.open_amount = lists.open_amount(inv)
    context = {
        "member": member,
        "pays_for": pays_for,
        "own_account": member.invoice_to_id is None,
        "balance": credit_balance(member) if member.invoice_to_id is None else None,
        "owed": lists.invoice_totals(
            lists.owed(Invoice.objects.filter(organisation=request.organisation, member=member))
        ),
        "flights": flights,
        "invoices": invoices,
        "invoice_count": Invoice.objects.filter(organisation=request.organisation, member=member).count(),
    }
    return render(request, "members/detail.html", context)


@org_required(Perm.MANAGE_MEMBERS)
def member_create(request, slug):
    form = MemberForm(request.POST or None, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        member = form.save()
        messages.success(request, _("Member %(name)s was created.") % {"name": member.display_name})
        return redirect("members:detail", slug, member.pk)
    return render(request, "members/form.html", {"form": form})


@org_required(Perm.MANAGE_MEMBERS)
def member_edit(request, slug, member_id):
    member = _member(request, member_id)
    form = MemberForm(request.POST or None, instance=member, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Member %(name)s was saved.") % {"name": member.display_name})
        return redirect("members:detail", slug, member.pk)
    return render(request, "members/form.html", {"form": form, "member": member})


@org_required(Perm.MANAGE_MEMBERS, post=True)
def member_archive(request, slug, member_id):
    member = _member(request, member_id)
    member.archive()
    messages.success(request, _("Member %(name)s was archived.") % {"name": member.display_name})
    return redirect("members:detail", slug, member.pk)


@org_required(Perm.MANAGE_MEMBERS)
def member_import(request, slug):
    return import_page(
        request,
        import_members,
        kind="members",
        columns=COLUMNS,
        template="members/import.html",
        message=_("%(count)s members were imported."),
        next_url="members:list",
    )
