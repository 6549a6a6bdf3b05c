"""Members: the people and companies a club bills (pilots, students, sponsors)."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aeroledger.tenancy.models import Organisation


class MemberKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class Language(models.TextChoices):
    """The language a member's invoices are written in."""

    DE = "de", _("German")
    FR = "fr", _("French")
    IT = "it", _("Italian")
    EN = "en", _("English")


class Salutation(models.TextChoices):
    """How a letter addresses a person (companies have none): "Herr", "Madame", "Famiglia"."""

    __empty__ = pgettext_lazy("salutation", "none")
    MR = "mr", pgettext_lazy("salutation", "Mr")
    MS = "ms", pgettext_lazy("salutation", "Ms")
    FAMILY = "family", pgettext_lazy("salutation", "Family")


# The words of each salutation in each invoice language, as a letter prints them (the first) and as
# people also write them (the others): letters use them, the CSV import reads them, and whoever
# compares salutations by name (another system's list) finds them here. Data, not interface text.
SALUTATION_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    Salutation.MR: {
        "de": ("Herr", "Hr.", "Herrn"),
        "fr": ("Monsieur", "M."),
        "it": ("Signor", "Signore", "Sig."),
        "en": ("Mr", "Mr."),
    },
    Salutation.MS: {
        "de": ("Frau", "Fr."),
        "fr": ("Madame", "Mme", "Mme."),
        "it": ("Signora", "Sig.ra"),
        "en": ("Ms", "Ms.", "Mrs", "Mrs."),
    },
    Salutation.FAMILY: {
        "de": ("Familie", "Fam."),
        "fr": ("Famille",),
        "it": ("Famiglia",),
        "en": ("Family",),
    },
}


def salutation_word(salutation: str, language: str) -> str:
    """The word a letter in `language` prints for `salutation` ("" for none): ("mr", "fr") -> "Monsieur"."""
    words = SALUTATION_WORDS.get(salutation, {})
    return (words.get(language) or words.get(Language.DE) or ("",))[0]


def salutation_words(salutation: str, language: str = "") -> list[str]:
    """Every word of `salutation`: those of `language` first, then German, then the other languages."""
    words = SALUTATION_WORDS.get(salutation, {})
    order = [language, Language.DE, *Language.values]
    found: list[str] = []
    for code in order:
        for word in words.get(code, ()):
            if word not in found:
                found.append(word)
    return found


def parse_salutation(text: str) -> str | None:
    """The salutation a person wrote: a value ("mr") or a word in any language ("Herr", "Madame",
    "signora", "Mrs."); "" for an empty cell, None when it is none of them."""
    key = " ".join((text or "").split()).casefold()
    if not key:
        return ""
    for value in Salutation.values:
        if value and (key == value or key in (w.casefold() for w in salutation_words(value))):
            return value
    return None


def salutation_choices_text() -> str:
    """What a salutation cell takes, for an error message: "mr, ms, family (or Herr, Frau, ...)"."""
    values = ", ".join(v for v in Salutation.values if v)
    words = ", ".join(
        "/".join(SALUTATION_WORDS[v][code][0] for v in Salutation.values if v) for code in Language.values
    )
    return f"{values} ({words})"


# --- house numbers ------------------------------------------------------------------------------
# QR-bills (since November 2025) carry structured addresses: the street and the house number apart.
# A number typed into the street ("Seestrasse 12", "12 rue du Lac") is found here, so the form can
# say so and the CSV import can put it where it belongs.
_TRAILING_NUMBER = re.compile(
    r"^(?P<street>.*\D)\s+(?P<number>\d+\s?(?:bis|ter|[a-zA-Z])?(?:\s?[-/]\s?\d+[a-zA-Z]?)?)$"
)
_LEADING_NUMBER = re.compile(r"^(?P<number>\d+(?:bis|ter|[a-zA-Z])?),?\s+(?P<street>[^\d\s].*)$")
_NOT_A_STREET = re.compile(r"^(postfach|case postale|casella postale|p\.?\s?o\.?\s?box)\b", re.IGNORECASE)


