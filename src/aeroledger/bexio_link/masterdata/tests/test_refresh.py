"""Refresh from bexio, over HTTP against the sandbox."""

import pytest

from ..mapping import mapping_for
from ..master import MasterData
from ..models import BexioRecord, ChargeMapping, Kind, MasterDataRefresh
from ..refresh import refresh_master_data
from .conftest import ALL_SCOPES, NO_ACCOUNTING, Log, make_client

pytestmark = pytest.mark.django_db


def snapshot(org):
    return sorted(
        BexioRecord.objects.filter(organisation=org).values_list(
            "kind", "bexio_id", "name", "data", "is_active", "changed_at"
        )
    )


def test_import_every_kind(org, bx):
    run = refresh_master_data(org, bx)
    assert run.ok and run.finished_at
    master = MasterData(org)
    for kind in (
        Kind.ARTICLE,
        Kind.TAX,
        Kind.ACCOUNT,
        Kind.BANK_ACCOUNT,
        Kind.UNIT,
        Kind.CURRENCY,
        Kind.LANGUAGE,
        Kind.COUNTRY,
        Kind.PAYMENT_TYPE,
        Kind.USER,
        Kind.COMPANY,
        Kind.CONTACT_GROUP,
    ):
        assert master.all(kind), kind
    # only active sales taxes
    assert all(t.data["type"] == "sales_tax" and t.data["is_active"] for t in master.all(Kind.TAX))
    assert master.country_id("CH") and master.language_id("de") and master.currency_id("CHF")


def test_second_import_changes_nothing(org, bx, sb):
    first = refresh_master_data(org, bx)
    assert first.changes > 0
    before = snapshot(org)
    log = Log(sb)
    second = refresh_master_data(org, bx)
    assert second.changes == 0, second.summary
    assert snapshot(org) == before
    assert log.writes() == []  # the refresh only reads


def test_gone_record_is_inactive_and_mapping_broken(org, sb):
    bx = make_client(sb, [*ALL_SCOPES, "article_edit"])
    refresh_master_data(org, bx)
    article = MasterData(org).all(Kind.ARTICLE)[0]
    ChargeMapping.objects.create(organisation=org, charge_type="manual", article=article)
    bx.request("DELETE", f"/2.0/article/{article.bexio_id}")
    run = refresh_master_data(org, bx)
    assert run.summary[Kind.ARTICLE]["deactivated"] == 1
    article.refresh_from_db()
    assert not article.is_active  # kept, not dropped
    mapping = mapping_for(org)
    problems = mapping.position_problems("manual")
    assert problems and "inactive" in problems[0]
    assert mapping.target_for("manual") is None


def test_without_accounting_scope_accounts_come_from_articles(org, sb):
    with make_client(sb, NO_ACCOUNTING) as bx:
        run = refresh_master_data(org, bx)
    assert run.ok
    assert run.summary[Kind.ACCOUNT].get("from_articles")
    carried = {a.data.get("account_id") for a in MasterData(org).all(Kind.ARTICLE)} - {None}
    assert {r.bexio_id for r in MasterData(org).all(Kind.ACCOUNT)} == carried


def test_failed_refresh_is_recorded(org, sb):
    from bexio import BexioClient, StaticToken

    with BexioClient(base_url=sb.url, token_provider=StaticToken("not-a-token"), max_retries=0) as bx:
        with pytest.raises(Exception):
            refresh_master_data(org, bx)
    run = MasterDataRefresh.objects.get(organisation=org)
    assert not run.ok and run.error and "not-a-token" not in run.error
