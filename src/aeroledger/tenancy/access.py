"""Access to an organisation's pages: one helper, one decorator, used by every `/o/<slug>/` view.

A user who is not staff of the organisation gets 404 (no hint that it exists); staff without the
permission a view names get 403. Object lookups inside a view must filter by
`request.organisation` so that ids of another organisation are 404 as well.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.views.decorators.http import require_POST

from . import figures
from .models import Membership, Organisation, Perm


def get_membership(user, slug: str) -> Membership:
    """The user's membership in the organisation `slug`, or 404."""
    if not user.is_authenticated:
        raise Http404
    try:
        return Membership.objects.select_related("organisation").get(user=user, organisation__slug=slug)
    except Membership.DoesNotExist:
        raise Http404 from None


def org_required(perm: Perm | str | None = None, *, post: bool = False):
    """Decorate a view taking `(request, slug, ...)`.

    Sets `request.organisation` and `request.membership`. `perm` is the permission group the view
    needs (None: any staff member, read only included). `post=True` also makes it POST-only.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, slug, *args, **kwargs):
            membership = get_membership(request.user, slug)
            request.membership = membership
            request.organisation = membership.organisation
            if not membership.has_perm(perm):
                # The 403 page names the permission group that is missing.
                raise PermissionDenied(Perm(perm).label)
            response = view(request, slug, *args, **kwargs)
            if request.method == "POST" and response.status_code < 400:
                figures.note_change(request)  # their next overview shows the change at once
            return response

        wrapper.org_perm = perm  # read by the test that walks every URL pattern
        wrapper.org_post_only = post
        wrapped = login_required(wrapper)
        if post:
            wrapped = require_POST(wrapped)
        return wrapped

    return decorator


def organisations_for(user):
    return Organisation.objects.filter(memberships__user=user).order_by("name")
