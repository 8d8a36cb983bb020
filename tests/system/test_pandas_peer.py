"""The pandas peer (bench/pandas_peer.py): an independent oracle for marts.customer_value.

First the peer itself against values worked out by hand, then the peer against the marts that
`cvm load` publishes from a generated sample with every row-level fault.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from bench import pandas_peer as peer
from tests.e2e_fixtures import D1, D2, D3, write_delivery
from tests.system.test_end_to_end import EXPECTED

CVM = str(Path(sys.executable).with_name("cvm"))


def test_decimal_text_to_exact_units():
    """1/10,000 EUR; a fifth decimal rounds half away from zero (DECIMAL(18, 4))."""
    text = pd.Series(["1234.56", "-0.5", "0.12345", "-0.12344", "0007", "12x.50", "",
                      "123456789012345", "12345678901234.5"])
    units = peer.to_units(text.where(text != ""), decimal_comma=False)
    assert units.tolist()[:5] == [12_345_600, -5_000, 1_235, -1_234, 70_000]
    # no number, empty, 15 whole digits: no value; 14 whole digits still fit
    assert units.isna().tolist() == [False] * 5 + [True, True, True, False]
    german = peer.to_units(pd.Series(["1.234,56", "1234,5", "12.34,5", "-0,05"]), True)
    assert german.tolist()[:2] == [12_345_600, 12_345_000]
    assert pd.isna(german[2])  # thousands separators must group by three
    assert german[3] == -500


def test_standard_cost_rounds_half_cents_away_from_zero():
    """Rates from the seeds. REPAIR-2026: 109.85/h + 53.73 per event.
    90 min: 1.5 * 109.85 + 53.73 = 218.505 -> 218.51 (the half cent goes up), free.
    20 min HOTLINE-2026 (85.97/h): 20/60 * 85.97 = 28.6566... -> 28.66, billed 30 -> billed, 0.
    240 min TRAINING-2026, 3 participants: 4 * 113.43 + 179.11 + 3 * 53.73 = 794.02,
    billed 200 -> discounted, 594.02.
    A FIELD_SERVICE call in 2024 has no rate (priced from 2025): no value transfer."""
    rules = peer.load_rules()
    activities = pd.DataFrame({
        "activity_id": ["a", "b", "c", "d"],
        "customer_id": ["K1"] * 4,
        "service_type_code": ["REPAIR", "HOTLINE", "TRAINING", "FIELD_SERVICE"],
        "activity_date": pd.to_datetime(["2026-04-02", "2026-10-02", "2026-05-05",
                                         "2024-06-01"]),
        "duration_minutes": pd.array([900_000, 200_000, 2_400_000, 600_000], dtype="Int64"),
        "participants": pd.array([None, None, 3, None], dtype="Int64"),
        "billed_amount_eur": pd.array([0, 300_000, 2_000_000, None], dtype="Int64"),
        "status": ["done", None, "done", "done"],
        "updated_at": pd.NaT,
    })
    costed = peer.costed_activities(activities, rules).set_index("duration_minutes")
    transfer = costed["value_transfer_eur"]
    assert transfer[900_000] == 2_185_100  # 218.51
    assert transfer[200_000] == 0
    assert transfer[2_400_000] == 5_940_200  # 594.02
    assert pd.isna(transfer[600_000])


def test_peer_on_the_hand_worked_deliveries(tmp_path):
    """The three deliveries of the end-to-end test (a German cp1252 one with a correction, a
    cancellation and a bad number; customer C5's rows held until the third brings C5): the
    peer gives the values worked out by hand there (EXPECTED), and the thresholds
    2025: classic 30,000, value transfer 41.74; 2026: 15,000 and 644.81."""
    for folder in (D1, D2, D3):
        write_delivery(tmp_path, folder)
    result = peer.customer_value(tmp_path)
    got = {}
    for r in result.itertuples(index=False):
        assert r.period_end == date(r.period_start.year, 12, 31)
        got[(r.customer_id, r.period_start.year)] = (
            r.revenue_eur, r.contribution_margin_eur, r.abc_class, r.is_new_customer,
            r.potential_value_eur, r.classic_value_eur, r.value_transfer_eur,
            r.service_minutes, r.service_activities, r.segment,
            r.classic_threshold, r.value_transfer_threshold)
    thresholds = {2025: (Decimal(30000), Decimal("41.74")),
                  2026: (Decimal(15000), Decimal("644.81"))}
    want = {
        key: (Decimal(e.revenue), Decimal(e.margin), e.abc, e.is_new, Decimal(e.potential),
              Decimal(e.classic_value), Decimal(e.value_transfer), Decimal(e.minutes),
              e.activities, e.segment, *thresholds[key[1]])
        for key, e in EXPECTED.items()
    }
    assert got == want


def _period_rows(period_months: int) -> pd.DataFrame:
    """Three customers in the period from 2026-01-01, no service: N1 new (since 2026-03-01)
    with revenue 10 and no potential from sales, N2 new with revenue 50 and a potential of 0,
    O1 an old customer with revenue 100 and a potential of 1,000 (EUR; 1/10,000 units)."""
    end = pd.Timestamp("2026-01-01") + pd.DateOffset(months=period_months) - pd.Timedelta(days=1)
    return pd.DataFrame({
        "customer_id": ["N1", "N2", "O1"],
        "period_start": pd.Timestamp("2026-01-01"), "period_end": end,
        "revenue_eur": [100_000, 500_000, 1_000_000],
        "contribution_margin_eur": [100_000, 500_000, 1_000_000],
        "value_transfer_eur": 0, "service_minutes": 0, "service_activities": 0,
        "customer_since": pd.to_datetime(["2026-03-01", "2026-02-01", "2020-01-01"]),
        "annual_potential_eur": [None, 0, 10_000_000],
    })


def test_the_purchase_models_potential_moves_the_median():
    """Where sales gave no potential (none or 0), the purchase model's forecast of the year
    (times months / 12) is the potential, and lifts a newcomer's classic value; the period's
    median is taken over the lifted values. A year: N1's forecast 500 lifts it from 10 to 500;
    N2 has no forecast and keeps 50; O1's forecast is not used (sales gave 1,000: 250).
    Classic median of (50, 100, 500) = 100 (without the forecast: (10, 50, 100) -> 50);
    N1 500 > 100 is high (develop), O1 100 is not above 100 (opportunistic)."""
    rules = peer.load_rules()
    forecast = {"N1": 5_000_000, "O1": 99_990_000}
    result = peer._classify(_period_rows(12), rules, forecast).set_index("customer_id")
    assert result["potential_value_eur"].tolist() == [Decimal(500), None, Decimal(250)]
    assert result["classic_value_eur"].tolist() == [Decimal(500), Decimal(50), Decimal(100)]
    assert set(result["classic_threshold"]) == {Decimal(100)}
    assert result["segment"].tolist() == ["develop", "opportunistic", "opportunistic"]
    # a quarter: 100.0002 * 3 / 12 = 25.00005 -> 25.0001 (half away from zero), above N1's
    # revenue of 10; median of (25.0001, 50, 100) = 50
    quarter = replace(rules, period_months=3)
    result = peer._classify(_period_rows(3), quarter, {"N1": 1_000_002}).set_index("customer_id")
    assert result.loc["N1", "classic_value_eur"] == Decimal("25.0001")
    assert set(result["classic_threshold"]) == {Decimal(50)}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """60 customers, 2 years, every row-level fault, three nightly deltas (corrections,
    cancellations, held rows released), loaded by `cvm load`."""
    root = tmp_path_factory.mktemp("peer")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    subprocess.run([CVM, "generate-sample", "--out", str(landing), "--customers", "60",
                    "--years", "2", "--with-errors"], check=True, capture_output=True)
    env = {**os.environ, "CVM_LANDING_DIR": str(landing), "CVM_WAREHOUSE": str(warehouse),
           "DAGSTER_HOME": str(root / "dagster_home")}
    load = subprocess.run([CVM, "load"], env=env, capture_output=True, text=True)
    assert load.returncode == 0, load.stdout + load.stderr
    return landing, warehouse


@pytest.mark.slow
def test_peer_agrees_with_the_marts_row_by_row(published):
    landing, warehouse = published
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (rows,) = con.execute("select count(*) from marts.customer_value").fetchone()
        (rejected,) = con.execute("select count(*) from audit.rejected_rows").fetchone()
    finally:
        con.close()
    assert rejected > 0  # the sample exercises the row rules the peer must honour too
    rules = peer.load_rules()
    forecast = peer.read_forecast(warehouse, rules)
    assert forecast  # the load's fit: the potential where sales gave none
    comparison = peer.compare(peer.customer_value(landing, rules, forecast), warehouse)
    assert comparison.differences == []
    assert comparison.rows_compared == rows > 0


@pytest.mark.slow
def test_the_check_reports_every_difference(published, tmp_path):
    """A mart with one revenue off by a cent and one row missing: two differences, named."""
    landing, warehouse = published
    altered = tmp_path / "altered.duckdb"
    shutil.copyfile(warehouse, altered)
    con = duckdb.connect(str(altered))
    try:
        # the published mart is a view over immutable files: alter a table copy of it
        con.execute("create table marts.customer_value_copy as select * from marts.customer_value")
        con.execute("drop view marts.customer_value")
        con.execute("alter table marts.customer_value_copy rename to customer_value")
        first, second = con.execute(
            "select customer_id, period_start from marts.customer_value "
            "order by customer_id, period_start limit 2").fetchall()
        con.execute("update marts.customer_value set revenue_eur = revenue_eur + 0.01 "
                    "where customer_id = ? and period_start = ?", list(first))
        con.execute("delete from marts.customer_value where customer_id = ? "
                    "and period_start = ?", list(second))
    finally:
        con.close()
    rules = peer.load_rules()
    ours = peer.customer_value(landing, rules, peer.read_forecast(warehouse, rules))
    comparison = peer.compare(ours, altered)
    assert not comparison.agrees
    assert len(comparison.differences) == 2
    assert comparison.differences[0] == f"{second[0]} {second[1]}: in the peer only"
    assert comparison.differences[1].startswith(f"{first[0]} {first[1]}: revenue_eur peer ")
