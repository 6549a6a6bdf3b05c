"""Read-only views of the cached bexio data for the platform operator; people use the pages."""

from django.contrib import admin

from .models import BexioRecord, ChargeMapping, ContactLink, InvoiceSettings, MasterDataRefresh


@admin.register(BexioRecord)
class BexioRecordAdmin(admin.ModelAdmin):
    list_display = ("organisation", "kind", "bexio_id", "name", "is_active", "changed_at")
    list_filter = ("kind", "is_active", "organisation")
    search_fields = ("name",)
    readonly_fields = [f.name for f in BexioRecord._meta.fields]


@admin.register(MasterDataRefresh)
class MasterDataRefreshAdmin(admin.ModelAdmin):
    list_display = ("organisation", "started_at", "finished_at", "ok", "triggered_by")
    list_filter = ("ok", "organisation")
    readonly_fields = [f.name for f in MasterDataRefresh._meta.fields]


@admin.register(ContactLink)
class ContactLinkAdmin(admin.ModelAdmin):
    list_display = ("organisation", "member", "state", "bexio_id", "matched_by", "synced_at")
    list_filter = ("state", "matched_by", "organisation")
    raw_id_fields = ("member",)


admin.site.register(InvoiceSettings)
admin.site.register(ChargeMapping)
