"""The concurrency suite of issue 13: the money transitions driven from several processes at once.

Several child processes (`python -m aeroledger.bexio_link.transfer.tests.races child`, each with its
own database connection, a logged-in Django test client per staff user and a bexio client on the
sandbox over HTTP) run the operations of one *interleaving* at the same moment: approve, cancel,
transfer (start_transfer + the outbox worker), the worker alone, sign-off, flight, charge and
invoice edits (through the form pages), billing run, positions added and removed, top-ups, payments in bexio
and the status sync that books them, credit entries (deposit, refund, correction, and one by a user
without the permission), and linking a member to a bexio contact (a candidate, the company's own
contact, another member's contact). Sometimes bexio loses an answer after it stored the write, or
holds a write for a while. Then (after most rounds) the outbox is drained (no faults, no back-off)
and the invariants are checked:

- every charge on at most one live (not cancelled) invoice, pointing at it, billed at its amount,
  only from signed-off flights; a flight once signed off stays signed off, with its tariff's charges;
- every credit entry backed by an approval (usage), a payment (top-up) or a permissioned manual
  entry (deposit, refund, correction with a reason); usage of an invoice = its credit_applied;
  balances = the sum of the entries, never below zero through usage;
- every bexio invoice matches exactly one local invoice (api_reference = uuid) that is not
  cancelled and has something due, and its total is that amount due; every manual entry in bexio
  matches exactly one outbox item (its reference, id and amount); nothing of CHF 0.00 in bexio;
  a use of credit in bexio whose invoice was cancelled is reversed there exactly once;
- the company's own bexio contact is never overwritten; a contact is linked to one member at most;
- no operation ends in an unexpected error (a 500, a deadlock).

The operations and their targets, the start offsets and the faults come from a seeded generator
(`seed`): a run is repeatable as far as the races come out the same. `bench/races.py` runs it at
length and prints the figures; `test_races_postgres.py` runs a short version.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import selectors
import subprocess
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal

CHILD_MODULE = "aeroledger.bexio_link.transfer.tests.races"
OP_TIMEOUT_S = 120
KB_INVOICE = r"^/2\.0/kb_invoice$"
MANUAL_ENTRY = r"^/3\.0/accounting/manual_entries$"
DRAIN_SHARE = 0.6  # rounds after which the outbox is worked through before the check


@dataclass
class World:
    """The organisation the suite works on (ids only: it crosses to the child processes as JSON)."""

    org: int
    slug: str
    boss: int  # every permission
    desk: int  # "Manage members" only: flights, charges, contacts; no credit, no invoices
    aircraft: int
    aerodromes: list[int]
    members: list[int]
    candidates: dict[str, list[int]]  # member id -> bexio contacts offered to link it to
    own_contact: int  # the company's own address contact in bexio
    money_account: str  # a bank account deposits and refunds go through
    period: str  # the billing period (every flight and charge lies in it)
    day: str  # the flights' date
    sandbox_url: str
    token: str


@dataclass
class Op:
    name: str
    args: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds after the interleaving's common start


# --- the world ------------------------------------------------------------------------------------
def build_world(sb, *, seed: int, shared_contact: bool = True) -> World:
    """A prepaid club connected to the sandbox: mapped, with a credit account and a corrections
    account, six members (four with credit, two with a bexio contact of their number), a fleet.
    `shared_contact`: one more contact is a link candidate for both of the last two members."""
    from aeroledger.bexio_link.connection.models import BexioConnection, Status
    from aeroledger.bexio_link.masterdata.mapping import mapping_for
    from aeroledger.bexio_link.masterdata.models import BexioRecord, Kind
    from aeroledger.billing.models import CreditEntry, CreditKind
    from aeroledger.flights.models import Aerodrome
    from aeroledger.tenancy.testing import make_fleet, make_member, make_org, make_staff
    from bexio.models import ContactCreate

    from .conftest import make_client, map_everything, set_up_ledger

    rnd = random.Random(seed)
    org = make_org("races", bexio=True)
    boss = make_staff(org, "races-boss")
    desk = make_staff(org, "races-desk", perms=("members",))
    aircraft, aerodrome = make_fleet(org)
    second = Aerodrome.objects.create(
        organisation=org, icao="LSZF", name="Birrfeld", landing_fee=Decimal("18")
    )
    token = sb.token()
    client = make_client(sb, timeout=10, token=token)
    try:
        map_everything(org, client)
        set_up_ledger(org)
        BexioConnection.objects.create(organisation=org, status=Status.CONNECTED, company_id="x")
        mapping = mapping_for(org)
        money_account = mapping.money_accounts()[0][0]
        members = [make_member(org, str(n), email=f"m{n}@races.example.ch") for n in range(1, 7)]
        for member in members[:4]:
            CreditEntry.objects.create(
                organisation=org,
                member=member,
                kind=CreditKind.DEPOSIT,
                amount=Decimal(rnd.choice([150, 300, 600])),
                money_account=money_account,
                created_by=boss,
            )
        user = BexioRecord.objects.filter(organisation=org, kind=Kind.USER).order_by("bexio_id").first()
        candidates = defaultdict(list)
        five, six = members[4:]
        # Each of the last two members has a contact with its number; one more contact has the
        # number of the one and the e-mail of the other: a candidate for both (two links may race).
        contacts = [(five.number, None, [five]), (six.number, None, [six])]
        if shared_contact:
            contacts.append((five.number, six.email, [five, six]))
        for nr, mail, offered in contacts:
            made = client.contacts.create(
                ContactCreate(contact_type_id=2, name_1=f"Kandidat {nr}", nr=nr, mail=mail,
                              user_id=user.bexio_id, owner_id=user.bexio_id)
            )  # fmt: skip
            for member in offered:
                candidates[str(member.pk)].append(made.id)
        own = min(c.id for c in client.contacts.iter())
    finally:
        client.close()
    return World(
        org=org.pk,
        slug=org.slug,
        boss=boss.pk,
        desk=desk.pk,
        aircraft=aircraft.pk,
        aerodromes=[aerodrome.pk, second.pk],
        members=[m.pk for m in members],
        candidates=dict(candidates),
        own_contact=own,
        money_account=money_account,
        period="10.2026",
        day="2026-10-15",
        sandbox_url=sb.url,
        token=token,
    )


def bexio_client(world: World, *, timeout: float = 5):
    from bexio import BexioClient, RateGovernor, StaticToken

    return BexioClient(
        base_url=world.sandbox_url,
        token_provider=StaticToken(world.token),
        timeout=timeout,
        max_retries=3,
        governor=RateGovernor(),
        max_wait_s=2,
    )


# --- the operations (run in a child process) ----------------------------------------------------
class Ctx:
    """What a child's operations share: the organisation, a test client per staff user, bexio."""

    def __init__(self, world: World):
        from django.contrib.auth import get_user_model
        from django.test import Client

        from aeroledger.tenancy.models import Organisation

        self.world = world
        self.org = Organisation.objects.get(pk=world.org)
        users = get_user_model().objects.in_bulk([world.boss, world.desk])
        self.boss_user = users[world.boss]
        self.boss, self.desk = Client(), Client()
        self.boss.force_login(users[world.boss])
        self.desk.force_login(users[world.desk])
        self.bx = bexio_client(world)

    def url(self, name: str, *args) -> str:
        from django.urls import reverse

        return reverse(name, args=[self.world.slug, *args])