def split_street(street: str) -> tuple[str, str] | None:
    """("Seestrasse", "12") for "Seestrasse 12" or "12, Seestrasse"; None when no house number is in it."""
    street = " ".join((street or "").split())
    if not street or _NOT_A_STREET.match(street):
        return None
    match = _TRAILING_NUMBER.match(street) or _LEADING_NUMBER.match(street)
    if match is None:
        return None
    return match["street"].strip(" ,"), match["number"].replace(" ", "")


# --- name order ---------------------------------------------------------------------------------
# Members are listed the way a German phone book lists names (DIN 5007-2): ä = ae, ö = oe, ü = ue,
# ß = ss, other accents ignored, case ignored; so Bärtschi comes before Brunner and Müller between
# Mueller and Muster. Databases do not agree on that (SQLite compares bytes, PostgreSQL follows the
# database's locale, which is C in our tests), so each member stores its key in `sort_name`, a plain
# string whose byte order is that order, kept up to date by save(). On PostgreSQL the column uses
# the C collation whatever the database's default (migration 0002), so the order is the same there.
SORT_SEPARATOR = "\x1f"  # below every character of a folded name: "Muster" before "Musterli"
_PHONE_BOOK = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d"}
)
NAME_FIELDS = frozenset({"kind", "first_name", "last_name", "company_name", "number"})


def fold_name(text: str) -> str:
    """A name as the phone book files it: "Bärtschi-Müller" -> "baertschi muller"."""
    text = unicodedata.normalize("NFC", text or "").casefold().translate(_PHONE_BOOK)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", text).strip()


def name_sort_key(*, kind: str, first_name: str, last_name: str, company_name: str, number: str) -> str:
    """The stored sort key: folded names first; the spelling breaks ties (Mueller before Müller);
    the member number last, so that the order is total."""
    if kind == MemberKind.COMPANY:
        names = [company_name]
    else:
        names = [last_name, first_name]
    primary = SORT_SEPARATOR.join(fold_name(n) for n in names)
    spelling = " ".join(unicodedata.normalize("NFC", n or "").casefold() for n in names)
    return SORT_SEPARATOR.join([primary, spelling, number or ""])[:255]


def invoice_to_problem(
    *,
    is_self: bool,
    same_organisation: bool,
    payer_active: bool,
    payer_has_payer: bool,
    pays_for_others: bool,
) -> str:
    """Why a payer cannot pay a member's invoices ("" when it can): the rules of one payer level.

    The member form (through `Member.clean`) and the CSV import (on the data as it will be after
    the import) both ask here, so a file cannot build what the form refuses.
    """
    if is_self:
        return _("A member cannot pay for themselves here; leave it empty.")
    if not same_organisation:
        return _("The paying member must belong to the same organisation.")
    if not payer_active:
        return _("The paying member is archived.")
    if payer_has_payer:
        return _("The paying member has someone else paying for them.")
    if pays_for_others:
        return _("This member pays for others, so nobody else can pay for them.")
    return ""


class MemberQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def search(self, text: str):
        text = (text or "").strip()
        if not text:
            return self
        query = models.Q()
        for field in ("number", "first_name", "last_name", "company_name", "city", "email"):
            query |= models.Q(**{f"{field}__icontains": text})
        return self.filter(query)


