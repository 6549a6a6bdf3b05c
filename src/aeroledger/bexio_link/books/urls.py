from django.urls import path

from . import views

app_name = "bexio_books"

urlpatterns = [
    path("", views.books, name="books"),
    path("progress/", views.progress, name="progress"),
    path("start/", views.start, name="start"),
    path("opening/", views.book_opening, name="opening"),
    path("how/", views.how, name="how"),
    path("runs/<int:reconciliation_id>/", views.reconciliation, name="reconciliation"),
]