DETAIL: list[str] = []  # the messages the last page showed (for the log)


def outcome_of(response) -> str:
    """What a page answered, in a word: ok, refused (an error message), nothing, form error, ..."""
    from django.contrib import messages

    if response.status_code in (403, 404):
        return {403: "forbidden", 404: "gone"}[response.status_code]
    if response.status_code == 200:
        return "form error"
    storage = getattr(response.wsgi_request, "_messages", None)
    # This request's messages only (not those a redirect never followed left in the cookie).
    shown = [(m.level, str(m)) for m in getattr(storage, "_queued_messages", [])]
    DETAIL[:] = [text for _level, text in shown]
    levels = {level for level, _text in shown}
    for level, word in ((messages.ERROR, "refused"), (messages.SUCCESS, "ok"), (messages.INFO, "nothing")):
        if level in levels:
            return word
    return f"http {response.status_code}"


def run_worker(ctx: Ctx, *, shared: bool = False, **kw) -> dict:
    from aeroledger.bexio_link.transfer.outbox.worker import run_outbox

    kw.setdefault("wait_for_retries_s", 0)  # an item waiting for its back-off is left waiting
    return run_outbox(
        org_ids=[ctx.world.org],
        client_factory=lambda _org: ctx.bx,
        concurrency=2,
        exclusive_orgs=not shared,
        **kw,
    )


def op_approve(ctx, invoice):
    return outcome_of(ctx.boss.post(ctx.url("billing:invoice_approve", invoice)))


def op_cancel(ctx, invoice):
    return outcome_of(ctx.boss.post(ctx.url("billing:invoice_cancel", invoice)))


def op_transfer(ctx, shared=False):
    from aeroledger.bexio_link.transfer.start import start_transfer

    start_transfer(ctx.org, user=ctx.boss_user, enqueue_task=False)
    run_worker(ctx, shared=shared)
    return "ok"


def op_worker(ctx, shared=False):
    stats = run_worker(ctx, shared=shared)
    return "ok" if stats.get("created") or stats.get("adopted") else "nothing"


def op_sign_off(ctx, flight):
    return outcome_of(ctx.desk.post(ctx.url("flights:sign_off", flight)))


def op_flight_edit(ctx, flight, data):
    return outcome_of(ctx.desk.post(ctx.url("flights:edit", flight), data))


def op_charge_edit(ctx, charge, quantity, unit_price):
    data = {"text": "races: adjusted", "quantity": quantity, "unit_price": unit_price}
    return outcome_of(ctx.desk.post(ctx.url("flights:charge_edit", charge), data))


