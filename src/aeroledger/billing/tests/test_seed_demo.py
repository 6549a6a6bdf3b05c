import pytest
from django.core.management import CommandError, call_command

from aeroledger.billing.models import CreditEntry, Invoice
from aeroledger.flights.models import Flight
from aeroledger.members.models import Member
from aeroledger.tenancy.models import Membership, Organisation

pytestmark = pytest.mark.django_db


def counts():
    return tuple(model.objects.count() for model in (Member, Flight, CreditEntry, Invoice))


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    org = Organisation.objects.get(slug="demo")
    assert org.bexio_option
    assert 38 <= first[0] <= 45 and 280 <= first[1] <= 320
    assert Member.objects.filter(invoice_to__isnull=False).exists()
    assert set(Member.objects.values_list("language", flat=True)) == {"de", "fr", "it", "en"}
    assert not Flight.objects.filter(signed_off_at__isnull=True).exists()
    admin = Membership.objects.get(user__username="admin", organisation=org)
    viewer = Membership.objects.get(user__username="viewer", organisation=org)
    assert admin.manage_settings and admin.manage_invoicing and admin.manage_members
    assert admin.user.is_superuser and admin.user.profile.language == "en"
    assert viewer.is_read_only and viewer.user.profile.language == "de"
    assert "admin / aeroledger" in capsys.readouterr().out


def test_with_bexio_connection_fails_clearly_without_an_integration(monkeypatch):
    from aeroledger.tenancy import hooks

    monkeypatch.setattr(hooks, "_slots", hooks.defaultdict(list))  # no integration installed
    with pytest.raises(CommandError, match="no accounting integration"):
        call_command("seed_demo", "--with-bexio-connection")
