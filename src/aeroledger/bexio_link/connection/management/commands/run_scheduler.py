from django.core.management.base import BaseCommand

from aeroledger.bexio_link.connection import scheduler
from aeroledger.bexio_link.connection.schedule import SCHEDULE


class Command(BaseCommand):
    help = (
        "Enqueue the periodic tasks the apps registered (connection.schedule) when due (runs until stopped). "
        "Several schedulers may run: each run is claimed in the database once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=30, help="seconds between rounds (default 30)")
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args, interval, once, **options):
        for job in SCHEDULE:
            self.stdout.write(f"scheduled: {job.name} every {job.every} -> {job.task.module_path}")
        scheduler.loop(interval_s=interval, once=once)
