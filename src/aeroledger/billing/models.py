"""Charges, credit (prepaid) accounts, billing runs and invoices."""

import uuid
from datetime import date as date_type
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aeroledger.members.models import Language, Member
from aeroledger.tenancy import hooks
from aeroledger.tenancy.models import Organisation

from .money import Settlement, position_amount, settle

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


class PricedLine(models.Model):
    """What a charge and an invoice position share: a text, quantity x unit price = amount."""

    text = models.CharField(_("text"), max_length=300)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **UNIT_PRICE)
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.amount = position_amount(self.quantity, self.unit_price)
        super().save(*args, **kwargs)


class Charge(PricedLine):
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
    invoice = models.ForeignKey(
        "Invoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="charges"
    )

    objects = ChargeQuerySet.as_manager()

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["organisation", "member", "date"])]
        # A charge is something owed to the club, never money for the member: credit comes only from
        # deposits, top-ups and permissioned corrections (CreditEntry).
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0, unit_price__gte=0, amount__gte=0),
                name="charge_not_negative",
            )
        ]
        verbose_name = _("charge")
        verbose_name_plural = _("charges")

    def __str__(self) -> str:
        return f"{self.date} {self.text} {self.amount}"

    @property
    def is_locked(self) -> bool:
        return self.invoice_id is not None or (self.flight_id is not None and self.flight.is_signed_off)

    def lock(self) -> "Charge":
        """This charge locked and read afresh, its flight locked first (the flight's sign-off decides
        whether its charges may change; the same order as a flight edit: flight, then charges)."""
        if self.flight_id is not None:
            self.flight.lock()
        return Charge.objects.select_for_update().get(pk=self.pk)

    @property
    def mapping_key(self) -> tuple[str, int | None]:
        return (self.charge_type, self.aircraft_id or self.aerodrome_id or None)


class CreditKind(models.TextChoices):
    """A line of a member's credit account (a prepayment the club owes the member: a liability).

    Money in: a deposit recorded here, a top-up invoice paid. Money out: credit used to pay charges
    (when an invoice is approved), a refund paid out. A correction (either sign) needs a reason and
    the Manage invoicing permission.
    """

    DEPOSIT = "deposit", _("Deposit")
    TOP_UP = "top_up", _("Top-up paid")
    USAGE = "usage", _("Paid from credit")
    REFUND = "refund", _("Refund paid out")
    CORRECTION = "correction", _("Correction")


# The kinds a person records by hand (the others come from approvals and payments).
MANUAL_CREDIT_KINDS = (CreditKind.DEPOSIT, CreditKind.REFUND, CreditKind.CORRECTION)


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
    payment = models.ForeignKey(
        "InvoicePayment", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries"
    )
    # Where the money of a deposit or refund went through (a bank account the accounting offers,
    # see the "money_accounts" hook); empty when not known.
    money_account = models.CharField(_("bank account"), max_length=100, blank=True)
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
    """The member's credit: what the club owes the member (the sum of the entries)."""
    entries = CreditEntry.objects.filter(organisation_id=member.organisation_id, member=member)
    if until is not None:
        entries = entries.filter(date__lte=until)
    return entries.balance()


def pending_charges(member: Member) -> Decimal:
    """Charges of the member not yet paid from credit or invoiced: signed off (or on a draft)."""
    unbilled = Charge.objects.billable().filter(organisation_id=member.organisation_id, member=member)
    on_drafts = Charge.objects.filter(
        organisation_id=member.organisation_id, member=member, invoice__status=InvoiceStatus.DRAFT
    )
    total = Decimal("0")
    for qs in (unbilled, on_drafts):
        total += qs.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    return total


def lock_credit_account(member: Member) -> None:
    """Serialise everything that reads and then changes this member's credit (across processes).

    The member row is the credit account's lock: an approval that uses credit, a payment that adds
    to it, a refund that pays it out each take it first, so no franc is used twice. A "no key" lock
    (PostgreSQL FOR NO KEY UPDATE): it serialises these, yet rows that merely refer to the member
    (a flight's charges, an entry) are written meanwhile without waiting for it.
    """
    Member.objects.select_for_update(no_key=True).filter(pk=member.pk).values_list("pk", flat=True).first()


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


class CancelRefused(InvalidStatusChange):
    """Something outside billing (the accounting integration) already has the invoice; `str()` says why."""


# Statuses the accounting reports back (after transfer).
BEXIO_STATUSES = {
    InvoiceStatus.OPEN,
    InvoiceStatus.PARTIALLY_PAID,
    InvoiceStatus.PAID,
    InvoiceStatus.CANCELLED,
    InvoiceStatus.TRANSFERRED,
}
# Statuses of an invoice that the accounting has (the only ones a status read back may replace).
IN_ACCOUNTING = BEXIO_STATUSES


