"""Master data imported from bexio, the mapping of charge types onto it, and member <-> contact links.

bexio is master of articles, taxes, accounts and bank accounts: they are cached here as
`BexioRecord` rows (one generic table, typed accessors in `MasterData`) and never edited. A record
that disappears from bexio is marked inactive, never deleted, so a mapping that still points at it
shows as broken instead of silently vanishing.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aeroledger.tenancy.models import Organisation


class Kind(models.TextChoices):
    ARTICLE = "article", _("Article")
    TAX = "tax", _("Tax")
    ACCOUNT = "account", _("Account")
    BANK_ACCOUNT = "bank_account", _("Bank account")
    UNIT = "unit", _("Unit")
    CURRENCY = "currency", _("Currency")
    LANGUAGE = "language", _("Language")
    COUNTRY = "country", _("Country")
    PAYMENT_TYPE = "payment_type", _("Payment type")
    USER = "user", _("User")
    COMPANY = "company_profile", _("Company profile")
    CONTACT_GROUP = "contact_group", _("Contact group")
    SALUTATION = "salutation", _("Salutation")
    TITLE = "title", _("Title")


class BexioRecordQuerySet(models.QuerySet):
    def of(self, kind: str):
        return self.filter(kind=kind)

    def active(self):
        return self.filter(is_active=True)


class BexioRecord(models.Model):
    """One cached bexio object of some `kind`, exactly as bexio last returned it (`data`)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="bexio_records")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    bexio_id = models.BigIntegerField(_("bexio id"))
    name = models.CharField(_("name"), max_length=300, blank=True)
    data = models.JSONField(_("data"), default=dict)
    is_active = models.BooleanField(_("active"), default=True)
    # When the import first saw it and when it last changed (an unchanged record is not written).
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    changed_at = models.DateTimeField(_("changed"), auto_now=True)

    objects = BexioRecordQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "bexio_id"], name="one_record_per_bexio_id"
            )
        ]
        ordering = ["kind", "name", "bexio_id"]
        verbose_name = _("bexio record")
        verbose_name_plural = _("bexio records")

    def __str__(self) -> str:
        label = self.name or f"#{self.bexio_id}"
        inactive = _("inactive")
        return label if self.is_active else f"{label} ({inactive})"

    @property
    def is_qr(self) -> bool:
        """A bank account that can print QR invoices (QR-IBAN or QR invoice mode)."""
        return bool(self.data.get("qr_invoice_iban")) or self.data.get("invoice_mode") == "qr_invoice"


