from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("credit-accounts/", views.credit_accounts, name="credit_accounts"),
    path("credit-accounts/<int:member_id>/", views.statement, name="statement"),
    path("credit-accounts/<int:member_id>/new-entry/", views.credit_entry_create, name="credit_entry_create"),
    path("invoicing/invoices/", views.invoices, name="invoices"),
    path("invoicing/invoices/top-up/", views.top_up, name="top_up"),
    path("invoicing/invoices/<int:invoice_id>/", views.invoice_detail, name="invoice"),
    path(
        "invoicing/invoices/<int:invoice_id>/statement.pdf",
        views.invoice_statement_pdf,
        name="invoice_statement_pdf",
    ),
    path("invoicing/invoices/<int:invoice_id>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoicing/invoices/<int:invoice_id>/approve/", views.invoice_approve, name="invoice_approve"),
    path("invoicing/invoices/<int:invoice_id>/cancel/", views.invoice_cancel, name="invoice_cancel"),
    path(
        "invoicing/invoices/<int:invoice_id>/positions/new/",
        views.position_create,
        name="position_create",
    ),
    path(
        "invoicing/invoices/<int:invoice_id>/positions/<int:position_id>/remove/",
        views.position_remove,
        name="position_remove",
    ),
    path("invoicing/runs/", views.runs, name="runs"),
    path("invoicing/runs/new/", views.run_create, name="run_create"),
    path("invoicing/runs/<int:run_id>/", views.run_detail, name="run"),
    path("invoicing/runs/<int:run_id>/approve/", views.run_approve, name="run_approve"),
]