def op_billing_run(ctx, approve):
    data = {"period": ctx.world.period, "action": "create", "approve": "on" if approve else ""}
    return outcome_of(ctx.boss.post(ctx.url("billing:run_create"), data))


def op_invoice_edit(ctx, invoice, title):
    data = {"title": title, "date": "2026-10-31", "due_date": "2026-11-30"}
    return outcome_of(ctx.boss.post(ctx.url("billing:invoice_edit", invoice), data))


def op_remove_position(ctx, invoice, position):
    return outcome_of(ctx.boss.post(ctx.url("billing:position_remove", invoice, position)))


def op_add_position(ctx, invoice, quantity, unit_price):
    data = {"text": "races: fuel", "quantity": quantity, "unit_price": unit_price}
    return outcome_of(ctx.boss.post(ctx.url("billing:position_create", invoice), data))


def op_credit_entry(ctx, member, kind, amount, as_desk=False):
    data = {"kind": kind, "date": date.today().isoformat(), "amount": amount, "text": "races"}
    if kind == "correction":
        data["reason"] = "races: counted again"
    else:
        data["money_account"] = ctx.world.money_account
    user = ctx.desk if as_desk else ctx.boss
    return outcome_of(user.post(ctx.url("billing:credit_entry_create", member), data))


def op_top_up(ctx, member, amount):
    return outcome_of(ctx.boss.post(ctx.url("billing:top_up"), {"member": member, "amount": amount}))


def op_pay(ctx, invoice, whole):
    """The member pays (all or half of what is open) in bexio; the status sync books it here."""
    from aeroledger.bexio_link.transfer.invoices.sync import sync_status
    from aeroledger.bexio_link.transfer.models import InvoiceLink
    from bexio.models import InvoiceStatus as BexioStatus
    from bexio.models import PaymentCreate

    link = InvoiceLink.objects.get(invoice_id=invoice)
    found = ctx.bx.invoices.get(link.bexio_id)
    if found.status in (None, BexioStatus.DRAFT):
        ctx.bx.invoices.issue(link.bexio_id)
    open_ = Decimal(str(found.total or 0)) - Decimal(str(found.total_received_payments or 0))
    value = open_ if whole else (open_ / 2).quantize(Decimal("0.05"))
    if value <= 0:
        return "nothing"
    ctx.bx.invoices.payments(link.bexio_id).create(PaymentCreate(value=value, date=date.today()))
    sync_status(ctx.org, ctx.bx)
    return "ok"


def op_sync(ctx):
    from aeroledger.bexio_link.transfer.invoices.sync import sync_status

    sync_status(ctx.org, ctx.bx)
    return "ok"


def op_link(ctx, member, contact):
    data = {"bexio_id": contact, "confirm": "1", "outside_group_ok": "1"}
    return outcome_of(ctx.desk.post(ctx.url("bexio_masterdata:contact_link", member), data))


OPS = {name[3:]: fn for name, fn in dict(globals()).items() if name.startswith("op_")}


