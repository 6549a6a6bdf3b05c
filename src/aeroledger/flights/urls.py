from django.urls import path

from . import import_views, views

app_name = "flights"

urlpatterns = [
    path("", views.flight_list, name="list"),
    path("new/", views.flight_create, name="create"),
    path("import/", import_views.flight_import, name="import"),
    path("<int:flight_id>/", views.flight_detail, name="detail"),
    path("<int:flight_id>/edit/", views.flight_edit, name="edit"),
    path("<int:flight_id>/sign-off/", views.flight_sign_off, name="sign_off"),
    path("charges/<int:charge_id>/edit/", views.charge_edit, name="charge_edit"),
    path("aircraft/", views.aircraft_list, name="aircraft"),
    path("aircraft/new/", views.aircraft_form, name="aircraft_create"),
    path("aircraft/<int:aircraft_id>/edit/", views.aircraft_form, name="aircraft_edit"),
    path("aerodromes/", views.aerodrome_list, name="aerodromes"),
    path("aerodromes/new/", views.aerodrome_form, name="aerodrome_create"),
    path("aerodromes/<int:aerodrome_id>/edit/", views.aerodrome_form, name="aerodrome_edit"),
]