class Invoice(models.Model):
    """A member's bill for a period (kind "charges") or a request to top up the credit ("top_up").

    In prepaid mode the member's credit pays the charges first (oldest first) when the invoice is
    approved; only the rest (`amount_due`) is invoiced. `total` = `credit_applied` + `amount_due`.
    An invoice whose credit pays everything is a statement: nothing is due.

    Every change of status is a transition method that locks the row, re-reads the status it expects
    and changes it, or raises: never a save of a copy read earlier.
    """

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
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default="de")
    date = models.DateField(_("date"))
    due_date = models.DateField(_("due date"))
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    total = models.DecimalField(_("total"), default=Decimal("0.00"), **MONEY)
    rounding_difference = models.DecimalField(_("rounding difference"), default=Decimal("0.00"), **MONEY)
    credit_applied = models.DecimalField(_("paid from credit"), default=Decimal("0.00"), **MONEY)
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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credit_applied__gte=0, amount_due__gte=0),
                name="invoice_amounts_not_negative",
            )
        ]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")

    def __str__(self) -> str:
        return f"{self.number} {self.member.display_name}"

    @property
    def is_locked(self) -> bool:
        return self.status != InvoiceStatus.DRAFT

    @property
    def subtotal(self) -> Decimal:
        return self.total - self.rounding_difference

    @property
    def has_statement(self) -> bool:
        """Approved charges of which the credit paid some: the member's statement shows it."""
        return (
            self.kind == InvoiceKind.CHARGES
            and self.status != InvoiceStatus.DRAFT
            and self.credit_applied > 0
        )

    @property
    def is_statement(self) -> bool:
        """Credit pays all of it: nothing is invoiced, the member gets a statement."""
        return self.kind == InvoiceKind.CHARGES and self.amount_due == 0 and self.credit_applied > 0

    @property
    def cancellable_here(self) -> bool:
        """Drafts and approved invoices; a statement also once paid from credit (no document of it is
        in the accounting, only the booking of the credit it used, which the cancel reverses)."""
        return self.status in (InvoiceStatus.DRAFT, InvoiceStatus.APPROVED) or (
            self.status == InvoiceStatus.PAID and self.is_statement
        )

    @property
    def positions_editable(self) -> bool:
        """Positions may be removed or added on draft charge invoices (a top-up has its one position)."""
        return self.status == InvoiceStatus.DRAFT and self.kind == InvoiceKind.CHARGES

    @property
    def uses_credit(self) -> bool:
        return self.kind == InvoiceKind.CHARGES and self.organisation.is_prepaid

    # --- totals --------------------------------------------------------------------------------
    def _positions_oldest_first(self) -> list["InvoicePosition"]:
        return sorted(self.positions.all(), key=lambda p: (p.date or self.date, p.pos, p.pk or 0))

    def settlement(self, credit: Decimal | None) -> Settlement:
        """How credit (None: none) would pay this invoice's positions, oldest first."""
        return settle([p.amount for p in self._positions_oldest_first()], credit)

    def _apply_totals(self, s: Settlement) -> None:
        self.total = s.total
        self.rounding_difference = s.rounding_difference
        self.credit_applied = s.credit_used
        self.amount_due = s.amount_due

    def recalculate(self, credit_available: Decimal | None = None) -> None:
        """Totals from the positions, as credit would pay them now (drafts only; a preview)."""
        if self.is_locked:
            raise InvoiceLocked
        self._apply_totals(self.settlement(credit_available))

    def credit_available(self) -> Decimal | None:
        """The member's credit that may pay this invoice (None when credit does not apply)."""
        return credit_balance(self.member) if self.uses_credit else None

    def refresh_totals(self) -> None:
        """Recalculate a draft from its positions and the member's credit now, and save the totals."""
        self.recalculate(self.credit_available())
        self.save(
            update_fields=["total", "rounding_difference", "credit_applied", "amount_due", "updated_at"]
        )

    # --- transitions (each locks and re-checks) -----------------------------------------------
    def _lock(self) -> "Invoice":
        """This invoice's row, locked until the end of the transaction, as the database has it now.

        Only the invoice's own row (`of`): locking the joined organisation too made every row that
        refers to the organisation (an outbox attempt, a credit entry) wait for a cancel, which
        itself waited for the outbox item that attempt's transaction held: a deadlock.
        """
        return (
            Invoice.objects.select_for_update(of=("self",), no_key=True)
            .select_related("organisation", "member")
            .get(pk=self.pk)
        )

    def _take(self, fresh: "Invoice", *fields: str) -> None:
        for name in ("status", *fields):
            setattr(self, name, getattr(fresh, name))

    def _lock_positions(self) -> None:
        """Lock the invoice row and re-read its status; InvoiceLocked unless positions may change."""
        self.status = Invoice.objects.select_for_update().values_list("status", flat=True).get(pk=self.pk)
        if not self.positions_editable:
            raise InvoiceLocked

    @transaction.atomic
    def remove_position(self, position: "InvoicePosition") -> None:
        """Take a position off a draft. Its charge is un-invoiced again: the next billing run bills it
        (nothing was paid from credit yet: credit pays when an invoice is approved)."""
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

        Like a flight's charges it is a charge of the bill-to member (paid from credit in prepaid
        mode when the invoice is approved); removing the position leaves it for the next billing run.
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

    @transaction.atomic
    def approve(self, user) -> None:
        """Draft -> approved. In prepaid mode the member's credit pays the positions now, oldest
        first (credit entries "paid from credit"), and only the rest stays due."""
        if self.uses_credit:
            lock_credit_account(self.member)  # before the invoice: the same order as cancel()
        fresh = self._lock()
        if fresh.status != InvoiceStatus.DRAFT:
            self._take(fresh)  # the caller says what the invoice is now, not what it was when loaded
            raise InvalidStatusChange(f"cannot approve an invoice in status {fresh.status}")
        credit = credit_balance(fresh.member) if fresh.uses_credit else None
        positions = fresh._positions_oldest_first()
        s = settle([p.amount for p in positions], credit)
        for position, covered in zip(positions, s.covered, strict=True):
            if position.credit_covered != covered:
                InvoicePosition.objects.filter(pk=position.pk).update(credit_covered=covered)
            if covered > 0:
                CreditEntry.objects.create(
                    organisation_id=fresh.organisation_id,
                    member_id=fresh.member_id,
                    date=fresh.date,
                    kind=CreditKind.USAGE,
                    amount=-covered,
                    text=position.text,
                    invoice=fresh,
                    charge_id=position.charge_id,
                    created_by=user,
                )
        fresh._apply_totals(s)
        fresh.status = InvoiceStatus.APPROVED
        fresh.approved_at = timezone.now()
        fresh.approved_by = user
        fresh.save(
            update_fields=[
                "status",
                "approved_at",
                "approved_by",
                "total",
                "rounding_difference",
                "credit_applied",
                "amount_due",
                "updated_at",
            ]
        )
        self._take(
            fresh,
            "approved_at",
            "approved_by",
            "total",
            "rounding_difference",
            "credit_applied",
            "amount_due",
        )

    @transaction.atomic
    def cancel(self, user=None) -> None:
        """Draft or approved -> cancelled: the charges are billed again, credit used comes back.

        An approved invoice can be cancelled here only while the accounting does not hold it: every
        function registered for the hook "invoice_cancel" may refuse (with the reason) or withdraw
        its pending work, inside this transaction. (Credit use already booked there is reversed
        there: the credit given back is a credit entry, and bexio_link books it.)
        """

        if self.uses_credit:
            lock_credit_account(self.member)
        fresh = self._lock()
        if not fresh.cancellable_here:
            self._take(fresh)  # e.g. "already cancelled", not "in the accounting (draft)"
            raise InvalidStatusChange(f"cannot cancel an invoice in status {fresh.status} here")
        if fresh.status != InvoiceStatus.DRAFT:
            refusal = hooks.first("invoice_cancel", fresh)
            if refusal:
                raise CancelRefused(refusal)
        fresh._void(user)
        self._take(fresh)

    def _void(self, user) -> None:
        """Cancelled (the caller holds the row): the credit it used comes back as an entry of its own,
        dated today, and its charges are free to be billed again."""
        used = self.credit_entries.filter(kind=CreditKind.USAGE).aggregate(s=Sum("amount"))["s"]
        if used:
            CreditEntry.objects.create(
                organisation_id=self.organisation_id,
                member_id=self.member_id,
                date=timezone.localdate(),
                kind=CreditKind.USAGE,
                amount=-used,
                text=str(_("Invoice %(number)s cancelled: credit restored") % {"number": self.number}),
                invoice=self,
                created_by=user,
            )
        self.status = InvoiceStatus.CANCELLED
        self.save(update_fields=["status", "updated_at"])
        self.charges.update(invoice=None)

    @transaction.atomic
    def _cancelled_in_accounting(self) -> bool:
        """The accounting cancelled the invoice: as a cancel here (its charges are billed again, the
        credit it used comes back). False when it was not in the accounting or is cancelled already."""
        if self.uses_credit:
            lock_credit_account(self.member)
        fresh = self._lock()
        if fresh.status not in IN_ACCOUNTING or fresh.status == InvoiceStatus.CANCELLED:
            self._take(fresh)
            return False
        fresh._void(user=None)
        self._take(fresh)
        return True

    def _move(self, expected, status) -> bool:
        """Conditional UPDATE: from one of the `expected` statuses to `status`; True if it moved."""
        expected = [expected] if isinstance(expected, str) else list(expected)
        moved = Invoice.objects.filter(pk=self.pk, status__in=expected).update(
            status=status, updated_at=timezone.now()
        )
        if moved:
            self.status = status
        return bool(moved)

    def mark_transferred(self) -> None:
        """Approved -> transferred (the accounting has the invoice)."""
        if not self._move(InvoiceStatus.APPROVED, InvoiceStatus.TRANSFERRED):
            self.status = Invoice.objects.values_list("status", flat=True).get(pk=self.pk)
            raise InvalidStatusChange(f"cannot transfer an invoice in status {self.status}")

    def mark_paid_from_credit(self) -> bool:
        """Approved -> paid, for a statement (credit paid all of it) once the accounting has it."""
        if not self.is_statement:
            raise InvalidStatusChange("only an invoice paid fully from credit is paid without a payment")
        return self._move(InvoiceStatus.APPROVED, InvoiceStatus.PAID)

    def set_status_from_bexio(self, status: str) -> bool:
        """Apply a status read back from the accounting; returns whether it changed.

        Only an invoice the accounting has (transferred or further) takes it: a draft, approved or
        here-cancelled invoice never changes because of a (stale) read. Cancelled in the accounting
        is a cancel here (charges free, credit back); a cancelled invoice never comes back.
        """
        status = InvoiceStatus(status)
        if status not in BEXIO_STATUSES:
            raise InvalidStatusChange(f"bexio cannot set status {status}")
        if self.status == InvoiceStatus.DRAFT:
            raise InvalidStatusChange("a draft invoice is not in bexio")
        if self.status == status:
            return False
        if status == InvoiceStatus.CANCELLED:
            return self._cancelled_in_accounting()
        # Once cancelled, never back: its charges and credit are free again (maybe billed anew).
        return self._move([s for s in IN_ACCOUNTING if s not in (status, InvoiceStatus.CANCELLED)], status)

    # --- payments ------------------------------------------------------------------------------
    @property
    def paid_amount(self) -> Decimal:
        return self.payments.aggregate(s=Sum("amount"))["s"] or Decimal("0.00")

    @transaction.atomic
    def record_payment(self, *, amount: Decimal, date, external_ref: str, text: str = ""):
        """Book a payment (negative: a reversal) of this invoice once; returns (payment, created).

        A payment of a top-up invoice is also credit for the member (a "top-up paid" entry, in the
        same transaction). `external_ref` makes it idempotent: a second call changes nothing.
        """
        existing = InvoicePayment.objects.filter(
            organisation_id=self.organisation_id, external_ref=external_ref
        )
        if existing.exists():
            return existing.first(), False
        if self.kind == InvoiceKind.TOP_UP:
            lock_credit_account(self.member)
        try:
            with transaction.atomic():
                payment = InvoicePayment.objects.create(
                    organisation_id=self.organisation_id,
                    invoice=self,
                    date=date,
                    amount=amount,
                    text=text,
                    external_ref=external_ref,
                )
        except IntegrityError:  # booked at this moment by another process
            return InvoicePayment.objects.get(
                organisation_id=self.organisation_id, external_ref=external_ref
            ), False
        if self.kind == InvoiceKind.TOP_UP and amount:
            CreditEntry.objects.create(
                organisation_id=self.organisation_id,
                member_id=self.member_id,
                date=date,
                kind=CreditKind.TOP_UP,
                amount=amount,
                text=text,
                invoice=self,
                payment=payment,
            )
        return payment, True