def child_main() -> None:
    """A child process: the configuration on the first line of stdin, then one operation per line
    (`{"op", "args", "at"}`; it starts at the wall-clock time `at`), one JSON answer per line."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # nothing but answers on the protocol's stream
    config = json.loads(sys.stdin.readline())
    os.environ.update(config["env"])
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from aeroledger.bexio_link.connection.clients import using_client_factory

    setup_test_environment()
    from django.conf import settings

    # As the test settings (conftest.py): static files without a collected manifest.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # fmt: skip
    world = World(**config["world"])
    ctx = Ctx(world)
    with using_client_factory(lambda org, context="": ctx.bx):
        for line in sys.stdin:
            msg = json.loads(line)
            if msg.get("quit"):
                break
            time.sleep(max(0.0, msg["at"] - time.time()))
            started = time.monotonic()
            DETAIL.clear()
            try:
                answer = {"ok": True, "outcome": OPS[msg["op"]](ctx, **msg["args"])}
            except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
                answer = {"ok": False, "outcome": f"{type(exc).__name__}: {exc}"[:600],
                          "trace": traceback.format_exc()[-3000:]}  # fmt: skip
                connection.close()  # a broken transaction or connection is not carried on
            answer["ms"] = int((time.monotonic() - started) * 1000)
            answer["detail"] = " | ".join(DETAIL)[:500]
            for user in (ctx.boss, ctx.desk):
                user.cookies.pop("messages", None)  # the redirect is never followed
            out.write(json.dumps(answer) + "\n")
    ctx.bx.close()


# --- the parent: children, plans, faults, drain, invariants ----------------------------------------
class Pool:
    """The child processes; `run(ops)` starts op i in child i at (nearly) the same moment."""

    def __init__(self, size: int, world: World, env: dict, log_path: str):
        self.log = open(log_path, "a")  # noqa: SIM115 - closed in close()
        config = json.dumps({"world": asdict(world), "env": env})
        child_env = {**os.environ, **env}
        self.procs = []
        for _ in range(size):
            proc = subprocess.Popen(
                [sys.executable, "-m", CHILD_MODULE, "child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,
                text=True,
                env=child_env,
            )
            proc.stdin.write(config + "\n")
            proc.stdin.flush()
            self.procs.append(proc)

    def run(self, ops: list[Op], *, lead_s: float = 0.2) -> list[dict]:
        at = time.time() + lead_s
        for proc, op in zip(self.procs, ops, strict=False):
            proc.stdin.write(json.dumps({"op": op.name, "args": op.args, "at": at + op.delay}) + "\n")
            proc.stdin.flush()
        answers: dict[int, dict] = {}
        selector = selectors.DefaultSelector()
        for i, proc in enumerate(self.procs[: len(ops)]):
            selector.register(proc.stdout, selectors.EVENT_READ, i)
        deadline = time.monotonic() + OP_TIMEOUT_S
        while len(answers) < len(ops):
            events = selector.select(timeout=max(0.1, deadline - time.monotonic()))
            if not events and time.monotonic() > deadline:
                raise TimeoutError(f"operations did not finish in {OP_TIMEOUT_S} s: {ops}")
            for key, _mask in events:
                line = key.fileobj.readline()
                if not line:
                    raise RuntimeError(f"child {key.data} died (see {self.log.name})")
                answers[key.data] = json.loads(line)
                selector.unregister(key.fileobj)
        selector.close()
        return [answers[i] for i in range(len(ops))]

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.stdin.write(json.dumps({"quit": True}) + "\n")
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.close()


class State:
    """What the planner may aim at, read afresh before each interleaving."""

    def __init__(self, world: World):
        from aeroledger.bexio_link.masterdata.models import ContactLink
        from aeroledger.bexio_link.transfer.models import InvoiceLink
        from aeroledger.billing.models import Charge, Invoice, InvoicePosition, InvoiceStatus
        from aeroledger.flights.models import Flight

        org = world.org
        invoices = Invoice.objects.filter(organisation_id=org)
        self.drafts = list(invoices.filter(status=InvoiceStatus.DRAFT).values_list("pk", flat=True))
        self.approved = list(invoices.filter(status=InvoiceStatus.APPROVED).values_list("pk", flat=True))
        self.member_of = dict(invoices.values_list("pk", "member_id"))
        self.payable = list(
            InvoiceLink.objects.filter(
                organisation_id=org,
                bexio_id__isnull=False,
                invoice__status__in=[
                    InvoiceStatus.TRANSFERRED,
                    InvoiceStatus.OPEN,
                    InvoiceStatus.PARTIALLY_PAID,
                ],
            ).values_list("invoice_id", flat=True)
        )
        self.unsigned = list(
            Flight.objects.filter(organisation_id=org, signed_off_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        self.positions: dict[int, list[int]] = defaultdict(list)
        for pk, invoice in InvoicePosition.objects.filter(invoice_id__in=self.drafts).values_list(
            "pk", "invoice"
        ):
            self.positions[invoice].append(pk)
        self.charges: dict[int | None, list[int]] = defaultdict(list)
        for pk, flight in Charge.objects.filter(organisation_id=org, invoice__isnull=True).values_list(
            "pk", "flight_id"
        ):
            self.charges[flight].append(pk)
        links = ContactLink.objects.filter(organisation_id=org, bexio_id__isnull=False)
        self.linked = dict(links.values_list("member_id", "bexio_id"))


def flight_form(rnd: random.Random, world: World, flight_id: int) -> dict:
    from aeroledger.flights.models import Flight

    flight = Flight.objects.get(pk=flight_id)
    pilot = flight.pilot_id if rnd.random() < 0.8 else rnd.choice(world.members)
    data = {
        "date": f"{flight.date:%Y-%m-%d}",
        "aircraft": world.aircraft,
        "pilot": pilot,
        "instructor": "",
        "block_minutes": str(rnd.randint(20, 120)),
        "remarks": "races: edited",
    }
    for aerodrome in world.aerodromes:
        data[f"landings_{aerodrome}"] = str(rnd.randint(0, 3))
    return data


def one(rnd, world: World, s: State, name: str, focus: dict) -> Op | None:
    """An operation `name` with targets: the focus's where it has one, else drawn from the state."""
    invoice = focus.get("invoice")
    flight = focus.get("flight")
    member = focus.get("member") or rnd.choice(world.members)
    match name:
        case "approve":
            target = invoice if invoice in s.drafts else (rnd.choice(s.drafts) if s.drafts else None)
            return Op(name, {"invoice": target}) if target else None
        case "cancel":
            pool = s.drafts + s.approved
            target = invoice if invoice in pool else (rnd.choice(s.approved or pool) if pool else None)
            return Op(name, {"invoice": target}) if target else None
        case "transfer" | "worker":
            return Op(name, {"shared": rnd.random() < 0.3})
        case "sign_off":
            target = flight if flight in s.unsigned else (rnd.choice(s.unsigned) if s.unsigned else None)
            return Op(name, {"flight": target}) if target else None
        case "flight_edit":
            target = flight if flight in s.unsigned else (rnd.choice(s.unsigned) if s.unsigned else None)
            return Op(name, {"flight": target, "data": flight_form(rnd, world, target)}) if target else None
        case "charge_edit":
            pool = s.charges.get(flight) or [c for cs in s.charges.values() for c in cs]
            if not pool:
                return None
            quantity = rnd.choice(["0", "1", "2.5", "45", "-1000"])  # never below zero: refused
            return Op(name, {"charge": rnd.choice(pool), "quantity": quantity, "unit_price": "3.5"})
        case "billing_run":
            return Op(name, {"approve": rnd.random() < 0.5})
        case "invoice_edit":
            target = invoice if invoice in s.drafts else (rnd.choice(s.drafts) if s.drafts else None)
            return (
                Op(name, {"invoice": target, "title": f"Flights, edited {rnd.randint(1, 99)}"})
                if target
                else None
            )
        case "remove_position":
            target = invoice if s.positions.get(invoice) else None
            target = target or (rnd.choice([i for i in s.positions]) if s.positions else None)
            return (
                Op(name, {"invoice": target, "position": rnd.choice(s.positions[target])}) if target else None
            )
        case "add_position":
            target = invoice if invoice in s.drafts else (rnd.choice(s.drafts) if s.drafts else None)
            price = rnd.choice(["15", "80.35", "-10"])  # a negative price is refused
            return Op(name, {"invoice": target, "quantity": "1", "unit_price": price}) if target else None
        case "credit_entry":
            kind = rnd.choice(["deposit", "deposit", "refund", "correction"])
            amount = rnd.choice(["50", "120.40", "400"])
            if kind == "correction" and rnd.random() < 0.5:
                amount = "-" + amount
            return Op(
                name, {"member": member, "kind": kind, "amount": amount, "as_desk": rnd.random() < 0.15}
            )
        case "top_up":
            return Op(name, {"member": member, "amount": rnd.choice(["100", "250"])})
        case "pay":
            target = invoice if invoice in s.payable else (rnd.choice(s.payable) if s.payable else None)
            return Op(name, {"invoice": target, "whole": rnd.random() < 0.7}) if target else None
        case "sync":
            return Op(name)
        case "link":
            if rnd.random() < 0.7:  # mostly a member with a contact to offer
                member = rnd.choice([int(m) for m in world.candidates] + list(s.linked))
            others = [c for m, c in s.linked.items() if m != member]
            offered = world.candidates.get(str(member), [])
            choices = [*offered, *offered, s.linked.get(member), world.own_contact, *others[:1]]
            contact = rnd.choice([c for c in choices if c])
            return Op(name, {"member": member, "contact": contact})
    raise ValueError(name)


