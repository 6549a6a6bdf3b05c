from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control

from .access import org_required, organisations_for
from .models import Organisation, Perm, StaffProfile


@cache_control(max_age=86400, public=True)
def favicon(request):
    """`/favicon.ico`, which browsers and feed readers ask for whatever the page says."""
    return redirect(static("aeroledger/favicon.ico"), permanent=True)


@login_required
def home(request):
    organisations = list(organisations_for(request.user))
    if len(organisations) == 1:
        return redirect("org_home", organisations[0].slug)
    return render(request, "tenancy/home.html", {"organisations": organisations})


class OrganisationSettingsForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name", "street", "house_number", "postcode", "city", "country", "vat_number",
            "low_balance_threshold",
        ]  # fmt: skip

    def clean_country(self):
        return self.cleaned_data["country"].upper()


@org_required(Perm.MANAGE_SETTINGS)
def org_settings(request, slug):
    """The organisation's own settings: address, VAT number, the low-balance threshold."""
    form = OrganisationSettingsForm(request.POST or None, instance=request.organisation)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The settings were saved."))
        return redirect("org_home", slug)
    return render(request, "tenancy/settings.html", {"form": form})


class LanguageForm(forms.ModelForm):
    class Meta:
        model = StaffProfile
        fields = ["language"]


@login_required
def my_language(request):
    profile, _created = StaffProfile.objects.get_or_create(user=request.user)
    form = LanguageForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your language was saved."))
        return redirect("my_language")
    return render(request, "tenancy/my_language.html", {"form": form})
