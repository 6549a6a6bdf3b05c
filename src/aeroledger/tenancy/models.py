"""Organisations (clubs, schools: our tenants), their staff and what each may do."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Perm(models.TextChoices):
    """Permission groups a staff user can hold in an organisation. Everyone may read."""

    MANAGE_SETTINGS = "manage_settings", _("Manage settings")
    MANAGE_INVOICING = "manage_invoicing", _("Manage invoicing")
    MANAGE_MEMBERS = "manage_members", _("Manage members and flights")


class BillingMode(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid credit accounts")
    POSTPAID = "postpaid", _("Post-paid invoices")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    house_number = models.CharField(_("house number"), max_length=20, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="CH", help_text=_("ISO 3166 code"))
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CHF")
    billing_mode = models.CharField(
        _("billing mode"), max_length=10, choices=BillingMode.choices, default=BillingMode.PREPAID
    )
    low_balance_threshold = models.DecimalField(
        _("low-balance threshold"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("100.00"),
        help_text=_("Members whose credit balance is below this amount (CHF) are shown on the overview."),
    )
    # Options are licence flags that only the platform operator sets (in the admin).
    bexio_option = models.BooleanField(
        _("bexio option"),
        default=False,
        help_text=_("Licence flag: the organisation may connect to bexio. Set by the platform operator."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_prepaid(self) -> bool:
        return self.billing_mode == BillingMode.PREPAID


class Membership(models.Model):
    """A staff user's place in one organisation, with the permission groups they hold there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    manage_settings = models.BooleanField(_("Manage settings"), default=False)
    manage_invoicing = models.BooleanField(_("Manage invoicing"), default=False)
    manage_members = models.BooleanField(_("Manage members and flights"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")
        ]
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation}"

    def has_perm(self, perm: str | None) -> bool:
        return perm is None or bool(getattr(self, Perm(perm).value))

    @property
    def is_read_only(self) -> bool:
        return not (self.manage_settings or self.manage_invoicing or self.manage_members)


class StaffProfile(models.Model):
    """Per-user preferences: the interface language."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default="en")

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"


class PendingImport(models.Model):
    """An uploaded CSV file kept between its preview and the import (see tenancy/importpage.py).

    Found by its random `token`, and only for the user and organisation that uploaded it and the
    same import (`kind`); deleted after the import, and when older than an hour by the next upload.
    """

    token = models.CharField(max_length=64, unique=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    name = models.CharField(max_length=255, blank=True)
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} import {self.name} ({self.created_at:%Y-%m-%d %H:%M})"


class OrganisationChange(models.Model):
    """When somebody last changed something in the organisation through its pages (any POST).

    Figures kept for a few seconds (tenancy/figures.py) that are older than this are computed
    again, so a change made in the web app shows at once on everybody's overview. A row of its own,
    not a column of Organisation: billing runs hold the organisation's row locked while they work.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.organisation_id} changed at {self.at:%Y-%m-%d %H:%M:%S}"