# Scenarios: operations that meet on one invoice, one flight, one credit account, or in bexio.
SCENARIOS = {
    "invoice": (["approve", "cancel", "cancel", "transfer", "worker", "remove_position", "add_position",
                 "billing_run", "approve", "invoice_edit"], 4),
    "flight": (["flight_edit", "sign_off", "sign_off", "charge_edit", "billing_run", "flight_edit",
                "charge_edit"], 3),
    "credit": (["credit_entry", "credit_entry", "approve", "cancel", "billing_run", "pay", "sync",
                "top_up"], 3),
    "bexio": (["transfer", "worker", "cancel", "cancel", "approve", "pay", "sync", "link", "link"], 3),
    "mixed": (list(OPS), 2),
}  # fmt: skip


def plan(rnd: random.Random, world: World, processes: int) -> tuple[str, list[Op], set[int]]:
    """One interleaving: a scenario, an operation per process (none where nothing fits), the
    flights it aims at."""
    s = State(world)
    scenario = rnd.choices(list(SCENARIOS), weights=[v[1] for v in SCENARIOS.values()])[0]
    names = SCENARIOS[scenario][0]
    focus: dict = {}
    if s.drafts or s.approved:
        focus["invoice"] = rnd.choice(s.drafts + s.approved)
        focus["member"] = s.member_of[focus["invoice"]]
    if s.unsigned:
        focus["flight"] = rnd.choice(s.unsigned)
    if scenario == "bexio" and s.approved:
        focus["invoice"] = rnd.choice(s.approved)
    ops = []
    for _ in range(processes):
        for _attempt in range(5):
            op = one(rnd, world, s, rnd.choice(names), focus)
            if op is not None:
                op.delay = rnd.choice([0.0, 0.0, rnd.uniform(0, 0.04)])
                ops.append(op)
                break
    flights = {focus.get("flight")} | {op.args.get("flight") for op in ops}
    return scenario, ops, {f for f in flights if f}


