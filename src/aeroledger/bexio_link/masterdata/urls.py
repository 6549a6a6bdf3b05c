from django.urls import path

from . import views

app_name = "bexio_masterdata"

urlpatterns = [
    path("mapping/", views.mapping, name="mapping"),
    path("mapping/save/", views.mapping_save, name="mapping_save"),
    path("mapping/refresh/", views.refresh, name="refresh"),
    path("mapping/refresh/state/", views.refresh_state, name="refresh_state"),
    path("contacts/", views.contacts, name="contacts"),
    path("contacts/sync/", views.contacts_sync, name="contacts_sync"),
    path("contacts/sync/state/", views.contacts_sync_state, name="contacts_sync_state"),
    path("contacts/<int:member_id>/sync/", views.contact_sync, name="contact_sync"),
    path("contacts/<int:member_id>/link/", views.contact_link, name="contact_link"),
    path("contacts/<int:member_id>/unlink/", views.contact_unlink, name="contact_unlink"),
]
