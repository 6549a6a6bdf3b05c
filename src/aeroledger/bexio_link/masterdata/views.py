"""Mapping page (refresh, map, settings) and contacts page (match, link, sync)."""

from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from aeroledger.bexio_link.connection.clients import NotConnected, client_for
from aeroledger.bexio_link.connection.models import connection_for
from aeroledger.billing.models import ChargeType, Invoice, InvoiceStatus
from aeroledger.flights.models import Aerodrome, Aircraft
from aeroledger.members.models import Member
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.models import Perm
from bexio import errors as bexio_errors
from bexio.models import AccountType

from . import tasks
from .contact_sync import contact_warnings, members_to_sync
from .contacts import ContactSyncError, contact_fields, ensure_contact, ensure_contact_group, fields_hash
from .forms import ChargeMappingForm, InvoiceSettingsForm, LinkForm
from .linking import link_candidates, link_confirmed, link_preview, unlink
from .mapping import charge_type_label, mapping_for
from .models import ChargeMapping, ContactLink, Kind, LinkState
from .refresh import describe_error, last_refresh
from .validation import validate_invoice


def _not_connected_errors():
    return (NotConnected, bexio_errors.BexioError, ContactSyncError)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, bexio_errors.BexioError):
        return _("bexio answered: %(error)s") % {"error": describe_error(exc)}
    return str(exc)


# --- Mapping -------------------------------------------------------------------------------------


@dataclass
class RowSpec:
    charge_type: str
    aircraft_id: int | None
    aerodrome_id: int | None
    label: str
    is_default: bool = False

    @property
    def prefix(self) -> str:
        return f"m-{self.charge_type}-{self.aircraft_id or 0}-{self.aerodrome_id or 0}"


def row_specs(org) -> list[RowSpec]:

    specs = [RowSpec(ChargeType.AIRCRAFT_TIME, None, None, _("all aircraft (default)"), True)]
    specs += [
        RowSpec(ChargeType.AIRCRAFT_TIME, a.pk, None, a.registration)
        for a in Aircraft.objects.filter(organisation=org).order_by("registration")
    ]
    specs.append(RowSpec(ChargeType.INSTRUCTION, None, None, "", True))
    specs.append(RowSpec(ChargeType.LANDING_FEE, None, None, _("all aerodromes (default)"), True))
    specs += [
        RowSpec(ChargeType.LANDING_FEE, None, a.pk, f"{a.icao} {a.name}")
        for a in Aerodrome.objects.filter(organisation=org).order_by("icao")
    ]
    specs.append(RowSpec(ChargeType.TOP_UP, None, None, "", True))
    specs.append(RowSpec(ChargeType.MANUAL, None, None, "", True))
    return specs


def _mapping_rows(org, mapping, data=None):
    rows = []
    for spec in row_specs(org):
        row = mapping.rows.get((spec.charge_type, spec.aircraft_id, spec.aerodrome_id))
        form = ChargeMappingForm(
            data, organisation=org, row=row, prefix=spec.prefix, charge_type=spec.charge_type
        )
        if row is not None:
            problems = mapping.row_problems(row)
            status = "broken" if problems else "ok"
        elif not spec.is_default and mapping.rows.get((spec.charge_type, None, None)):
            problems, status = [], "default"
        else:
            problems, status = [], "unmapped"
        rows.append(
            {
                "spec": spec,
                "type_label": charge_type_label(spec.charge_type),
                "row": row,
                "form": form,
                "problems": problems,
                "status": status,
            }
        )
    return rows


