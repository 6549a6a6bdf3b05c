from django.urls import path

from . import views

app_name = "bexio_transfer"

urlpatterns = [
    path("transfer/", views.transfers, name="transfers"),
    path("transfer/progress/", views.progress, name="progress"),
    path("transfer/start/", views.start, name="start"),
    path("transfer/preview/", views.preview, name="preview"),
    path("transfer/sync/", views.sync_now, name="sync"),
    path("log/", views.log_view, name="log"),
    path("log/retry-all/", views.retry_all, name="retry_all"),
    path("log/retry/<int:item_id>/", views.retry, name="retry"),
    path("invoices/<int:invoice_id>/", views.invoice, name="invoice"),
    path("invoices/<int:invoice_id>/pdf/", views.invoice_pdf, name="invoice_pdf"),
]
