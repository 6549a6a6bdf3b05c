"""Connect the demo organisation to the bexio sandbox through the real "Get new token" flow.

The organisation's Manage-settings user starts the flow exactly as in the browser (a POST to the
Authorisation page, through Django's test client, so the state is bound to a real session); the
sandbox's login and consent pages are then filled in with httpx as a browser would, and bexio's
redirect is handed to the `/bexio/callback` view. Used by `seed_demo --with-bexio-connection` and
`make run`. Idempotent.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.test import Client
from django.urls import reverse

from aeroledger.tenancy.models import Membership

from .clients import NotConnected, client_for
from .models import BexioConnection, Status

DEMO_BEXIO_LOGIN = "demo@bexio.test"
DEMO_BEXIO_PASSWORD = "sandbox"  # the sandbox's published demo password, not a secret
# Besides the six required scopes the demo asks for `accounting`, which bexio wants for taxes,
# booking accounts and currencies (the master-data import maps charges to them).
DEMO_OPTIONAL_SCOPES = ("accounting",)


class _Forms(HTMLParser):
    """Collects the forms of a page: id, action, and the fields a browser would submit."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = {
                "id": a.get("id", ""),
                "action": a.get("action", ""),
                "fields": [],
                "buttons": [],
            }
            self.forms.append(self._current)
        elif tag in ("input", "button") and self._current is not None:
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            entry = {
                "name": a.get("name"),
                "value": a.get("value", ""),
                "type": kind,
                "checked": "checked" in a,
            }
            (self._current["buttons"] if kind == "submit" else self._current["fields"]).append(entry)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _submit(
    http: httpx.Client, page: httpx.Response, form: dict, values: dict, button: str
) -> httpx.Response:
    data: dict[str, list[str]] = {}
    for field in form["fields"]:
        name = field["name"]
        if not name:
            continue
        if field["type"] in ("checkbox", "radio"):
            if field["checked"]:
                data.setdefault(name, []).append(field["value"])
        elif name not in values:
            data.setdefault(name, []).append(field["value"])
    for name, value in values.items():
        data[name] = [value]
    for b in form["buttons"]:
        if b["name"] == button:
            data[b["name"]] = [b["value"]]
    return http.post(urljoin(str(page.url), form["action"]), data=data)


class BexioLoginError(Exception):
    """The scripted sandbox login or consent did not go as a browser's would."""


def script_bexio_login(
    auth_url: str,
    *,
    login: str = DEMO_BEXIO_LOGIN,
    password: str = DEMO_BEXIO_PASSWORD,
    callback_path: str = "/bexio/callback",
    untick: tuple[str, ...] | list[str] = (),
    cancel: bool = False,
    company: str | None = None,
) -> str:
    """Play the browser at bexio's (the sandbox's) login, company and consent pages.

    Returns the URL bexio redirects back to (the callback with code or error). `untick` removes
    scopes at consent; `cancel` presses Cancel there; `company` picks one of several companies.
    """
    with httpx.Client(timeout=30, follow_redirects=False) as http:
        page = http.get(auth_url)
        for _step in range(8):
            if page.is_redirect:
                target = urljoin(str(page.url), page.headers["location"])
                if urlsplit(target).path == callback_path:
                    return target
                page = http.get(target)
                continue
            forms = {f["id"]: f for f in _forms(page.text)}
            if "kc-form-login" in forms:
                page = _submit(
                    http, page, forms["kc-form-login"], {"username": login, "password": password}, "login"
                )
            elif "kc-company-form" in forms:
                form = forms["kc-company-form"]
                if company is not None:
                    for field in form["fields"]:
                        if field["name"] == "company_id":
                            field["checked"] = field["value"] == company
                page = _submit(http, page, form, {}, "select")
            elif "kc-oauth" in forms:
                form = forms["kc-oauth"]
                for field in form["fields"]:
                    if field["name"] == "scope" and field["value"] in untick:
                        field["checked"] = False
                page = _submit(http, page, form, {}, "cancel" if cancel else "accept")
            else:
                raise BexioLoginError(f"unexpected page at {page.url} (HTTP {page.status_code})")
    raise BexioLoginError("the login did not come back to Aeroledger")


def _admin_for(organisation):

    membership = (
        Membership.objects.filter(organisation=organisation, manage_settings=True, user__is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return membership.user if membership else None


def _still_accepted(organisation) -> bool:
    """False only when bexio refuses the stored grant (e.g. the sandbox's data was reset)."""

    try:
        with client_for(organisation, context="demo check") as client:
            client.users.me()
    except NotConnected:
        return False
    except Exception:  # bexio unreachable or another error: leave the connection as it is
        return True
    return True


def connect_demo(
    organisation,
    stdout=None,
    *,
    login: str = DEMO_BEXIO_LOGIN,
    password: str = DEMO_BEXIO_PASSWORD,
    optional_scopes=None,
) -> bool:
    """Connect `organisation` to the (sandbox) bexio; True when connected afterwards."""
    out = stdout or sys.stdout

    def say(text: str) -> None:
        out.write(text + "\n")

    conn = BexioConnection.objects.filter(organisation=organisation).first()
    if conn is not None and conn.status == Status.CONNECTED and conn.has_token:
        if _still_accepted(organisation):
            company = conn.company_name or conn.company_id
            say(f"bexio: {organisation.slug} is already connected (company {company}).")
            return True
        say(f"bexio: the stored grant of {organisation.slug} is no longer accepted; connecting again.")
    if not organisation.bexio_option:
        say(f"bexio: the bexio option is not active for {organisation.slug}; not connecting.")
        return False
    user = _admin_for(organisation)
    if user is None:
        say(f"bexio: {organisation.slug} has no staff user with Manage settings; not connecting.")
        return False

    host = urlsplit(settings.AEROLEDGER_BASE_URL).hostname or "127.0.0.1"
    web = Client(HTTP_HOST=host)
    web.force_login(user)
    chosen = DEMO_OPTIONAL_SCOPES if optional_scopes is None else optional_scopes
    data = {"scope": list(chosen)}
    started = web.post(reverse("bexio_connection:start", args=[organisation.slug]), data)
    if started.status_code != 302:
        say(f"bexio: could not start the authorisation (HTTP {started.status_code}).")
        return False
    auth_url = started["Location"]
    callback_path = urlsplit(settings.AEROLEDGER_BASE_URL).path.rstrip("/") + "/bexio/callback"

    try:
        target = script_bexio_login(auth_url, login=login, password=password, callback_path=callback_path)
    except BexioLoginError as exc:
        say(f"bexio: {exc}; not connected.")
        return False
    except httpx.HTTPError as exc:
        where = settings.BEXIO_AUTH_ISSUER
        say(f"bexio: cannot reach bexio at {where} ({type(exc).__name__}); not connected.")
        return False

    query = urlsplit(target).query
    done = web.get(f"{reverse('bexio_callback')}?{query}")
    conn = BexioConnection.objects.filter(organisation=organisation).first()
    if done.status_code == 302 and conn is not None and conn.is_connected:
        missing = ", ".join(s.name for s in conn.missing_scopes)
        say(
            f"bexio: {organisation.slug} connected to the sandbox company {conn.company_name} "
            f"as {conn.bexio_user_email or login}"
            + (f" (missing scopes: {missing})" if missing else "")
            + "."
        )
        return True
    say(f"bexio: the callback did not store a token (HTTP {done.status_code}).")
    return False