def _mapping_page(request, settings_form=None, rows=None, status=200):
    org = request.organisation
    mapping = mapping_for(org)
    can_change = request.membership.has_perm(Perm.MANAGE_SETTINGS)
    if settings_form is None:
        # What is shown as chosen is what is saved; suggestions are offered beside, never preselected.
        settings_form = InvoiceSettingsForm(instance=mapping.settings, organisation=org)
    if rows is None:
        rows = _mapping_rows(org, mapping)
    if not can_change:
        for field in settings_form.fields.values():
            field.disabled = True
        for item in rows:
            for field in item["form"].fields.values():
                field.disabled = True
    context = {
        "mapping": mapping,
        "problems": mapping.problems(),
        "contact_warnings": contact_warnings(mapping),
        "waiting": _waiting_invoices(org, mapping),
        "settings_form": settings_form,
        "rows": rows,
        "can_change": can_change,
        "contact_group": mapping.contact_group,
        "suggestions": _suggestions(org, mapping),
        "ledger_fields": [f for f in settings_form if f.name in InvoiceSettingsForm.LEDGER_FIELDS],
        "settings_fields": [f for f in settings_form if f.name not in InvoiceSettingsForm.LEDGER_FIELDS],
        **_refresh_context(org, mapping),
    }
    return render(request, "bexio_masterdata/mapping.html", context, status=status)


def _refresh_context(org, mapping) -> dict:
    return {
        "refresh": last_refresh(org),
        "refresh_active": tasks.active_refresh(org) is not None,
        "counts": {kind: len(mapping.master.all(kind)) for kind in COUNTED_KINDS},
    }


def _finished_poll(request, active: bool):
    """The poll of a run that was running sees it finished: reload the whole page (it changed)."""
    if not active and request.GET.get("was") == "running" and request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return None


WAITING_CHECKED = 200  # invoices checked for the summary (the newest approved, then drafts)


def _waiting_invoices(org, mapping) -> dict:
    """What blocks the invoices not yet in bexio (approved first, then drafts), each reason once
    with how many invoices it blocks and a few of them (not one red block per invoice)."""
    waiting = Invoice.objects.filter(
        organisation=org, status__in=[InvoiceStatus.APPROVED, InvoiceStatus.DRAFT]
    ).select_related("member", "organisation")
    everywhere = set(mapping.problems())  # shown once above, not per invoice
    reasons: dict[str, list] = {}
    ok = checked = blocked = 0
    for status in (InvoiceStatus.APPROVED, InvoiceStatus.DRAFT):
        for invoice in waiting.filter(status=status).order_by("-date", "-id")[:WAITING_CHECKED]:
            checked += 1
            own = [r for r in validate_invoice(invoice, mapping) if r not in everywhere]
            if own:
                blocked += 1
            elif not everywhere:
                ok += 1
            for reason in own:
                reasons.setdefault(reason, []).append(invoice)
    grouped = sorted(reasons.items(), key=lambda kv: -len(kv[1]))
    return {
        "reasons": [{"reason": r, "count": len(invs), "examples": invs[:3]} for r, invs in grouped],
        "blocked": blocked,
        "ok": ok,
        "checked": checked,
        "total": waiting.count(),
    }


COUNTED_KINDS = ("article", "tax", "account", "bank_account", "user")


def _suggestions(org, mapping) -> list[str]:
    """What to choose where nothing is chosen yet: the first QR bank account, the bexio user who
    connected, the 2030-like liability account (shown as a hint, never preselected)."""
    hints = []
    s = mapping.settings
    banks = mapping.master.bank_accounts()
    if not s.bank_account_id and banks:
        hints.append(_("Bank account: %(name)s") % {"name": banks[0].name})
    conn = connection_for(org)
    consenting = str(getattr(conn, "bexio_user_id", "") or "")
    user = next((u for u in mapping.master.all(Kind.USER) if str(u.bexio_id) == consenting), None)
    if not s.user_id and user is not None:
        hints.append(_("Owner: %(name)s (who connected bexio)") % {"name": user.name})
    if org.is_prepaid and not s.credit_account_id:
        liabilities = mapping.master.accounts_of(AccountType.LIABILITIES)
        credit = next((a for a in liabilities if a.data.get("account_no") == "2030"), None)
        if credit is not None:
            hints.append(_("Members' credit: %(name)s") % {"name": credit.name})
    return hints


@org_required()
def mapping(request, slug):
    return _mapping_page(request)