def supply(rnd: random.Random, world: World) -> set[int]:
    """Keep something to race about: new flights, a signed one, a draft, an approved invoice (done
    here, one step at a time, not raced). Returns the flights made."""
    from django.contrib.auth import get_user_model

    from aeroledger.billing.models import Invoice, InvoiceStatus
    from aeroledger.billing.runs import billing_run
    from aeroledger.flights.models import Flight, Landing
    from aeroledger.tenancy.models import Organisation

    org = Organisation.objects.get(pk=world.org)
    boss = get_user_model().objects.get(pk=world.boss)
    made = set()
    for _ in range(rnd.choice([1, 1, 2])):
        flight = Flight.objects.create(
            organisation=org,
            date=date.fromisoformat(world.day),
            aircraft_id=world.aircraft,
            pilot_id=rnd.choice(world.members),
            block_minutes=rnd.randint(20, 120),
        )
        for aerodrome in world.aerodromes:
            if rnd.random() < 0.6:
                Landing.objects.create(flight=flight, aerodrome_id=aerodrome, count=rnd.randint(1, 3))
        flight.rebuild_charges()
        made.add(flight.pk)
    unsigned = list(Flight.objects.filter(organisation=org, signed_off_at__isnull=True).order_by("pk"))
    if len(unsigned) > 4:
        rnd.choice(unsigned[:-1]).sign_off(boss)
    invoices = Invoice.objects.filter(organisation=org)
    if not invoices.filter(status=InvoiceStatus.DRAFT).exists() and rnd.random() < 0.8:
        for flight in Flight.objects.filter(organisation=org, signed_off_at__isnull=True).exclude(
            pk__in=made
        )[:2]:
            flight.sign_off(boss)
        billing_run(org, world.period, user=boss)
    if not invoices.filter(status=InvoiceStatus.APPROVED).exists() and rnd.random() < 0.5:
        draft = invoices.filter(status=InvoiceStatus.DRAFT).order_by("?").first()
        if draft is not None:
            draft.approve(boss)
    return made


def pick_faults(rnd: random.Random) -> list[dict]:
    """bexio loses an answer after storing the write, holds a write, or fails it (sometimes)."""
    roll = rnd.random()
    path = rnd.choice([KB_INVOICE, KB_INVOICE, MANUAL_ENTRY])
    if roll < 0.45:
        return []
    if roll < 0.7:
        return [{"method": "POST", "path": path, "when": "after_commit", "effect": "drop", "times": 1}]
    if roll < 0.9:
        delay = rnd.choice([150, 400, 900])
        return [{"method": "POST", "path": path, "when": "before", "effect": f"delay:{delay}", "times": 2}]
    return [{"method": "POST", "path": path, "when": "before", "effect": "status:500", "times": 1}]


def drain(world: World, bx) -> dict:
    """Every waiting write delivered (no faults, no back-off) before the invariants are read."""
    from aeroledger.bexio_link.transfer.models import ItemStatus, OutboxItem
    from aeroledger.bexio_link.transfer.outbox import outcome
    from aeroledger.bexio_link.transfer.outbox.worker import run_outbox

    OutboxItem.objects.filter(organisation_id=world.org, status=ItemStatus.PENDING).update(next_try_at=None)
    saved, outcome.backoff = outcome.backoff, (lambda attempts: timedelta(0))
    try:
        return run_outbox(
            org_ids=[world.org],
            client_factory=lambda _org: bx,
            concurrency=4,
            exclusive_orgs=False,
            wait_for_retries_s=5,
            max_seconds=120,
        )
    finally:
        outcome.backoff = saved


def contact_snapshot(bx, contact_id: int) -> dict:
    contact = bx.contacts.get(contact_id)
    return {k: getattr(contact, k, None) for k in ("name_1", "name_2", "nr", "mail", "city", "postcode")}


