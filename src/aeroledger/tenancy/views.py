from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control

from .access import org_required, organisations_for
from .models import StaffProfile


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


@org_required()
def org_home(request, slug):
    return render(request, "tenancy/org_home.html", {})


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