@org_required(Perm.MANAGE_SETTINGS, post=True)
def mapping_save(request, slug):
    org = request.organisation
    mapping = mapping_for(org)
    instance = mapping.settings
    settings_form = InvoiceSettingsForm(request.POST, instance=instance, organisation=org)
    rows = _mapping_rows(org, mapping, request.POST)
    if not (settings_form.is_valid() and all(item["form"].is_valid() for item in rows)):
        messages.error(request, _("The mapping was not saved: please correct the marked fields."))
        return _mapping_page(request, settings_form, rows, status=400)
    with transaction.atomic():
        saved = settings_form.save(commit=False)
        if "contact_group_name" in settings_form.changed_data:
            saved.contact_group = None  # found again by name (or created) below
        saved.updated_by = request.user
        saved.save()
        for item in rows:
            spec, form = item["spec"], item["form"]
            key = {
                "organisation": org,
                "charge_type": spec.charge_type,
                "aircraft_id": spec.aircraft_id,
                "aerodrome_id": spec.aerodrome_id,
            }
            if form.is_empty:
                ChargeMapping.objects.filter(**key).delete()
                continue
            data = form.cleaned_data
            values = {"article": data["article"], "account": data["account"], "tax": data["tax"]}
            row = item["row"]
            if row is None:
                ChargeMapping.objects.create(**key, **values)
            elif (row.article_id, row.account_id, row.tax_id) != tuple(
                v.pk if v else None for v in values.values()
            ):
                for name, value in values.items():
                    setattr(row, name, value)
                row.save()
    messages.success(request, _("The mapping was saved."))
    _ensure_group_quietly(request, org)
    return redirect("bexio_masterdata:mapping", slug)


def _ensure_group_quietly(request, org) -> None:
    """Find or create the contact group in bexio now, so the first contact sync only creates contacts."""
    mapping = mapping_for(org)
    if mapping.contact_group_id:
        return
    try:
        ensure_contact_group(client_for(org), mapping)
    except _not_connected_errors() as exc:
        messages.warning(
            request,
            _("The contact group will be created in bexio at the first contact sync (%(reason)s).")
            % {"reason": _error_text(exc)},
        )


@org_required(Perm.MANAGE_SETTINGS, post=True)
def refresh(request, slug):
    """Enqueue the refresh (the db_worker runs it); the page shows it running and polls."""
    _run, started = tasks.start_refresh(request.organisation, triggered_by="button")
    if started:
        messages.success(request, _("Refresh from bexio started."))
    else:
        messages.info(request, _("A refresh from bexio is already running."))
    return redirect("bexio_masterdata:mapping", slug)


@org_required()
def refresh_state(request, slug):
    """The "Master data from bexio" card (htmx polls it while a refresh runs). Reads only."""
    org = request.organisation
    context = {
        "can_change": request.membership.has_perm(Perm.MANAGE_SETTINGS),
        **_refresh_context(org, mapping_for(org)),
    }
    return _finished_poll(request, context["refresh_active"]) or render(
        request, "bexio_masterdata/_refresh.html", context
    )


# --- Contacts ------------------------------------------------------------------------------------


@org_required()
def contacts(request, slug):

    org = request.organisation
    mapping = mapping_for(org)
    group_id = mapping.contact_group_id
    links = {link.member_id: link for link in ContactLink.objects.filter(organisation=org)}
    members = list(members_to_sync(org))
    listed = {m.pk for m in members}
    members += list(Member.objects.filter(organisation=org, pk__in=[i for i in links if i not in listed]))
    conflicts, unlinked, linked = [], [], []
    for member in members:
        link = links.get(member.pk)
        if link is not None and link.state == LinkState.CONFLICT:
            conflicts.append({"member": member, "link": link})
        elif link is not None and link.is_linked:
            changed = link.synced_hash != fields_hash(contact_fields(member, mapping), group_id)
            linked.append({"member": member, "link": link, "changed": changed})
        else:
            unlinked.append({"member": member, "link": link})
    context = {
        "conflicts": conflicts,
        "unlinked": unlinked,
        "linked": linked,
        "can_change": request.membership.has_perm(Perm.MANAGE_MEMBERS),
        "ready": mapping.user is not None,
        "changed_count": sum(1 for item in linked if item["changed"]),
        **_contact_sync_context(org),
    }
    return render(request, "bexio_masterdata/contacts.html", context)


