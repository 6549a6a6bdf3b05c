"""Redirects after a POST: where `next` may send the browser."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, default: str, *, field: str = "next") -> str:
    """The URL in the POST (or GET) field `field` when it stays on this site, else `default`.

    Only a path on this host (or an absolute URL of an allowed host, https when the request is)
    passes; `https://evil.example`, `//evil.example`, `javascript:...`, `\\\\evil` and the like give
    `default`. Use it wherever a view redirects to a `next` it was given:

        return HttpResponseRedirect(safe_next(request, reverse("bexio_transfer:log", args=[slug])))
    """
    candidate = request.POST.get(field) or request.GET.get(field) or ""
    candidate = candidate.strip()
    # A path or a full URL of this site; "-1" or "members" would be taken for a view name by redirect().
    if (candidate.startswith("/") or "://" in candidate) and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
