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
    assert "aircraft_time HB-KFA" in done and "landing_fee LSZR" in done
    assert validate_invoice(invoice) == []
    target = mapping_for(org).target_for("aircraft_time", invoice.positions.get(pos=1).aircraft_id)
    assert target.article_id == 1  # FLZ-HBKFA in the sandbox seed
    assert configure_demo_mapping(org) == []  # fills only what is empty
