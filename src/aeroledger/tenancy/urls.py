from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("account/language/", views.my_language, name="my_language"),
    path("o/<slug:slug>/", views.org_home, name="org_home"),
]
