"""Charges, credit (prepaid) accounts, billing runs and invoices."""

import uuid
from datetime import date as date_type
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aeroledger.members.models import Member
from aeroledger.tenancy.models import Organisation

from .money import invoice_totals, position_amount

MONEY = {"max_digits": 12, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 4}
UNIT_PRICE = {"max_digits": 14, "decimal_places": 4}


class ChargeType(models.TextChoices):
    """What a charge is for; bexio_link maps each type (with its aircraft/aerodrome) to an article."""

    AIRCRAFT_TIME = "aircraft_time", _("Aircraft time")
    INSTRUCTION = "instruction", _("Instruction")
    LANDING_FEE = "landing_fee", _("Landing fee")
    TOP_UP = "top_up", _("Credit top-up")
    MANUAL = "manual", _("Other")


class ChargeLocked(Exception):
    """The charge is signed off or invoiced and can no longer change."""


class ChargeQuerySet(models.QuerySet):
    def billable(self):
        """Signed off (or not from a flight) and not yet on an invoice."""
        return self.filter(invoice__isnull=True).filter(
            models.Q(flight__isnull=True) | models.Q(flight__signed_off_at__isnull=False)
        )


class Charge(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="charges")
    member = models.ForeignKey(
        Member, verbose_name=_("billed member"), on_delete=models.PROTECT, related_name="charges"
    )
    charge_type = models.CharField(_("charge type"), max_length=20, choices=ChargeType.choices)
    aircraft = models.ForeignKey(
        "flights.Aircraft", on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    aerodrome = models.ForeignKey(
        "flights.Aerodrome", on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    flight = models.ForeignKey(
        "flights.Flight", on_delete=models.CASCADE, null=True, blank=True, related_name="charges"
    )
    date = models.DateField(_("date"))
    text = models.CharField(_("text"), max_length=300)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **UNIT_PRICE)
    amount = models.DecimalField(_("amount"), **MONEY)
    invoice = models.ForeignKey(
        "Invoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="charges"
    )

    objects = ChargeQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["organisation", "member", "date"])]
        verbose_name = _("charge")
        verbose_name_plural = _("charges")

    def __str__(self) -> str:
        return f"{self.date} {self.text} {self.amount}"

    def save(self, *args, **kwargs):
        self.amount = position_amount(self.quantity, self.unit_price)
        super().save(*args, **kwargs)

    @property
    def is_locked(self) -> bool:
        return self.invoice_id is not None or (self.flight_id is not None and self.flight.is_signed_off)

    @property
    def mapping_key(self) -> tuple[str, int | None]:
        return (self.charge_type, self.aircraft_id or self.aerodrome_id or None)


class CreditKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    CHARGE = "charge", _("Charge")
    PAYMENT = "payment", _("Payment received")
    CORRECTION = "correction", _("Correction")


class CreditEntryQuerySet(models.QuerySet):
    def balance(self) -> Decimal:
        return (self.aggregate(total=Sum("amount"))["total"] or Decimal("0")).quantize(Decimal("0.01"))


