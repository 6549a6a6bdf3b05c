"""The demo mapping fills a working mapping from the sandbox's seeded articles."""

import pytest

from ..demo import configure_demo_mapping
from ..mapping import mapping_for
from ..refresh import refresh_master_data
from ..validation import validate_invoice

pytestmark = pytest.mark.django_db


def test_demo_mapping_makes_the_invoice_valid(org, bx, invoice):
    refresh_master_data(org, bx)
    done = configure_demo_mapping(org)
    assert "settings: bank_account, user, credit_account, corrections_account" in done
    assert "instruction" in done and "top_up" in done and "aircraft_time default" in done
    assert validate_invoice(invoice) == []
    mapping = mapping_for(org)
    assert mapping.account_name(mapping.credit_account_id).startswith("2030")
    assert mapping.ledger_problems() == []
    assert mapping.top_ups_need_rebooking  # top-ups go to the 3090 clearing account
    assert configure_demo_mapping(org) == []  # fills only what is empty
