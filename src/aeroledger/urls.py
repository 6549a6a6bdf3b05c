from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("aeroledger.tenancy.urls")),
    path("o/<slug:slug>/", include("aeroledger.dashboard.urls")),
    path("o/<slug:slug>/members/", include("aeroledger.members.urls")),
    path("o/<slug:slug>/flights/", include("aeroledger.flights.urls")),
    path("o/<slug:slug>/", include("aeroledger.billing.urls")),
    path("o/<slug:slug>/invoicing/bexio/", include("aeroledger.bexio_link.connection.urls")),
    path("o/<slug:slug>/invoicing/bexio/", include("aeroledger.bexio_link.masterdata.urls")),
    path("o/<slug:slug>/invoicing/bexio/", include("aeroledger.bexio_link.transfer.urls")),
    path("o/<slug:slug>/invoicing/bexio/books/", include("aeroledger.bexio_link.books.urls")),
    # bexio's redirect back after consent: fixed, organisation-free (the state names the flow).
    path("bexio/", include("aeroledger.bexio_link.connection.callback_urls")),
]
