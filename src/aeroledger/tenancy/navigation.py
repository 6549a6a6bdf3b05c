"""The organisation navigation, in one place: (label, url name, condition, children).

Every entry's url name must exist (a test reverses them all); `bexio` entries show only when the
organisation has the bexio option.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Perm


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    needs_bexio: bool = False
    children: tuple["NavEntry", ...] = field(default=())
    perm: str | None = None  # shown only to staff holding this permission group


NAVIGATION: tuple[NavEntry, ...] = (
    NavEntry(_("Members"), "members:list"),
    NavEntry(_("Flights"), "flights:list"),
    NavEntry(_("Credit accounts"), "billing:credit_accounts"),
    NavEntry(
        _("Invoicing"),
        "billing:invoices",
        children=(
            NavEntry(_("Invoices"), "billing:invoices"),
            NavEntry(_("Billing runs"), "billing:runs"),
            NavEntry(
                _("Bexio > Authorisation"),
                "bexio_connection:authorisation",
                needs_bexio=True,
                perm=Perm.MANAGE_SETTINGS,
            ),
            NavEntry(_("Bexio > Mapping"), "bexio_masterdata:mapping", needs_bexio=True),
            NavEntry(_("Bexio > Contacts"), "bexio_masterdata:contacts", needs_bexio=True),
            NavEntry(_("Bexio > Transfer"), "bexio_transfer:transfers", needs_bexio=True),
            NavEntry(_("Bexio > Transfer log"), "bexio_transfer:log", needs_bexio=True),
            NavEntry(_("Bexio > Books"), "bexio_books:books", needs_bexio=True),
        ),
    ),
)


@dataclass
class NavItem:
    label: str
    url: str
    active: bool
    children: list["NavItem"]


def build_navigation(
    organisation, current_path: str, *, strict: bool = False, membership=None
) -> list[NavItem]:
    from django.urls import NoReverseMatch

    def build(entries):
        items = []
        for entry in entries:
            if entry.needs_bexio and not organisation.bexio_option:
                continue
            if entry.perm and membership is not None and not membership.has_perm(entry.perm):
                continue
            try:
                url = reverse(entry.url_name, args=[organisation.slug])
            except NoReverseMatch:
                if strict:
                    raise
                continue
            children = build(entry.children)
            active = current_path.startswith(url) or any(c.active for c in children)
            items.append(NavItem(str(entry.label), url, active, children))
        return items

    return build(NAVIGATION)
