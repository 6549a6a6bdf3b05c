from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.importpage import import_page
from aeroledger.tenancy.models import Perm

from .forms import MemberForm
from .imports import COLUMNS, import_members
from .models import Member

PAGE_SIZE = 50


def _member(request, member_id) -> Member:
    return get_object_or_404(Member, organisation=request.organisation, pk=member_id)


@org_required()
def member_list(request, slug):
    q = request.GET.get("q", "")
    show = request.GET.get("show", "active")
    members = Member.objects.filter(organisation=request.organisation).select_related("invoice_to").search(q)
    if show == "active":
        members = members.filter(is_active=True)
    elif show == "archived":
        members = members.filter(is_active=False)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "members/list.html", {"page": page, "q": q, "show": show})


@org_required()
def member_detail(request, slug, member_id):
    member = _member(request, member_id)
    pays_for = member.pays_for.order_by("last_name", "first_name")
    return render(request, "members/detail.html", {"member": member, "pays_for": pays_for})


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
