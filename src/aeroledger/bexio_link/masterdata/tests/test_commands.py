"""The two commands, against the sandbox (the bexio client injected with `use_client`)."""

from io import StringIO

import pytest
from django.core.management import call_command

from .conftest import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def patched(use_client, bx):
    return use_client(bx)


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_refresh_command(org, patched):
    first = run("bexio_refresh_master_data", "--org", org.slug)
    assert "article" in first and "created" in first
    second = run("bexio_refresh_master_data", "--org", org.slug, "--demo-mapping")
    assert "changes: 0" in second and "demo mapping: settings: bank_account, user" in second


def test_sync_command(org, patched, ready):
    member(org, 1)
    member(org, 2)
    dry = run("bexio_sync_contacts", "--org", org.slug, "--dry-run")
    assert "would be created: 2" in dry
    out = run("bexio_sync_contacts", "--org", org.slug)
    assert "created: 2" in out and "to be chosen by hand: 0" in out
    assert "unchanged: 2" in run("bexio_sync_contacts", "--org", org.slug)
