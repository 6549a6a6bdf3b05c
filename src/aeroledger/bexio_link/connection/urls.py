from django.urls import path

from . import views

app_name = "bexio_connection"

urlpatterns = [
    path("authorisation", views.authorisation, name="authorisation"),
    path("authorisation/start", views.start, name="start"),
    path("authorisation/test", views.test_connection, name="test"),
    path("authorisation/disconnect", views.disconnect, name="disconnect"),
]