class CreditEntry(models.Model):
    """One line of a member's credit account. The balance is the sum of the entries."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="credit_entries")
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="credit_entries"
    )
    date = models.DateField(_("date"), default=date_type.today)
    kind = models.CharField(_("kind"), max_length=12, choices=CreditKind.choices)
    amount = models.DecimalField(_("amount"), help_text=_("Positive: credit, negative: debit."), **MONEY)
    text = models.CharField(_("text"), max_length=300, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    invoice = models.ForeignKey(
        "Invoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="credit_entries"
    )
    charge = models.ForeignKey(
        Charge, on_delete=models.SET_NULL, null=True, blank=True, related_name="credit_entries"
    )
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = CreditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="credit_entry_external_ref_unique",
            )
        ]
        indexes = [models.Index(fields=["organisation", "member", "date"])]
        verbose_name = _("credit entry")
        verbose_name_plural = _("credit entries")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if self.kind == CreditKind.CORRECTION and not (self.reason or "").strip():
            raise ValidationError({"reason": _("A correction needs a reason.")})
        super().save(*args, **kwargs)

    def clean(self):
        if self.kind == CreditKind.CORRECTION and not (self.reason or "").strip():
            raise ValidationError({"reason": _("A correction needs a reason.")})
        if self.amount == 0:
            raise ValidationError({"amount": _("The amount cannot be zero.")})


def credit_balance(member: Member, *, until: date_type | None = None) -> Decimal:
    entries = CreditEntry.objects.filter(organisation_id=member.organisation_id, member=member)
    if until is not None:
        entries = entries.filter(date__lte=until)
    return entries.balance()


def outstanding_on_invoices(member: Member, *, exclude: "Invoice | None" = None) -> Decimal:
    """What the member still owes on earlier charge invoices (due minus payments booked on them)."""
    invoices = Invoice.objects.filter(
        organisation_id=member.organisation_id, member=member, kind=InvoiceKind.CHARGES
    )
    invoices = invoices.exclude(status__in=[InvoiceStatus.PAID, InvoiceStatus.CANCELLED])
    if exclude is not None:
        invoices = invoices.exclude(pk=exclude.pk)
    due = invoices.aggregate(s=Sum("amount_due"))["s"] or Decimal("0")
    paid = CreditEntry.objects.filter(invoice__in=invoices, kind=CreditKind.PAYMENT).aggregate(
        s=Sum("amount")
    )["s"] or Decimal("0")
    return due - paid


def credit_available_for(
    member: Member, charges: list[Charge], *, exclude: "Invoice | None" = None
) -> Decimal:
    """Prepaid credit that may cover these charges.

    The balance already contains the sign-off debits of these charges, so they are added back; what
    the member still owes on earlier invoices is not credit (it is paid by those invoices).
    `exclude` is the invoice being (re)calculated: what it says is due is not yet owed.
    """
    balance = CreditEntry.objects.filter(organisation_id=member.organisation_id, member=member).balance()
    debited = CreditEntry.objects.filter(charge__in=charges, kind=CreditKind.CHARGE).aggregate(
        s=Sum("amount")
    )["s"] or Decimal("0")
    return balance - debited + outstanding_on_invoices(member, exclude=exclude)


class BillingRun(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="billing_runs")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m}"

    @property
    def period_label(self) -> str:
        return f"{self.period_start:%Y-%m}"


class InvoiceKind(models.TextChoices):
    CHARGES = "charges", _("Charges")
    TOP_UP = "top_up", _("Credit top-up")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    TRANSFERRED = "transferred", _("Transferred to bexio")
    OPEN = "open", _("Open")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class InvoiceLocked(Exception):
    """The invoice is approved (or further): it cannot be edited here any more."""


class InvalidStatusChange(Exception):
    """The invoice cannot go from its status to the one asked for."""


# Statuses bexio reports back (after transfer) and which local statuses may move to them.
BEXIO_STATUSES = {
    InvoiceStatus.OPEN,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAID,
    InvoiceStatus.CANCELLED,
    InvoiceStatus.TRANSFERRED,
}


class Invoice(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invoices")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("number"), max_length=40, blank=True)
    member = models.ForeignKey(
        Member, verbose_name=_("bill-to member"), on_delete=models.PROTECT, related_name="invoices"
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=InvoiceKind.choices, default=InvoiceKind.CHARGES
    )
    status = models.CharField(
        _("status"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    language = models.CharField(_("language"), max_length=2, default="de")
    date = models.DateField(_("date"))
    due_date = models.DateField(_("due date"))
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    total = models.DecimalField(_("total"), default=Decimal("0.00"), **MONEY)
    rounding_difference = models.DecimalField(_("rounding difference"), default=Decimal("0.00"), **MONEY)
    credit_applied = models.DecimalField(_("credit applied"), default=Decimal("0.00"), **MONEY)
    amount_due = models.DecimalField(_("amount due"), default=Decimal("0.00"), **MONEY)
    run = models.ForeignKey(
        BillingRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            # The invoice list: one organisation's invoices newest first, without a sort on disk.
            models.Index(fields=["organisation", "-date", "-id"], name="invoice_org_newest_first"),
        ]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")

    def __str__(self) -> str:
        return f"{self.number or self.uuid} {self.member.display_name}"

    @property
    def is_locked(self) -> bool:
        return self.status != InvoiceStatus.DRAFT

    @property
    def subtotal(self) -> Decimal:
        return self.total - self.rounding_difference

    @property
    def positions_editable(self) -> bool:
        """Positions may be removed or added on draft charge invoices (a top-up has its one position)."""
        return self.status == InvoiceStatus.DRAFT and self.kind == InvoiceKind.CHARGES

    def recalculate(self, credit_available: Decimal | None = None) -> None:
        """Totals from the positions (see money.invoice_totals); drafts only."""
        if self.is_locked:
            raise InvoiceLocked
        totals = invoice_totals((p.amount for p in self.positions.all()), credit_available)
        self.total = totals.total
        self.rounding_difference = totals.rounding_difference
        self.credit_applied = totals.credit_applied
        self.amount_due = totals.amount_due

    def credit_available(self) -> Decimal | None:
        """Prepaid credit that may cover this invoice's charges (None in post-paid mode)."""
        if not self.organisation.is_prepaid:
            return None
        return credit_available_for(self.member, list(self.charges.all()), exclude=self)

    def refresh_totals(self) -> None:
        """Recalculate a draft from its positions and the member's credit now, and save the totals."""
        self.recalculate(self.credit_available())
        self.save(
            update_fields=["total", "rounding_difference", "credit_applied", "amount_due", "updated_at"]
        )

    def _lock_positions(self) -> None:
        """Lock the invoice row and re-read its status; InvoiceLocked unless positions may change."""
        self.status = Invoice.objects.select_for_update().values_list("status", flat=True).get(pk=self.pk)
        if not self.positions_editable:
            raise InvoiceLocked

    @transaction.atomic
    def remove_position(self, position: "InvoicePosition") -> None:
        """Take a position off a draft. Its charge is un-invoiced again: the next billing run bills it."""
        if position.invoice_id != self.pk:
            raise ValueError("the position is not on this invoice")
        self._lock_positions()
        charge_id = position.charge_id
        position.delete()
        if charge_id is not None:
            Charge.objects.filter(pk=charge_id, invoice=self).update(invoice=None)
        # Keep the positions numbered 1..n (ascending, so the unique (invoice, pos) always holds).
        for number, (pk, pos) in enumerate(self.positions.order_by("pos").values_list("pk", "pos"), start=1):
            if pos != number:
                InvoicePosition.objects.filter(pk=pk).update(pos=number)
        self.refresh_totals()

    @transaction.atomic
    def add_manual_position(self, *, text: str, quantity: Decimal, unit_price: Decimal, user=None):
        """Add a position of charge type `manual` to a draft; returns the new position.

        Like a flight's charges it is a charge of the bill-to member (debited from the credit account
        in prepaid mode), so removing the position later leaves it for the next billing run.
        """
        self._lock_positions()
        day = self.period_end or self.date
        charge = Charge(
            organisation_id=self.organisation_id,
            member=self.member,
            charge_type=ChargeType.MANUAL,
            date=day,
            text=text,
            quantity=quantity,
            unit_price=unit_price,
            invoice=self,
        )
        charge.save()
        if self.organisation.is_prepaid and charge.amount:
            CreditEntry.objects.create(
                organisation_id=self.organisation_id,
                member=self.member,
                date=day,
                kind=CreditKind.CHARGE,
                amount=-charge.amount,
                text=text,
                charge=charge,
                created_by=user,
            )
        last = self.positions.aggregate(last=Max("pos"))["last"] or 0
        position = InvoicePosition(
            invoice=self,
            pos=last + 1,
            charge_type=ChargeType.MANUAL,
            charge=charge,
            date=day,
            text=text,
            quantity=quantity,
            unit_price=unit_price,
        )
        position.save()
        self.refresh_totals()
        return position

    def approve(self, user) -> None:
        if self.status != InvoiceStatus.DRAFT:
            raise InvalidStatusChange(f"cannot approve an invoice in status {self.status}")
        self.status = InvoiceStatus.APPROVED
        self.approved_at = timezone.now()
        self.approved_by = user
        self.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])

    def mark_transferred(self) -> None:
        if self.status != InvoiceStatus.APPROVED:
            raise InvalidStatusChange(f"cannot transfer an invoice in status {self.status}")
        self.status = InvoiceStatus.TRANSFERRED
        self.save(update_fields=["status", "updated_at"])

    def set_status_from_bexio(self, status: str) -> bool:
        """Apply a status read back from bexio; returns whether it changed."""
        status = InvoiceStatus(status)
        if status not in BEXIO_STATUSES:
            raise InvalidStatusChange(f"bexio cannot set status {status}")
        if self.status == InvoiceStatus.DRAFT:
            raise InvalidStatusChange("a draft invoice is not in bexio")
        if self.status == status:
            return False
        self.status = status
        self.save(update_fields=["status", "updated_at"])
        return True

    def cancel(self) -> None:
        if self.status not in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED):
            raise InvalidStatusChange(f"cannot cancel an invoice in status {self.status} here")
        self.status = InvoiceStatus.CANCELLED
        self.save(update_fields=["status", "updated_at"])
        self.charges.update(invoice=None)


class InvoicePosition(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="positions")
    pos = models.PositiveIntegerField(_("position"))
    charge_type = models.CharField(_("charge type"), max_length=20, choices=ChargeType.choices)
    aircraft = models.ForeignKey(
        "flights.Aircraft", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    aerodrome = models.ForeignKey(
        "flights.Aerodrome", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    charge = models.ForeignKey(
        Charge, on_delete=models.SET_NULL, null=True, blank=True, related_name="positions"
    )
    date = models.DateField(_("date"), null=True, blank=True)
    text = models.CharField(_("text"), max_length=300)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **UNIT_PRICE)
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        ordering = ["invoice", "pos"]
        constraints = [models.UniqueConstraint(fields=["invoice", "pos"], name="invoice_position_unique")]
        verbose_name = _("invoice position")
        verbose_name_plural = _("invoice positions")

    def __str__(self) -> str:
        return f"{self.pos}. {self.text}"

    def save(self, *args, **kwargs):
        self.amount = position_amount(self.quantity, self.unit_price)
        super().save(*args, **kwargs)

    @property
    def mapping_key(self) -> tuple[str, int | None]:
        return (self.charge_type, self.aircraft_id or self.aerodrome_id or None)
