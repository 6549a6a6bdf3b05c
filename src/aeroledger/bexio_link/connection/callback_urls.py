"""bexio's redirect back after consent: `/bexio/callback`, organisation-free (the state names the flow)."""

from django.urls import path

from . import views

urlpatterns = [
    path("callback", views.callback, name="bexio_callback"),
]
