from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from aeroledger.billing.models import Charge
from aeroledger.tenancy.access import org_required
from aeroledger.tenancy.lists import list_page
from aeroledger.tenancy.models import Perm
from aeroledger.tenancy.pages import form_page

from .forms import AerodromeForm, AircraftForm, ChargeForm, FlightFilterForm, FlightForm
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
    form = FlightFilterForm(request.GET, organisation=request.organisation)
    form.is_valid()  # invalid filters are shown with their errors and left out
    flights = form.filter(
        Flight.objects.filter(organisation=request.organisation)
        .select_related("aircraft", "pilot", "instructor")
        .order_by("-date", "-id")
    )
    page = list_page(request, flights, PAGE_SIZE)
    # The charges' total of the page's flights only (a total per flight of every flight, grouped
    # and sorted before paging, cost a second on 20,000 flights).
    totals = dict(
        Charge.objects.filter(flight__in=[f.pk for f in page])
        .values("flight")
        .annotate(s=Sum("amount"))
        .values_list("flight", "s")
    )
    for flight in page:
        flight.total = totals.get(flight.pk)
    return render(request, "flights/list.html", {"page": page, "form": form})


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
    return form_page(
        request,
        FlightForm,
        flight,
        "flights/form.html",
        {"flight": flight},
        saved=_("The flight was saved and its charges recalculated."),
        back=redirect("flights:detail", slug, flight.pk),
        locked=lambda f: (
            _("This flight is signed off and can no longer be changed.") if f.is_signed_off else ""
        ),
        organisation=request.organisation,
    )


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
    return form_page(
        request,
        ChargeForm,
        charge,
        "flights/charge_form.html",
        {"charge": charge},
        saved=_("The charge was adjusted."),
        back=back,
        locked=lambda c: _("This charge is signed off and can no longer be changed.") if c.is_locked else "",
        lock=Charge.lock,
    )


@org_required()
def aircraft_list(request, slug):
    aircraft = Aircraft.objects.filter(organisation=request.organisation)
    return render(request, "flights/aircraft_list.html", {"aircraft_list": aircraft})


@org_required()
def aerodrome_list(request, slug):
    aerodromes = Aerodrome.objects.filter(organisation=request.organisation)
    return render(request, "flights/aerodrome_list.html", {"aerodromes": aerodromes})


@org_required(Perm.MANAGE_MEMBERS)
def aircraft_form(request, slug, aircraft_id=None):
    return _fleet_form(
        request,
        slug,
        AircraftForm,
        aircraft_id,
        titles=(_("New aircraft"), _("Edit aircraft")),
        saved=_("The aircraft was saved. New flights use its prices."),
        back="flights:aircraft",
    )


@org_required(Perm.MANAGE_MEMBERS)
def aerodrome_form(request, slug, aerodrome_id=None):
    return _fleet_form(
        request,
        slug,
        AerodromeForm,
        aerodrome_id,
        titles=(_("New aerodrome"), _("Edit aerodrome")),
        saved=_("The aerodrome was saved."),
        back="flights:aerodromes",
    )


def _fleet_form(request, slug, form_class, pk, *, titles, saved, back):
    """New (`pk` None) or edit an aircraft or an aerodrome; `titles` is (new, edit), `back` the list."""
    instance = None
    if pk is not None:
        instance = get_object_or_404(form_class._meta.model, organisation=request.organisation, pk=pk)
    return form_page(
        request,
        form_class,
        instance,
        "flights/simple_form.html",
        {"title": titles[1] if instance else titles[0], "back": back},
        saved=saved,
        back=redirect(back, slug),
        organisation=request.organisation,
    )