def bexio_violations(world: World, bx, own_before: dict, *, drained: bool = True) -> list[str]:
    """What must hold between bexio and here; `drained`: the outbox has just been worked through
    (else a write may be in bexio while its item waits to look it up: that is not checked)."""
    from aeroledger.bexio_link.masterdata.models import ContactLink
    from aeroledger.bexio_link.transfer.bookings.sender import booked_amount
    from aeroledger.bexio_link.transfer.models import ItemKind, ItemStatus, OutboxItem
    from aeroledger.billing.models import CreditEntry, Invoice, InvoiceStatus

    found = []
    local = {str(i.uuid): i for i in Invoice.objects.filter(organisation_id=world.org)}
    by_uuid: dict[str, list] = defaultdict(list)
    for inv in bx.invoices.iter():
        by_uuid[str(inv.api_reference or "")].append(inv)
    for ref, ours in by_uuid.items():
        ids = [b.id for b in ours]
        inv = local.get(ref)
        if inv is None:
            found.append(f"bexio invoices {ids} match no invoice here (api_reference {ref!r})")
            continue
        if len(ours) > 1:
            found.append(f"invoice {inv.number} is {len(ours)} times in bexio: {ids}")
        if inv.status == InvoiceStatus.CANCELLED:
            found.append(f"invoice {inv.number} is cancelled here, yet in bexio ({ids})")
        for b in ours:
            total = Decimal(str(b.total or 0))
            if total == 0:
                found.append(f"bexio invoice {b.id} ({inv.number}) is of CHF 0.00")
            elif total != inv.amount_due:
                found.append(
                    f"bexio invoice {b.id} is of {total}, invoice {inv.number} has {inv.amount_due} due"
                )
    items = list(OutboxItem.objects.filter(organisation_id=world.org).select_related("invoice"))
    for item in items:
        if drained and item.status in (ItemStatus.PENDING, ItemStatus.SENDING):
            found.append(f"outbox item {item.kind} {item.key} still {item.status} after the drain")
        if item.kind == ItemKind.INVOICE and item.status == ItemStatus.DONE:
            ids = [b.id for b in by_uuid.get(str(item.invoice.uuid), [])]
            if item.bexio_id not in ids:
                found.append(f"invoice {item.invoice.number} is done here, bexio has {ids}")
    for inv in local.values():
        transferred = inv.status in (InvoiceStatus.TRANSFERRED, InvoiceStatus.OPEN,
                                     InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)  # fmt: skip
        if transferred and inv.amount_due > 0 and not by_uuid.get(str(inv.uuid)):
            found.append(f"invoice {inv.number} is {inv.status} here but not in bexio")
    bookings = {i.key: i for i in items if i.kind == ItemKind.MANUAL_ENTRY}
    entries = CreditEntry.objects.in_bulk([i.credit_entry_id for i in bookings.values() if i.credit_entry_id])
    by_ref: dict[str, list] = defaultdict(list)
    for entry in bx.manual_entries.iter():
        by_ref[str(entry.reference_nr or "")].append(entry)
    for ref, ours in by_ref.items():
        item = bookings.get(ref)
        ids = [e.id for e in ours]
        if item is None:
            found.append(f"manual entries {ids} ({ref!r}) match no outbox item")
            continue
        if len(ours) > 1:
            found.append(f"booking {ref} is {len(ours)} times in bexio: {ids}")
        waiting = item.status in (ItemStatus.PENDING, ItemStatus.SENDING) and item.maybe_in_bexio
        if (item.status != ItemStatus.DONE or item.bexio_id not in ids) and (drained or not waiting):
            found.append(f"booking {ref} is in bexio ({ids}), its item is {item.status} ({item.bexio_id})")
        amount = booked_amount(ours[0])
        if amount == 0:
            found.append(f"booking {ref} in bexio is of CHF 0.00")
        if item.invoice_id is not None:
            if amount != item.invoice.credit_applied:
                found.append(
                    f"booking {ref} is of {amount}, "
                    f"invoice {item.invoice.number} used {item.invoice.credit_applied}"
                )  # noqa: E501
        elif item.credit_entry_id in entries and amount != abs(entries[item.credit_entry_id].amount):
            found.append(
                f"booking {ref} is of {amount}, its credit entry of {entries[item.credit_entry_id].amount}"
            )
    for ref, item in bookings.items():
        if item.status == ItemStatus.DONE and ref not in by_ref:
            found.append(f"booking {ref} is done here, not in bexio")
        # A use of credit in bexio whose invoice was cancelled is reversed there, once, in full.
        if ref in by_ref and item.invoice_id is not None and item.invoice.status == InvoiceStatus.CANCELLED:
            back = [
                b
                for b in bookings.values()
                if b.credit_entry_id and entries[b.credit_entry_id].invoice_id == item.invoice_id
            ]
            if len(back) != 1:
                found.append(
                    f"the credit invoice {item.invoice.number} used is booked and the invoice cancelled: "
                    f"reversed {len(back)} times"
                )
            elif drained and len(by_ref.get(back[0].key, [])) != 1:
                found.append(
                    f"the reversal {back[0].key} of a cancelled invoice's credit use is not in bexio once"
                )
    if contact_snapshot(bx, world.own_contact) != own_before:
        found.append(f"the company's own bexio contact {world.own_contact} was overwritten")
    links = Counter(
        ContactLink.objects.filter(organisation_id=world.org, bexio_id__isnull=False).values_list(
            "bexio_id", flat=True
        )
    )
    found += [f"bexio contact {c} is linked to {n} members" for c, n in links.items() if n > 1]
    if world.own_contact in links:
        found.append(f"a member is linked to the company's own contact {world.own_contact}")
    return found


