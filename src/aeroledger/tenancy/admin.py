from django.contrib import admin

from .models import Membership, Organisation, StaffProfile


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "billing_mode", "bexio_option"]
    list_filter = ["bexio_option", "billing_mode"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # The bexio option is a licence flag: only the platform operator (superuser) switches it.
        return () if request.user.is_superuser else ("bexio_option",)


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
