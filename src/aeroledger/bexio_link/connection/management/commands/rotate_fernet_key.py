import argparse

from django.core.management.base import BaseCommand
from django.db import transaction

from aeroledger.bexio_link.connection import crypto
from aeroledger.bexio_link.connection.models import BexioConnection, PendingAuthorisation


class Command(BaseCommand):
    help = """Re-encrypt every stored bexio token with the newest key of AEROLEDGER_FERNET_KEYS.

To rotate the key:
  1. Make a new key:
       .venv/bin/python -c "from cryptography.fernet import Fernet as F; print(F.generate_key().decode())"
  2. Put it FIRST in AEROLEDGER_FERNET_KEYS, keeping the old ones after it
     (AEROLEDGER_FERNET_KEYS=<new>,<old>; in the local demo edit var/fernet_keys the same way),
     and restart the web app and the workers.
  3. Run `aeroledger rotate_fernet_key`.
  4. Remove the old key from AEROLEDGER_FERNET_KEYS and restart again.
"""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the steps' lines
        return parser

    def handle(self, *args, **options):
        rows = 0
        with transaction.atomic():
            for conn in BexioConnection.objects.select_for_update().all():
                changed = []
                for field in ("access_token_enc", "refresh_token_enc"):
                    value = getattr(conn, field)
                    if value:
                        setattr(conn, field, crypto.rotate(value))
                        changed.append(field)
                if changed:
                    conn.save(update_fields=changed)
                    rows += 1
            for pending in PendingAuthorisation.objects.filter(used_at__isnull=True):
                pending.code_verifier_enc = crypto.rotate(pending.code_verifier_enc)
                pending.save(update_fields=["code_verifier_enc"])
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted the tokens of {rows} bexio connection(s) with the newest key.")
        )
