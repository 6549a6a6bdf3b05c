from .access import organisations_for
from .navigation import build_navigation


def navigation(request):
    """The organisation, membership and menu for base.html; computed once per request (panels
    rendered into a page's slots render with the same request)."""
    cached = getattr(request, "_navigation_context", None)
    if cached is not None:
        return cached
    organisation = getattr(request, "organisation", None)
    user = getattr(request, "user", None)
    context = {}
    if organisation is not None:
        context["organisation"] = organisation
        context["membership"] = getattr(request, "membership", None)
        context["navigation"] = build_navigation(organisation, request.path, membership=context["membership"])
    if user is not None and user.is_authenticated:
        context["my_organisations"] = organisations_for(user)
    request._navigation_context = context
    return context
