from .access import organisations_for
from .navigation import build_navigation


def navigation(request):
    organisation = getattr(request, "organisation", None)
    user = getattr(request, "user", None)
    context = {}
    if organisation is not None:
        context["organisation"] = organisation
        context["membership"] = getattr(request, "membership", None)
        context["navigation"] = build_navigation(organisation, request.path, membership=context["membership"])
    if user is not None and user.is_authenticated:
        context["my_organisations"] = organisations_for(user)
    return context
