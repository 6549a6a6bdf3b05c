"""Operator views of the bexio connection. Tokens are never shown, not even encrypted."""

from django.contrib import admin

from .models import BexioCall, BexioConnection, ConnectionEvent


@admin.register(BexioConnection)
class BexioConnectionAdmin(admin.ModelAdmin):
    list_display = [
        "organisation",
        "status",
        "company_name",
        "obtained_at",
        "last_refresh_at",
        "last_success_at",
    ]
    list_filter = ["status"]
    exclude = ["access_token_enc", "refresh_token_enc"]
    readonly_fields = [
        f.name
        for f in BexioConnection._meta.get_fields()
        if getattr(f, "concrete", False) and f.name not in ("id", "access_token_enc", "refresh_token_enc")
    ]

    def has_add_permission(self, request):
        return False


@admin.register(ConnectionEvent)
class ConnectionEventAdmin(admin.ModelAdmin):
    list_display = ["at", "organisation", "kind", "trigger", "user", "company_name", "message"]
    list_filter = ["kind", "trigger"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BexioCall)
class BexioCallAdmin(admin.ModelAdmin):
    list_display = ["at", "organisation", "method", "path", "status", "duration_ms", "attempt", "context"]
    list_filter = ["status", "method"]
    search_fields = ["path", "context", "message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
