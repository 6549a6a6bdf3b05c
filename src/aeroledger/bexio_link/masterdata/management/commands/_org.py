from django.core.management.base import CommandError

from aeroledger.tenancy.models import Organisation


def organisation(slug: str) -> Organisation:
    try:
        return Organisation.objects.get(slug=slug)
    except Organisation.DoesNotExist:
        raise CommandError(f"No organisation with the short name {slug!r}.") from None
