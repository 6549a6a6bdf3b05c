"""Aircraft, aerodromes and the flight log. Each flight produces charges from the tariffs."""

from decimal import Decimal

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aeroledger.members.models import Member
from aeroledger.tenancy.limits import BLOCK_MINUTES_RANGE, LANDINGS_RANGE, TARIFF_RANGE, validate_year
from aeroledger.tenancy.models import Organisation

PRICE = {"max_digits": 12, "decimal_places": 4, "validators": [TARIFF_RANGE]}


class Aircraft(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="aircraft")
    registration = models.CharField(_("registration"), max_length=20, help_text=_("e.g. HB-KFA"))
    type_name = models.CharField(_("type"), max_length=100)
    price_per_minute = models.DecimalField(_("price per minute"), **PRICE)
    instruction_price_per_minute = models.DecimalField(_("instruction price per minute"), **PRICE)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["registration"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "registration"], name="aircraft_unique_per_org")
        ]
        verbose_name = _("aircraft")
        verbose_name_plural = _("aircraft")

    def __str__(self) -> str:
        return f"{self.registration} ({self.type_name})"

    def save(self, *args, **kwargs):
        self.registration = self.registration.strip().upper()
        super().save(*args, **kwargs)


class Aerodrome(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="aerodromes")
    icao = models.CharField(_("ICAO code"), max_length=4, help_text=_("e.g. LSZG"))
    name = models.CharField(_("name"), max_length=100)
    landing_fee = models.DecimalField(_("landing fee"), **PRICE)

    class Meta:
        ordering = ["icao"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "icao"], name="aerodrome_unique_per_org")
        ]
        verbose_name = _("aerodrome")
        verbose_name_plural = _("aerodromes")

    def __str__(self) -> str:
        return f"{self.icao} {self.name}"

    def save(self, *args, **kwargs):
        self.icao = self.icao.strip().upper()
        super().save(*args, **kwargs)


class FlightLocked(Exception):
    """The flight is signed off: its charges can no longer change."""


class Flight(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="flights")
    date = models.DateField(_("date"), validators=[validate_year])
    aircraft = models.ForeignKey(
        Aircraft, verbose_name=_("aircraft"), on_delete=models.PROTECT, related_name="flights"
    )
    pilot = models.ForeignKey(
        Member, verbose_name=_("pilot"), on_delete=models.PROTECT, related_name="flights"
    )
    instructor = models.ForeignKey(
        Member,
        verbose_name=_("instructor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="instructed_flights",
    )
    block_minutes = models.PositiveIntegerField(_("block minutes"), validators=[BLOCK_MINUTES_RANGE])
    remarks = models.CharField(_("remarks"), max_length=500, blank=True)
    signed_off_at = models.DateTimeField(_("signed off"), null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["organisation", "date"])]
        verbose_name = _("flight")
        verbose_name_plural = _("flights")

    def __str__(self) -> str:
        return f"{self.date} {self.aircraft.registration} {self.pilot.display_name}"

    @property
    def is_signed_off(self) -> bool:
        return self.signed_off_at is not None

    def tariff_charges(self) -> list[dict]:
        """The charges the tariffs produce for this flight (unsaved field dicts)."""
        from aeroledger.billing.models import ChargeType  # noqa: PLC0415 - billing imports flights (Charge.flight)

        bill_to = self.pilot.bill_to
        base = {"organisation": self.organisation, "member": bill_to, "flight": self, "date": self.date}
        reg = self.aircraft.registration
        charges = [
            dict(
                base,
                charge_type=ChargeType.AIRCRAFT_TIME,
                aircraft=self.aircraft,
                text=f"{reg} {self.block_minutes} min",
                quantity=Decimal(self.block_minutes),
                unit_price=self.aircraft.price_per_minute,
            )
        ]
        if self.instructor_id:
            charges.append(
                dict(
                    base,
                    charge_type=ChargeType.INSTRUCTION,
                    aircraft=self.aircraft,
                    text=f"{reg} {self.instructor.display_name} {self.block_minutes} min",
                    quantity=Decimal(self.block_minutes),
                    unit_price=self.aircraft.instruction_price_per_minute,
                )
            )
        for landing in self.landings.select_related("aerodrome"):
            charges.append(
                dict(
                    base,
                    charge_type=ChargeType.LANDING_FEE,
                    aerodrome=landing.aerodrome,
                    text=f"{landing.aerodrome.icao} {landing.count}x",
                    quantity=Decimal(landing.count),
                    unit_price=landing.aerodrome.landing_fee,
                )
            )
        return charges

    def lock(self) -> "Flight":
        """This flight's row, locked until the end of the transaction, as the database has it now."""
        return Flight.objects.select_for_update().get(pk=self.pk)

    @transaction.atomic
    def rebuild_charges(self) -> None:
        """Replace this flight's charges by what the tariffs produce now (before sign-off only)."""
        from aeroledger.billing.models import Charge  # noqa: PLC0415 - billing imports flights (Charge.flight)

        if self.lock().is_signed_off:
            raise FlightLocked
        self.charges.all().delete()
        for fields in self.tariff_charges():
            Charge(**fields).save()

    @transaction.atomic
    def sign_off(self, user) -> None:
        """Lock the flight and its charges: from now on they are billed as they are.

        Nothing is debited here: the member's credit pays the charges when the billing run's
        invoice is approved (oldest first), so a sign-off never changes a balance.
        """
        now = timezone.now()
        signed = Flight.objects.filter(pk=self.pk, signed_off_at__isnull=True).update(
            signed_off_at=now, signed_off_by=user
        )
        if not signed:
            raise FlightLocked
        self.signed_off_at, self.signed_off_by = now, user


class Landing(models.Model):
    flight = models.ForeignKey(Flight, on_delete=models.CASCADE, related_name="landings")
    aerodrome = models.ForeignKey(
        Aerodrome, verbose_name=_("aerodrome"), on_delete=models.PROTECT, related_name="landings"
    )
    count = models.PositiveIntegerField(_("landings"), default=1, validators=[LANDINGS_RANGE])

    class Meta:
        verbose_name = _("landing")
        verbose_name_plural = _("landings")

    def __str__(self) -> str:
        return f"{self.count}x {self.aerodrome.icao}"