class MasterDataRefresh(models.Model):
    """The log of "Refresh from bexio" runs, one row per run."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="bexio_refreshes")
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    ok = models.BooleanField(_("successful"), default=False)
    # {kind: {"created": n, "updated": n, "deactivated": n, "unchanged": n} | {"skipped": reason}}
    summary = models.JSONField(_("summary"), default=dict)
    error = models.TextField(_("error"), blank=True)
    triggered_by = models.CharField(_("triggered by"), max_length=40, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"
        verbose_name = _("master data refresh")
        verbose_name_plural = _("master data refreshes")

    def __str__(self) -> str:
        return f"{self.organisation} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def skipped_kinds(self) -> list[str]:
        """Labels of the kinds bexio refused to list (scope or permission missing)."""
        return [
            str(Kind(k).label) for k, v in self.summary.items() if isinstance(v, dict) and v.get("skipped")
        ]

    @property
    def changes(self) -> int:
        return sum(
            v.get("created", 0) + v.get("updated", 0) + v.get("deactivated", 0)
            for v in self.summary.values()
            if isinstance(v, dict)
        )


class InvoiceSettings(models.Model):
    """The organisation-wide part of the mapping: who, where, when."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="bexio_invoice_settings"
    )
    bank_account = models.ForeignKey(
        BexioRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("bank account"), limit_choices_to={"kind": Kind.BANK_ACCOUNT},
    )  # fmt: skip
    user = models.ForeignKey(
        BexioRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("bexio user who owns invoices and contacts"), limit_choices_to={"kind": Kind.USER},
    )  # fmt: skip
    contact_group_name = models.CharField(_("contact group"), max_length=100, default="Aeroledger")
    contact_group = models.ForeignKey(
        BexioRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": Kind.CONTACT_GROUP},
    )  # fmt: skip
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    issue_automatically = models.BooleanField(
        _("issue invoices in bexio automatically"),
        default=False,
        help_text=_("Otherwise invoices are left as drafts in bexio, to be issued there."),
    )
    send_automatically = models.BooleanField(_("send issued invoices by e-mail from bexio"), default=False)
    # Prepaid organisations: where members' credit is booked in bexio's ledger.
    credit_account = models.ForeignKey(
        BexioRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("members' credit (liability account)"), limit_choices_to={"kind": Kind.ACCOUNT},
        help_text=_("e.g. 2030 Kundenguthaben / erhaltene Anzahlungen: deposits and top-ups paid are "
                    "booked to it; revenue and VAT arise when the credit pays for something."),
    )  # fmt: skip
    corrections_account = models.ForeignKey(
        BexioRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("account for credit corrections"), limit_choices_to={"kind": Kind.ACCOUNT},
        help_text=_("The other side of a correction of a member's credit (e.g. an expense or "
                    "revenue reduction account)."),
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("bexio invoice settings")
        verbose_name_plural = _("bexio invoice settings")

    def __str__(self) -> str:
        return str(self.organisation)


class ChargeMapping(models.Model):
    """Where one kind of charge goes in bexio: an article, or an account with a tax.

    The key is `(charge_type, aircraft or aerodrome or nothing)`; a row without aircraft/aerodrome
    is the default for its charge type.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="bexio_mappings")
    charge_type = models.CharField(_("charge type"), max_length=20)
    aircraft = models.ForeignKey("flights.Aircraft", on_delete=models.CASCADE, null=True, blank=True)
    aerodrome = models.ForeignKey("flights.Aerodrome", on_delete=models.CASCADE, null=True, blank=True)
    article = models.ForeignKey(
        BexioRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("article"), limit_choices_to={"kind": Kind.ARTICLE},
    )  # fmt: skip
    account = models.ForeignKey(
        BexioRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("account"), limit_choices_to={"kind": Kind.ACCOUNT},
    )  # fmt: skip
    tax = models.ForeignKey(
        BexioRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("tax"), limit_choices_to={"kind": Kind.TAX},
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "charge_type", "aircraft", "aerodrome"],
                name="one_mapping_per_key",
                nulls_distinct=False,
            )
        ]
        verbose_name = _("charge mapping")
        verbose_name_plural = _("charge mappings")

    def __str__(self) -> str:
        return f"{self.charge_type} {self.aircraft_id or self.aerodrome_id or '*'}"

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.charge_type, self.aircraft_id or self.aerodrome_id or None)


class LinkState(models.TextChoices):
    LINKED = "linked", _("Linked")
    CONFLICT = "conflict", _("Several bexio contacts match")


class MatchedBy(models.TextChoices):
    CREATED = "created", _("created by Aeroledger")
    NR = "nr", _("member number (nr)")
    MAIL = "mail", _("e-mail")
    HAND = "hand", _("linked by hand")


class ContactLink(models.Model):
    """A member's bexio contact: its id and a hash of the fields Aeroledger owns, as last sent."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="bexio_contacts")
    member = models.OneToOneField("members.Member", on_delete=models.CASCADE, related_name="bexio_link")
    state = models.CharField(_("state"), max_length=10, choices=LinkState.choices, default=LinkState.LINKED)
    bexio_id = models.BigIntegerField(_("bexio contact id"), null=True, blank=True)
    matched_by = models.CharField(_("matched by"), max_length=10, choices=MatchedBy.choices, blank=True)
    synced_hash = models.CharField(_("hash of the fields sent"), max_length=64, blank=True)
    synced_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    # For conflicts: the bexio contacts that matched ([{id, nr, name, mail, city}]).
    candidates = models.JSONField(_("candidates"), default=list, blank=True)
    error = models.TextField(_("last error"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "bexio_id"],
                condition=models.Q(bexio_id__isnull=False),
                name="one_member_per_bexio_contact",
            )
        ]
        verbose_name = _("bexio contact link")
        verbose_name_plural = _("bexio contact links")

    def __str__(self) -> str:
        return f"{self.member_id} -> {self.bexio_id or self.state}"

    @property
    def is_linked(self) -> bool:
        return self.state == LinkState.LINKED and self.bexio_id is not None


class ContactSyncRun(models.Model):
    """The log of "Sync all contacts" runs (one row per run, enqueued by the contacts page)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("successful")
        FAILED = "failed", _("failed")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="bexio_contact_syncs"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    started_at = models.DateTimeField(_("running since"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # SyncReport.summary(): created, updated, matched, unchanged, conflicts, errors
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # The first failures, for the page: ["<member number> <message>", ...]
    messages = models.JSONField(_("messages"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contact sync")
        verbose_name_plural = _("contact syncs")

    def __str__(self) -> str:
        return f"{self.organisation} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
