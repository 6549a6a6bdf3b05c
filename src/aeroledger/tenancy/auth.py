"""Login throttling (django-axes), as the login page and the admin use it."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check for every login made through a request (login page, admin).

    `authenticate()` called without a request (code, `Client.login` in tests) has no address to
    count and no form to lock: it is left to the next backend instead of raising.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request) -> str:
    """The browser's address: behind our TLS proxy the last X-Forwarded-For hop (the one the proxy
    added; earlier hops are whatever the client sent), else REMOTE_ADDR."""
    if getattr(settings, "BEHIND_TLS_PROXY", False):
        forwarded = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")
