from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("account/language/", views.my_language, name="my_language"),
    path("o/<slug:slug>/settings/", views.org_settings, name="org_settings"),
]
