from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from aeroledger.billing.models import Charge
from aeroledger.members.forms import ImportUploadForm
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.csvfiles import import_page
from aeroledger.tenancy.models import Perm

from .forms import AerodromeForm, AircraftForm, ChargeForm, FlightForm
from .imports import COLUMNS, import_flights
from .models import Aerodrome, Aircraft, Flight, FlightLocked

PAGE_SIZE = 50


def _flight(request, flight_id) -> Flight:
    return get_object_or_404(
        Flight.objects.select_related("aircraft", "pilot", "instructor"),
        organisation=request.organisation,
        pk=flight_id,
    )


@org_required()
def flight_list(request, slug):
    state = request.GET.get("state", "all")
    q = request.GET.get("q", "").strip()
    flights = (
        Flight.objects.filter(organisation=request.organisation)
        .select_related("aircraft", "pilot", "instructor")
        .annotate(total=Sum("charges__amount"))
        .order_by("-date", "-id")
    )
    if state == "open":
        flights = flights.filter(signed_off_at__isnull=True)
    elif state == "signed":
        flights = flights.filter(signed_off_at__isnull=False)
    if q:
        flights = flights.filter(
            Q(pilot__number=q) | Q(pilot__last_name__icontains=q) | Q(aircraft__registration__icontains=q)
        )
    page = Paginator(flights, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "flights/list.html", {"page": page, "state": state, "q": q})


@org_required()
def flight_detail(request, slug, flight_id):
    flight = _flight(request, flight_id)
    charges = flight.charges.select_related("member", "invoice")
    return render(
        request,
        "flights/detail.html",
        {"flight": flight, "charges": charges, "landings": flight.landings.select_related("aerodrome")},
    )


@org_required(Perm.MANAGE_MEMBERS)
def flight_create(request, slug):
    form = FlightForm(request.POST or None, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        flight = form.save()
        messages.success(request, _("The flight was saved; check its charges and sign it off."))
        return redirect("flights:detail", slug, flight.pk)
    return render(request, "flights/form.html", {"form": form})


@org_required(Perm.MANAGE_MEMBERS)
def flight_edit(request, slug, flight_id):
    flight = _flight(request, flight_id)
    if flight.is_signed_off:
        messages.error(request, _("This flight is signed off and can no longer be changed."))
        return redirect("flights:detail", slug, flight.pk)
    form = FlightForm(request.POST or None, instance=flight, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The flight was saved and its charges recalculated."))
        return redirect("flights:detail", slug, flight.pk)
    return render(request, "flights/form.html", {"form": form, "flight": flight})


@org_required(Perm.MANAGE_MEMBERS, post=True)
def flight_sign_off(request, slug, flight_id):
    flight = _flight(request, flight_id)
    try:
        flight.sign_off(request.user)
        messages.success(request, _("The flight was signed off; its charges are locked."))
    except FlightLocked:
        messages.error(request, _("This flight is already signed off."))
    return redirect("flights:detail", slug, flight.pk)


@org_required(Perm.MANAGE_MEMBERS)
def charge_edit(request, slug, charge_id):
    charge = get_object_or_404(
        Charge.objects.select_related("flight"), organisation=request.organisation, pk=charge_id
    )
    back = (
        redirect("flights:detail", slug, charge.flight_id)
        if charge.flight_id
        else redirect("flights:list", slug)
    )
    if charge.is_locked:
        messages.error(request, _("This charge is signed off and can no longer be changed."))
        return back
    form = ChargeForm(request.POST or None, instance=charge)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The charge was adjusted."))
        return back
    return render(request, "flights/charge_form.html", {"form": form, "charge": charge})


@org_required()
def aircraft_list(request, slug):
    aircraft = Aircraft.objects.filter(organisation=request.organisation)
    return render(request, "flights/aircraft_list.html", {"aircraft_list": aircraft})


@org_required(Perm.MANAGE_MEMBERS)
def aircraft_create(request, slug):
    return _aircraft_form(request, slug, None)


@org_required(Perm.MANAGE_MEMBERS)
def aircraft_edit(request, slug, aircraft_id):
    aircraft = get_object_or_404(Aircraft, organisation=request.organisation, pk=aircraft_id)
    return _aircraft_form(request, slug, aircraft)


def _aircraft_form(request, slug, aircraft):
    form = AircraftForm(request.POST or None, instance=aircraft, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The aircraft was saved. New flights use its prices."))
        return redirect("flights:aircraft", slug)
    title = _("Edit aircraft") if aircraft else _("New aircraft")
    return render(
        request, "flights/simple_form.html", {"form": form, "title": title, "back": "flights:aircraft"}
    )


@org_required()
def aerodrome_list(request, slug):
    aerodromes = Aerodrome.objects.filter(organisation=request.organisation)
    return render(request, "flights/aerodrome_list.html", {"aerodromes": aerodromes})


@org_required(Perm.MANAGE_MEMBERS)
def aerodrome_create(request, slug):
    return _aerodrome_form(request, slug, None)


@org_required(Perm.MANAGE_MEMBERS)
def aerodrome_edit(request, slug, aerodrome_id):
    aerodrome = get_object_or_404(Aerodrome, organisation=request.organisation, pk=aerodrome_id)
    return _aerodrome_form(request, slug, aerodrome)


def _aerodrome_form(request, slug, aerodrome):
    form = AerodromeForm(request.POST or None, instance=aerodrome, organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The aerodrome was saved."))
        return redirect("flights:aerodromes", slug)
    title = _("Edit aerodrome") if aerodrome else _("New aerodrome")
    return render(
        request, "flights/simple_form.html", {"form": form, "title": title, "back": "flights:aerodromes"}
    )


@org_required(Perm.MANAGE_MEMBERS)
def flight_import(request, slug):
    return import_page(
        request,
        import_flights,
        columns=COLUMNS,
        form_class=ImportUploadForm,
        template="flights/import.html",
        message=_("%(count)s flights were imported; sign them off when checked."),
        next_url="flights:list",
    )