class Member(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="members")
    number = models.CharField(_("number"), max_length=20)
    kind = models.CharField(_("kind"), max_length=10, choices=MemberKind.choices, default=MemberKind.PERSON)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    salutation = models.CharField(
        _("salutation"),
        max_length=10,
        choices=Salutation.choices,
        blank=True,
        default="",
        help_text=_("How letters and invoices address a person (“Dear Mr Keller”); companies have none."),
    )
    title = models.CharField(
        _("title"), max_length=50, blank=True, help_text=_("e.g. Dr. or Prof. Dr., written before the name")
    )
    street = models.CharField(
        _("street"),
        max_length=200,
        blank=True,
        help_text=_("Without the house number: it has its own field (QR-bills need them apart)."),
    )
    house_number = models.CharField(
        _("house number"), max_length=20, blank=True, help_text=_("e.g. 12 or 12a")
    )
    address_addition = models.CharField(_("address addition"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(
        _("country"), max_length=2, default="CH", help_text=_("ISO 3166 code, e.g. CH")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.DE)
    invoice_to = models.ForeignKey(
        "self",
        verbose_name=_("invoice to (if different)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pays_for",
        help_text=_("Another member who pays this member's invoices."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The phone-book sort key of the name (see name_sort_key); maintained by save().
    sort_name = models.CharField(max_length=255, blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["sort_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="member_number_unique_per_org")
        ]
        indexes = [
            models.Index(fields=["organisation", "is_active", "sort_name"], name="member_active_by_name"),
            models.Index(fields=["organisation", "sort_name"], name="member_by_name"),
        ]
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self) -> str:
        return f"{self.number} {self.display_name}"

    def save(self, *args, **kwargs):
        self.country = (self.country or "").upper()
        self.update_sort_name()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and NAME_FIELDS.intersection(update_fields):
            kwargs["update_fields"] = {*update_fields, "sort_name"}
        super().save(*args, **kwargs)

    def update_sort_name(self) -> None:
        """Set `sort_name` from the name (save() does it; bulk_create and update() do not)."""
        self.sort_name = name_sort_key(
            kind=self.kind,
            first_name=self.first_name,
            last_name=self.last_name,
            company_name=self.company_name,
            number=self.number,
        )

    @property
    def display_name(self) -> str:
        if self.kind == MemberKind.COMPANY:
            return self.company_name
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def letter_name(self, language: str | None = None) -> str:
        """The name as a letter's address prints it, in the member's language unless another is
        given: "Herr Dr. Hans Keller", "Madame Claire Favre", "Aero Consult AG"."""
        if self.kind == MemberKind.COMPANY:
            return self.company_name
        word = salutation_word(self.salutation, language or self.language)
        return " ".join(p for p in (word, self.title.strip(), self.first_name, self.last_name) if p)

    @property
    def bill_to(self) -> "Member":
        """The member who pays: `invoice_to` when set, otherwise the member themselves."""
        return self.invoice_to if self.invoice_to_id else self

    @property
    def street_line(self) -> str:
        return " ".join(p for p in (self.street, self.house_number) if p)

    @property
    def city_line(self) -> str:
        return " ".join(p for p in (self.postcode, self.city) if p)

    def clean(self):
        errors = {}
        if self.kind == MemberKind.COMPANY and not self.company_name:
            errors["company_name"] = _("A company needs a company name.")
        if self.kind == MemberKind.PERSON and not self.last_name:
            errors["last_name"] = _("A person needs a last name.")
        if self.kind == MemberKind.COMPANY and self.salutation:
            errors["salutation"] = _("A company has no salutation; leave it empty.")
        if self.kind == MemberKind.COMPANY and self.title.strip():
            errors["title"] = _("A company has no title; leave it empty.")
        if self.street and not self.house_number.strip():
            parts = split_street(self.street)
            if parts is not None:
                errors["street"] = _(
                    "Put the house number in its own field: street “%(street)s”, house number “%(number)s”."
                ) % {"street": parts[0], "number": parts[1]}
        if self.country and (len(self.country) != 2 or not self.country.isalpha()):
            errors["country"] = _("Use the two-letter ISO 3166 code, e.g. CH.")
        if self.invoice_to_id:
            payer = self.invoice_to
            problem = invoice_to_problem(
                is_self=self.invoice_to_id == self.pk,
                same_organisation=payer.organisation_id == self.organisation_id,
                payer_active=payer.is_active,
                payer_has_payer=bool(payer.invoice_to_id),
                pays_for_others=bool(self.pk) and self.pays_for.exclude(pk=self.pk).exists(),
            )
            if problem:
                errors["invoice_to"] = problem
        if errors:
            raise ValidationError(errors)

    def archive(self) -> None:
        self.is_active = False
        self.save(update_fields=["is_active", "updated_at"])
