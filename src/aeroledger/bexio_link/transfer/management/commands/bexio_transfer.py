"""`aeroledger bexio_transfer --org SLUG [--dry-run] [--invoice N ...]`: transfer approved invoices now."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from aeroledger.bexio_link.masterdata.mapping import mapping_for
from aeroledger.bexio_link.transfer.invoices.plan import plan_invoice
from aeroledger.bexio_link.transfer.start import transfer_invoices
from aeroledger.billing.models import Invoice, InvoiceStatus
from aeroledger.tenancy.models import Organisation
from aeroledger.tenancy.templatetags.money import chf


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


class Command(BaseCommand):
    help = (
        "Transfer approved invoices to bexio (exactly once; resumable). --dry-run shows what would be sent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organisation short name (slug)")
        parser.add_argument("--invoice", nargs="+", default=None, help="invoice numbers (or ids) to transfer")
        parser.add_argument("--dry-run", action="store_true", help="show what would be sent; write nothing")
        parser.add_argument("--concurrency", type=int, default=None, help="invoices in flight at once")

    def handle(self, *args, **opts):
        try:
            org = Organisation.objects.get(slug=opts["org"])
        except Organisation.DoesNotExist:
            raise CommandError(f"no organisation {opts['org']!r}") from None
        invoices = (
            Invoice.objects.filter(organisation=org).select_related("member").order_by("date", "number")
        )
        ids = None
        if opts["invoice"]:
            wanted = opts["invoice"]
            numeric = [int(w) for w in wanted if w.isdigit()]
            chosen = invoices.filter(number__in=wanted) | invoices.filter(pk__in=numeric)
            ids = sorted(set(chosen.values_list("pk", flat=True)))
            if not ids:
                raise CommandError("none of these invoices exists")
            invoices = invoices.filter(pk__in=ids)
        else:
            invoices = invoices.filter(status=InvoiceStatus.APPROVED)
        if opts["dry_run"]:
            return self.dry_run(org, invoices)
        total = invoices.count() if ids is None else len(ids)
        seen = {"n": 0}
        interactive = sys.stdout.isatty()

        def on_progress(stats):
            done = sum(stats.get(k, 0) for k in ("created", "adopted", "done", "failed"))
            if done != seen["n"]:
                seen["n"] = done
                line = progress_bar(min(done, total), total) + f"  failed: {stats.get('failed', 0)}"
                if interactive:
                    self.stdout.write("\r" + line, ending="")
                    self.stdout.flush()
                elif done == total or done % max(1, total // 20) == 0:
                    self.stdout.write(line)

        started = time.monotonic()
        stats = transfer_invoices(org, ids, concurrency=opts["concurrency"], on_progress=on_progress)
        if interactive:
            self.stdout.write("")
        seconds = time.monotonic() - started
        self.stdout.write(
            f"created {stats.get('created', 0)}, adopted {stats.get('adopted', 0)}, "
            f"failed {stats.get('failed', 0)}, retries {stats.get('retry', 0)} in {seconds:.1f} s"
        )
        if stats.get("paused"):
            self.stderr.write("paused: the bexio connection needs a reconnect (nothing is lost)")
        if stats.get("next_try_in_s"):
            self.stdout.write(
                f"some invoices wait for a retry in {stats['next_try_in_s']} s (a worker resumes them)"
            )

    def dry_run(self, org, invoices):
        mapping = mapping_for(org)
        blocked = n = 0
        for inv in invoices:
            n += 1
            plan = plan_invoice(inv, mapping=mapping)
            contact = (
                f"bexio contact {plan.contact_id}" if plan.contact_id else "contact created or matched first"
            )
            self.stdout.write(f"\n{inv.number}  {plan.contact_label}  ({contact})")
            self.stdout.write(
                f"  {plan.title!r}, {plan.valid_from:%d.%m.%Y} - {plan.valid_to:%d.%m.%Y}"
                f"{', issued' if plan.issue else ''}{', sent by e-mail' if plan.send else ''}"
            )
            if inv.credit_applied:
                self.stdout.write(f"  paid from credit: {chf(inv.credit_applied)} (booked in bexio's ledger)")
            for p in plan.positions:
                vat = f", VAT {p.vat_label}" if p.vat_label else ""
                amounts = f"{p.quantity.normalize():f} x {chf(p.unit_price)} = {chf(p.total)}"
                self.stdout.write(f"  {p.text[:50]:<50} -> {p.target_label}{vat}  {amounts}")
            self.stdout.write(f"  invoice in bexio: {chf(plan.expected_total)}")
            if plan.blockers:
                blocked += 1
                for b in plan.blockers:
                    self.stdout.write(f"  BLOCKED: {b}")
        self.stdout.write(f"\n{n} invoices, {blocked} blocked. Dry run: nothing was sent or saved.")
