from django.urls import path

from . import views

# Not namespaced: the overview keeps its historic name `org_home` (every page links to it).
urlpatterns = [
    path("", views.home, name="org_home"),
]
