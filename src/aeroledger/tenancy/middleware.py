from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.shortcuts import render
from django.utils import translation

from .params import BadParameter


class UserLanguageMiddleware:
    """Activate the staff user's chosen language (their profile), else the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "profile", None)
            language = getattr(profile, "language", None)
        if not language:
            language = translation.get_language_from_request(request)
        translation.activate(language)
        try:
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        finally:
            # Threads serve many users: never let one request's language leak into the next.
            translation.deactivate()


class BadParameterMiddleware:
    """A `tenancy.params.BadParameter` raised by a view is answered 400 with its message, never 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):

        if isinstance(exception, BadParameter):
            return render(request, "400.html", {"message": str(exception)}, status=400)
        return None


class NoStoreMiddleware:
    """Pages for a logged-in user show member data: no cache (browser, proxy) may keep them.

    `Cache-Control: no-store, private` on every response to an authenticated request (the static
    files, served by WhiteNoise before this, keep their long caching).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
            response.headers.pop("Expires", None)
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (CONTENT_SECURITY_POLICY in settings), with one addition: forms may
    also lead to bexio's login (`form-action`), the origin of BEXIO_AUTH_ISSUER as configured now.

    "Connect to bexio" posts here and is redirected there; browsers apply form-action to that
    redirect. Read per request, so the policy follows the setting (tests point it at a sandbox).
    """

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        issuer = urlsplit(getattr(settings, "BEXIO_AUTH_ISSUER", "") or "")
        if not report_only and issuer.scheme in ("http", "https") and issuer.netloc:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), f"{issuer.scheme}://{issuer.netloc}"]
            parts.update = update
        return parts