def _contact_sync_context(org) -> dict:
    run = tasks.last_contact_sync(org)
    return {
        "sync_run": run,
        "sync_active": tasks.active_contact_sync(org) is not None,
        "sync_report": _summary_message(run.summary) if run is not None and run.summary else "",
    }


@org_required()
def contacts_sync_state(request, slug):
    """The "Sync all contacts" part of the contacts page (htmx polls it while a sync runs). Reads only."""
    org = request.organisation
    context = {
        "can_change": request.membership.has_perm(Perm.MANAGE_MEMBERS),
        "ready": mapping_for(org).user is not None,
        **_contact_sync_context(org),
    }
    return _finished_poll(request, context["sync_active"]) or render(
        request, "bexio_masterdata/_contact_sync.html", context
    )


def _summary_message(s: dict) -> str:
    return (
        _(
            "Contacts: %(created)s created, %(updated)s updated, %(matched)s matched, "
            "%(unchanged)s unchanged, %(conflicts)s to be chosen by hand, %(errors)s failed."
        )
        % s
    )


@org_required(Perm.MANAGE_MEMBERS, post=True)
def contacts_sync(request, slug):
    """Enqueue the sync of the whole club (the db_worker runs it); the page polls its state."""
    _run, started = tasks.start_contact_sync(request.organisation, user=request.user)
    if started:
        messages.success(request, _("Contact sync started."))
    else:
        messages.info(request, _("A contact sync is already running."))
    return redirect("bexio_masterdata:contacts", slug)


def _member(request, member_id):

    return get_object_or_404(Member, organisation=request.organisation, pk=member_id)


@org_required(Perm.MANAGE_MEMBERS, post=True)
def contact_sync(request, slug, member_id):
    member = _member(request, member_id)
    try:
        contact_id = ensure_contact(None, member)
    except _not_connected_errors() as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("%(member)s is bexio contact %(id)s.") % {"member": member.display_name, "id": contact_id},
        )
    return redirect("bexio_masterdata:contacts", slug)


@org_required(Perm.MANAGE_MEMBERS, post=True)
def contact_link(request, slug, member_id):
    """Link a member to a bexio contact by hand, in three POSTs of one form:

    without `bexio_id`: the candidates (same number, e-mail or name; from bexio); with `bexio_id`:
    what linking would overwrite there, field by field, and whether the contact is outside the
    organisation's contact group; with `confirm`: link and write (outside the group only when
    `outside_group_ok` was ticked). An id that is no candidate is refused.
    """
    member = _member(request, member_id)
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the offered bexio contacts."))
        return redirect("bexio_masterdata:contacts", slug)
    bexio_id = form.cleaned_data["bexio_id"]
    context = {"member": member, "form": form}
    try:
        client = client_for(request.organisation)
        if bexio_id is None:
            context["candidates"] = link_candidates(client, member)
            return render(request, "bexio_masterdata/contact_link.html", context)
        if not form.cleaned_data["confirm"]:
            context["preview"] = link_preview(client, member, bexio_id)
            return render(request, "bexio_masterdata/contact_link.html", context)
        link_confirmed(client, member, bexio_id, outside_group_ok=form.cleaned_data["outside_group_ok"])
    except _not_connected_errors() as exc:
        messages.error(request, _error_text(exc))
        return redirect("bexio_masterdata:contacts", slug)
    messages.success(
        request,
        _("%(member)s is now linked to bexio contact %(id)s.")
        % {"member": member.display_name, "id": bexio_id},
    )
    return redirect("bexio_masterdata:contacts", slug)


@org_required(Perm.MANAGE_MEMBERS, post=True)
def contact_unlink(request, slug, member_id):
    member = _member(request, member_id)
    unlink(member)
    messages.success(
        request,
        _("%(member)s is no longer linked; the bexio contact was left as it is.")
        % {"member": member.display_name},
    )
    return redirect("bexio_masterdata:contacts", slug)
