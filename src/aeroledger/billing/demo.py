"""The demo organisation: a realistic Swiss flying club, seeded idempotently by `seed_demo`."""

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aeroledger.flights.models import Aerodrome, Aircraft, Flight, Landing
from aeroledger.members.models import Member, MemberKind, Salutation
from aeroledger.tenancy.models import BillingMode, Membership, Organisation, StaffProfile

from .models import CreditEntry, CreditKind, Invoice
from .runs import billing_run, create_top_up

DEMO_SLUG = "demo"
DEMO_PASSWORD = "aeroledger"

# (postcode, city, language)
PLACES = [
    ("5242", "Lupfig", "de"),
    ("5200", "Brugg", "de"),
    ("5400", "Baden", "de"),
    ("5000", "Aarau", "de"),
    ("8005", "Zürich", "de"),
    ("8400", "Winterthur", "de"),
    ("3011", "Bern", "de"),
    ("4051", "Basel", "de"),
    ("6003", "Luzern", "de"),
    ("2540", "Grenchen", "de"),
    ("1003", "Lausanne", "fr"),
    ("1201", "Genève", "fr"),
    ("2000", "Neuchâtel", "fr"),
    ("1700", "Fribourg", "fr"),
    ("6900", "Lugano", "it"),
    ("6500", "Bellinzona", "it"),
    ("6300", "Zug", "en"),
]
# First names alternate: a man's, then a woman's (the salutation follows the position).
FIRST = {
    "de": (
        "Hans Ursula Peter Barbara Thomas Monika Daniel Sandra "
        "Markus Andrea Reto Corinne Beat Nicole Urs Silvia"
    ).split(),
    "fr": "Jean Claire Pierre Nathalie Laurent Sophie Olivier Isabelle".split(),
    "it": "Marco Giulia Luca Francesca Paolo Chiara".split(),
    "en": "James Emily Oliver Sarah".split(),
}
LAST = {
    "de": (
        "Müller Meier Schmid Keller Weber Huber Schneider Brunner "
        "Baumann Frei Zimmermann Moser Gerber Widmer Wyss Graf"
    ).split(),
    "fr": "Favre Rochat Dubois Perret Bonvin Python Rey Morel".split(),
    "it": "Bernasconi Rossi Lepori Pedrazzini Fontana Bianchi".split(),
    "en": "Smith Taylor Brown Walker".split(),
}
STREETS = {
    "de": ["Bahnhofstrasse", "Hauptstrasse", "Dorfstrasse", "Kirchweg", "Seestrasse", "Flughafenstrasse"],
    "fr": ["Rue du Lac", "Avenue de la Gare", "Chemin des Vignes", "Rue Centrale"],
    "it": ["Via San Gottardo", "Via Cantonale", "Via Nassa", "Viale Stazione"],
    "en": ["Baarerstrasse", "Alpenstrasse"],
}
AIRCRAFT = [
    ("HB-CQA", "Cessna 172S", "4.20", "1.60"),
    ("HB-KGE", "Piper PA-28-181", "3.90", "1.60"),
    ("HB-KCX", "Aquila A211", "3.10", "1.50"),
]
# Two companies that pay for members: number -> fields.
COMPANIES = {
    "2001": dict(
        company_name="Aero Consult AG",
        street="Industriestrasse",
        house_number="12",
        address_addition="Buchhaltung",
        postcode="5400",
        city="Baden",
        language="de",
        email="buchhaltung@aeroconsult.example.ch",
        phone="+41 56 200 10 10",
    ),
    "2002": dict(
        company_name="Vols Romands SA",
        street="Route de l'Aéroport",
        house_number="5",
        postcode="1215",
        city="Genève",
        language="fr",
        email="compta@volsromands.example.ch",
        phone="+41 22 300 20 20",
    ),
}
# A few members with an academic title (by their index in the demo): a letter reads "Herr Dr. ...".
TITLES = {2: "Dr.", 11: "Dr. med.", 27: "Prof."}
AERODROMES = [("LSZF", "Birrfeld", "18.00"), ("LSZG", "Grenchen", "22.50")]
MEMBER_COUNT = 40
FLIGHT_COUNT = 300


def _org() -> Organisation:
    org, _created = Organisation.objects.get_or_create(
        slug=DEMO_SLUG,
        defaults=dict(
            name="Fluggruppe Birrfeld (Demo)",
            street="Flugplatz Birrfeld",
            house_number="1",
            postcode="5242",
            city="Lupfig",
            country="CH",
            vat_number="CHE-123.456.789 MWST",
            currency="CHF",
            billing_mode=BillingMode.PREPAID,
        ),
    )
    if not org.bexio_option:
        org.bexio_option = True
        org.save(update_fields=["bexio_option"])
    return org


def _users(org: Organisation) -> None:
    User = get_user_model()
    for username, language, perms, superuser in (
        ("admin", "en", True, True),
        ("viewer", "de", False, False),
    ):
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": superuser, "is_superuser": superuser}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        StaffProfile.objects.get_or_create(user=user, defaults={"language": language})
        Membership.objects.update_or_create(
            user=user,
            organisation=org,
            defaults={"manage_settings": perms, "manage_invoicing": perms, "manage_members": perms},
        )