class InvoicePosition(PricedLine):
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
    # The part of `amount` paid from the member's credit (set when the invoice is approved).
    credit_covered = models.DecimalField(_("paid from credit"), default=Decimal("0.00"), **MONEY)

    class Meta:
        ordering = ["invoice", "pos"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "pos"], name="invoice_position_unique"),
            models.CheckConstraint(
                condition=models.Q(credit_covered__gte=0, credit_covered__lte=models.F("amount")),
                name="position_covered_within_amount",
            ),
        ]
        verbose_name = _("invoice position")
        verbose_name_plural = _("invoice positions")

    def __str__(self) -> str:
        return f"{self.pos}. {self.text}"

    @property
    def mapping_key(self) -> tuple[str, int | None]:
        return (self.charge_type, self.aircraft_id or self.aerodrome_id or None)

    @property
    def amount_invoiced(self) -> Decimal:
        """The part of this position that is due (not paid from credit)."""
        return self.amount - self.credit_covered


class InvoicePayment(models.Model):
    """A payment of an invoice, as the accounting reports it (negative: a payment deleted there)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), **MONEY)
    text = models.CharField(_("text"), max_length=300, blank=True)
    external_ref = models.CharField(_("external reference"), max_length=100)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "external_ref"], name="invoice_payment_ref_unique"
            )
        ]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"