@dataclass
class Figures:
    seed: int
    processes: int
    interleavings: int = 0
    operations: int = 0
    setup_flights: int = 0
    faults: int = 0
    drains: int = 0
    seconds: float = 0.0
    outcomes: dict = field(default_factory=lambda: defaultdict(Counter))
    scenarios: Counter = field(default_factory=Counter)
    violations: list = field(default_factory=list)  # (interleaving, sentence)
    errors: list = field(default_factory=list)  # (interleaving, op, message)

    def report(self) -> str:
        lines = [
            f"seed: {self.seed}",
            f"processes: {self.processes}",
            f"interleavings: {self.interleavings} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.scenarios.items()))})",
            f"operations: {self.operations} (+ {self.setup_flights} flights made between interleavings)",
            f"faults injected: {self.faults}",
            f"drained before the check: {self.drains} of {self.interleavings}",
        ]  # fmt: skip
        for name in sorted(self.outcomes):
            tally = ", ".join(f"{k} {v}" for k, v in self.outcomes[name].most_common())
            lines.append(f"  {name:<16} {sum(self.outcomes[name].values()):>5}  ({tally})")
        lines += [
            f"violations: {len(self.violations)}",
            *(f"  #{i}: {v}" for i, v in self.violations[:30]),
            f"errors: {len(self.errors)}",
            *(f"  #{i} {op}: {msg}" for i, op, msg in self.errors[:30]),
            f"seconds: {self.seconds:.1f}",
        ]
        return "\n".join(lines)


def run_suite(sb, *, interleavings: int, seed: int, processes: int, database_url: str, log_path: str,
              shared_contact: bool = True, on_step=None, verbose=False) -> Figures:  # fmt: skip
    """Build the world on the (migrated, committed) database, then run `interleavings` rounds.

    After most rounds the outbox is drained first; after the others, writes that wait for their
    back-off (a lost answer) stay waiting into the next round, where a cancel may meet them."""
    from django.db import connection

    from aeroledger.billing.tests.invariants import club_violations
    from aeroledger.flights.models import Flight

    started = time.monotonic()
    figures = Figures(seed=seed, processes=processes)
    world = build_world(sb, seed=seed, shared_contact=shared_contact)
    bx = bexio_client(world, timeout=10)
    own_before = contact_snapshot(bx, world.own_contact)
    env = {
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "aeroledger.settings",
        "LOG_LEVEL": "ERROR",
        "DB_CONN_MAX_AGE": "0",
    }
    connection.close()
    pool = Pool(processes, world, env, log_path)
    signed: set[int] = set()
    seen: set[str] = set()
    try:
        for index in range(interleavings):
            rnd = random.Random(f"{seed}/{index}")
            made = supply(rnd, world)
            figures.setup_flights += len(made)
            scenario, ops, flights = plan(rnd, world, processes)
            figures.scenarios[scenario] += 1
            faults = pick_faults(rnd)
            for fault in faults:
                sb.fault(**fault)
            figures.faults += len(faults)
            connection.close()
            answers = pool.run(ops)
            sb.clear_faults()
            for op, answer in zip(ops, answers, strict=True):
                figures.operations += 1
                word = answer["outcome"] if answer["ok"] else "ERROR"
                figures.outcomes[op.name][word] += 1
                if verbose:
                    print(f"#{index} {op.name} {op.args} -> {word} {answer.get('detail', '')}")
                if not answer["ok"]:
                    figures.errors.append((index, f"{op.name}({op.args})", answer["outcome"]))
                    with open(log_path, "a") as log:
                        log.write(f"#{index} {op.name} {op.args}\n{answer.get('trace', '')}\n")
                if op.name == "sign_off" and word == "ok":
                    signed.add(op.args["flight"])
            drained = rnd.random() < DRAIN_SHARE or index == interleavings - 1
            if drained:
                drain(world, bx)
                figures.drains += 1
            problems = club_violations(world.org, signed=signed, flights=flights | made)
            problems += bexio_violations(world, bx, own_before, drained=drained)
            figures.violations += [(index, p) for p in problems if p not in seen]  # each once
            seen.update(problems)
            signed |= set(
                Flight.objects.filter(organisation_id=world.org, signed_off_at__isnull=False).values_list(
                    "pk", flat=True
                )
            )
            figures.interleavings += 1
            if on_step is not None:
                on_step(index, scenario, ops, answers, problems)
    finally:
        pool.close()
        bx.close()
        figures.seconds = time.monotonic() - started
    return figures


# --- the figures in bench/run_all.py's table --------------------------------------------------------
def table_rows(out: str) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, target, verdict) rows from the printed report (for bench/run_all.py)."""
    import re

    def num(pattern):
        m = re.search(pattern, out, re.M)
        return int(m.group(1)) if m else None

    n, ops, v, e = (num(rf"^{k}: (\d+)") for k in ("interleavings", "operations", "violations", "errors"))
    processes, seed = num(r"^processes: (\d+)"), num(r"^seed: (\d+)")
    ok = None if v is None or e is None or n is None else (v == 0 and e == 0 and n >= 200)
    return [
        (
            f"races: {n} interleavings x {processes} processes (seed {seed})",
            f"{ops} operations, {v} violations, {e} errors" if ops is not None else "?",
            ">= 200 interleavings, 0 violations, 0 errors",
            "n/a" if ok is None else ("OK" if ok else "MISSED"),
        )
    ]


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    child_main()