def _members(org: Organisation, rnd: random.Random) -> list[Member]:
    members = []
    used: set[tuple[str, str]] = set()
    for i in range(MEMBER_COUNT):
        number = str(1001 + i)
        postcode, city, language = PLACES[i % len(PLACES)] if i >= 5 else PLACES[i % 3]
        first_names, last_names = FIRST[language], LAST[language]
        k = i
        while (
            first_names[k % len(first_names)],
            last_names[(k * 7 + k // len(last_names)) % len(last_names)],
        ) in used:
            k += 1
        first_name = first_names[k % len(first_names)]
        last_name = last_names[(k * 7 + k // len(last_names)) % len(last_names)]
        used.add((first_name, last_name))
        fields = dict(
            kind=MemberKind.PERSON,
            salutation=Salutation.MR if k % len(first_names) % 2 == 0 else Salutation.MS,
            title=TITLES.get(i, ""),
            first_name=first_name,
            last_name=last_name,
            street=STREETS[language][i % len(STREETS[language])],
            house_number=str(1 + (i * 13) % 80),
            postcode=postcode,
            city=city,
            country="CH",
            language=language,
            mobile=f"+41 79 {100 + i:03d} {10 + i:02d} {20 + i:02d}",
        )
        fields["email"] = (
            f"{fields['first_name']}.{fields['last_name']}".lower()
            .replace("ü", "ue")
            .replace("é", "e")
            .replace(" ", "")
            + "@example.ch"
        )
        member, _created = Member.objects.get_or_create(organisation=org, number=number, defaults=fields)
        members.append(member)
    # Two companies that pay for members, and a parent paying for a student.
    company_a, company_b = (
        Member.objects.get_or_create(
            organisation=org, number=number, defaults=dict(kind=MemberKind.COMPANY, **fields)
        )[0]
        for number, fields in COMPANIES.items()
    )
    for member, payer in (
        (members[3], company_a),
        (members[8], company_a),
        (members[12], company_b),
        (members[20], members[0]),
    ):
        if member.invoice_to_id is None:
            member.invoice_to = payer
            member.save(update_fields=["invoice_to", "updated_at"])
    return members


def _fleet(org: Organisation):
    aircraft = [
        Aircraft.objects.get_or_create(
            organisation=org,
            registration=reg,
            defaults=dict(
                type_name=type_name, price_per_minute=Decimal(p), instruction_price_per_minute=Decimal(i)
            ),
        )[0]
        for reg, type_name, p, i in AIRCRAFT
    ]
    aerodromes = [
        Aerodrome.objects.get_or_create(
            organisation=org, icao=icao, defaults=dict(name=name, landing_fee=Decimal(f))
        )[0]
        for icao, name, f in AERODROMES
    ]
    return aircraft, aerodromes


def _flights(org, members, aircraft, aerodromes, rnd: random.Random, admin) -> None:
    if Flight.objects.filter(organisation=org).exists():
        return
    today = timezone.localdate()
    start = today - timedelta(days=90)
    instructors = members[:3]
    students = members[30:40]
    pilots = members[3:40]
    for member in members:
        with translation.override(member.bill_to.language):
            text = _("Deposit by bank transfer")
        CreditEntry.objects.create(
            organisation=org,
            member=member.bill_to,
            date=start,
            kind=CreditKind.DEPOSIT,
            amount=Decimal(rnd.choice([50, 500, 1000, 2000, 3000, 4000])),  # some members run low
            text=text,
        )
    for n in range(FLIGHT_COUNT):
        day = start + timedelta(days=int(n * 89 / FLIGHT_COUNT) + 1)
        pilot = rnd.choice(pilots)
        instructor = rnd.choice(instructors) if pilot in students or rnd.random() < 0.1 else None
        flight = Flight.objects.create(
            organisation=org,
            date=day,
            aircraft=rnd.choice(aircraft),
            pilot=pilot,
            instructor=instructor,
            block_minutes=rnd.choice([35, 45, 55, 60, 70, 80, 95, 120, 150]),
            remarks=rnd.choice(["", "", "", "Platzrunden", "Navigation LSZF-LSZG", "Prüfungsvorbereitung"]),
        )
        Landing.objects.create(flight=flight, aerodrome=aerodromes[0], count=rnd.choice([1, 1, 2, 3, 5]))
        if rnd.random() < 0.25:
            Landing.objects.create(flight=flight, aerodrome=aerodromes[1], count=1)
        flight.rebuild_charges()
        flight.sign_off(admin)


def _invoices(org: Organisation, members, admin) -> None:
    if Invoice.objects.filter(organisation=org).exists():
        return
    today = timezone.localdate()
    first_of_month = today.replace(day=1)
    two_months_ago = (first_of_month - timedelta(days=1)).replace(day=1) - timedelta(days=1)
    billing_run(org, f"{two_months_ago:%Y-%m}", user=admin)
    create_top_up(org, members[5], Decimal("1000.00"), user=admin)
    create_top_up(org, members[15], Decimal("500.00"), user=admin)


@transaction.atomic
def seed_demo() -> Organisation:
    """Create (or complete) the demo organisation. Running it again changes nothing."""
    rnd = random.Random(1937)  # fixed: the same club every time
    org = _org()
    _users(org)
    admin = get_user_model().objects.get(username="admin")
    members = _members(org, rnd)
    aircraft, aerodromes = _fleet(org)
    _flights(org, members, aircraft, aerodromes, rnd, admin)
    _invoices(org, members, admin)
    return org
