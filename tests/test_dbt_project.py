"""End-to-end tests of the dbt project on a small hand-made raw warehouse.

The fixture rows are in tests/dbt_fixture.py. Every expected value below is worked out by
hand from the rules of docs/reference.md (section 3), using the seed rates of 2024-2025:

Standard cost (duration / 60 * hourly + per event + participants * per participant):
  A1  RESEARCH-2025      45 min * 71.87/60                        = 53.9025 -> 53.90, free
  A2  TRAINING-2025      120/60*110.13 + 173.89 + 3*52.17
                         = 220.26 + 173.89 + 156.51               = 550.66, billed 100
                         -> discounted, value transfer 450.66
  A3  HOTLINE-2025       30 min * 83.47/60                        = 41.735 -> 41.74, free
  A4  REPAIR-2025        60/60*106.65 + 52.17                     = 158.82, billed 158.82
                         -> billed (billed = cost), value transfer 0
  A5  MARKET_INFO-2025   per event                                = 40.57, free
  A6  cancelled in its re-delivery                                -> in no fact or mart
  A7  ORDER_CHANGE-2025  15/60*67.24 + 28.98 = 16.81 + 28.98      = 45.79, free
  A8  FIELD_SERVICE 2023-11-15: first rate 2025-01-01             -> unpriced, null
  A9  HOTLINE on 2025-01-01, the valid_from day of HOTLINE-2025   = 83.47, free
  A10 HOTLINE on 2024-12-31, still HOTLINE-2024                   = 81.04, free
  A11 done with updated_at (extract 2025-03-01), re-delivered cancelled without updated_at
      (extract 2026-01-05): not every version is timestamped, the later extract wins
                                                                  -> cancelled, in no mart
  A12 FIELD_SERVICE 2024-06-15: first rate 2025-01-01             -> unpriced, null

Period 2025 (year grain):
  revenue: C001 6000 (re-delivered O-1, was 5000) + 2000 = 8000, margin 2000 + 1000 = 3000
           C002 1500 (margin 1500, empty cost of goods = 0), C003 500, C004 0,
           C005 -200 (credit note)
  positive revenue total 10000; ranked C001, C002, C003, C004, C005:
           share_before 0 -> A; 8000/10000 = 0.80 -> B; 9500/10000 = 0.95 -> C; C; C
  value transfer: C001 53.90 + 450.66 + 83.47 = 588.03; C002 41.74 + 0 = 41.74;
           C003 40.57; C004 45.79; C005 0
  C003 is new (since 2025-06-01 > 2024-12-31): potential 200000 * 0.25 = 50000 > 500
           -> classic value 50000. C001 is old: potential 100000, classic value stays 8000.
  classic values 8000, 1500, 50000, 0, -200: median 1500 -> high: C001, C003
  value transfers 588.03, 41.74, 40.57, 45.79, 0: median 41.74 -> high: C001, C004
  segments: C001 invest, C002 opportunistic (1500 and 41.74 are not greater than the
           medians), C003 develop, C004 renegotiate, C005 opportunistic
Period 2024: C001 3000 (+ the unpriced A12: value transfer 0, 1 unpriced activity),
  C002 1000 (+ A10 81.04). Even row count: medians (3000 + 1000) / 2 = 2000 and
  (0 + 81.04) / 2 = 40.52 -> C001 develop, C002 renegotiate.
Period 2023: C004 only (the unpriced A8: value transfer 0) -> opportunistic.
Migration 2025: C001 develop -> invest, C002 renegotiate -> opportunistic, C003 null,
  C004 null (its 2023 row is not the immediately previous period), C005 null.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.reports.segments import read_segments
from tests.dbt_fixture import build_raw_fixture

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt_project"

# the marts of docs/reference.md
MARTS = {
    "dim_customers",
    "dim_service_types",
    "fct_service_activities",
    "fct_value_transfers",
    "fct_order_lines",
    "customer_value",
    "segment_migration",
    "segment_summary",
    "customer_cockpit",
}


def _dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if not found:
        pytest.skip("dbt is not installed")
    return found


def run_dbt(
    args: list[str], warehouse: Path, work: Path, project: Path = PROJECT
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CVM_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    command = [
        _dbt_executable(),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("dbt_build")
    warehouse = build_raw_fixture(work / "warehouse.duckdb")
    result = run_dbt(["build"], warehouse, work)
    assert result.returncode == 0, result.stdout + result.stderr
    return warehouse


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def D(text: str) -> Decimal:
    return Decimal(text)


def test_marts_exist_in_schema_marts(built_warehouse):
    tables = {
        row[0]
        for row in query(
            built_warehouse,
            "select table_name from information_schema.tables where table_schema = 'marts'",
        )
    }
    assert tables == MARTS


def test_standard_cost_transfer_kind_and_value_transfer(built_warehouse):
    rows = query(
        built_warehouse,
        "select activity_id, rate_id, standard_cost_eur, is_priced, transfer_kind, "
        "value_transfer_eur from marts.fct_service_activities order by activity_id",
    )
    assert rows == [
        ("A1", "RESEARCH-2025", D("53.90"), True, "free", D("53.90")),
        ("A10", "HOTLINE-2024", D("81.04"), True, "free", D("81.04")),
        ("A12", None, None, False, None, None),  # FIELD_SERVICE in 2024: no rate yet
        ("A2", "TRAINING-2025", D("550.66"), True, "discounted", D("450.66")),
        ("A3", "HOTLINE-2025", D("41.74"), True, "free", D("41.74")),
        ("A4", "REPAIR-2025", D("158.82"), True, "billed", D("0")),
        ("A5", "MARKET_INFO-2025", D("40.57"), True, "free", D("40.57")),
        ("A7", "ORDER_CHANGE-2025", D("45.79"), True, "free", D("45.79")),
        ("A8", None, None, False, None, None),
        ("A9", "HOTLINE-2025", D("83.47"), True, "free", D("83.47")),
    ]


def test_ledger_holds_only_positive_value_transfers(built_warehouse):
    rows = query(
        built_warehouse,
        "select activity_id from marts.fct_value_transfers order by activity_id",
    )
    # A4 (billed), A8 and A12 (unpriced) are not value transfers; A6 and A11 are cancelled
    assert [r[0] for r in rows] == ["A1", "A10", "A2", "A3", "A5", "A7", "A9"]


def test_order_lines_redelivery_and_credit_note(built_warehouse):
    rows = query(
        built_warehouse,
        "select order_id, net_revenue_eur, contribution_margin_eur from marts.fct_order_lines "
        "where order_id in ('O-1', 'O-3', 'O-5') order by order_id",
    )
    assert rows == [
        ("O-1", D("6000"), D("2000")),  # the re-delivery with the later updated_at
        ("O-3", D("1500"), D("1500")),  # empty cost of goods = 0
        ("O-5", D("-200"), D("-200")),  # credit note
    ]
    assert query(built_warehouse, "select count(*) from marts.fct_order_lines") == [(7,)]


def test_dim_customers_latest_attributes(built_warehouse):
    rows = dict(
        query(built_warehouse, "select customer_id, customer_name from marts.dim_customers")
    )
    assert rows == {
        "C001": "Alpha AG",  # renamed in the later snapshot
        "C002": "Beta KG",
        "C003": "Gamma Ltd",
        "C004": "Delta SA",  # missing from the later snapshot: keeps its attributes
        "C005": "Epsilon AG",
    }


def test_customer_value_2025(built_warehouse):
    rows = query(
        built_warehouse,
        "select customer_id, revenue_eur, contribution_margin_eur, abc_class, "
        "is_new_customer, classic_value_eur, value_transfer_eur, service_activities, segment "
        "from marts.customer_value where period_start = date '2025-01-01' order by customer_id",
    )
    assert rows == [
        ("C001", D("8000"), D("3000"), "A", False, D("8000"), D("588.03"), 3, "invest"),
        ("C002", D("1500"), D("1500"), "B", False, D("1500"), D("41.74"), 2, "opportunistic"),
        ("C003", D("500"), D("200"), "C", True, D("50000"), D("40.57"), 1, "develop"),
        ("C004", D("0"), D("0"), "C", False, D("0"), D("45.79"), 1, "renegotiate"),
        ("C005", D("-200"), D("-200"), "C", False, D("-200"), D("0"), 0, "opportunistic"),
    ]
    thresholds = query(
        built_warehouse,
        "select distinct period_end, classic_threshold, value_transfer_threshold "
        "from marts.customer_value where period_start = date '2025-01-01'",
    )
    assert [(str(t[0]), t[1], t[2]) for t in thresholds] == [("2025-12-31", D("1500"), D("41.74"))]
    # C001: 8000 / (400000 * 12 / 12) = 0.02
    (share,) = query(
        built_warehouse,
        "select share_of_wallet from marts.customer_value "
        "where customer_id = 'C001' and period_start = date '2025-01-01'",
    )[0]
    assert share == pytest.approx(0.02)


def test_customer_value_even_median_and_unpriced_period(built_warehouse):
    rows = query(
        built_warehouse,
        "select period_start::varchar, customer_id, classic_threshold, "
        "value_transfer_threshold, segment from marts.customer_value "
        "where period_start < date '2025-01-01' order by 1, 2",
    )
    assert rows == [
        ("2023-01-01", "C004", D("0"), D("0"), "opportunistic"),
        ("2024-01-01", "C001", D("2000"), D("40.52"), "develop"),
        ("2024-01-01", "C002", D("2000"), D("40.52"), "renegotiate"),
    ]


def test_redelivered_cancellation_without_updated_at_cancels(built_warehouse):
    # A11: done with updated_at in the 2025-03-01 extract, cancelled without updated_at in
    # the 2026-01-05 extract -> the later extract wins: cancelled, kept in staging only
    assert query(
        built_warehouse,
        "select status, is_cancelled from staging.stg_service_log__service_activities "
        "where activity_id = 'A11'",
    ) == [("cancelled", True)]
    assert query(
        built_warehouse,
        "select count(*) from marts.fct_service_activities where activity_id = 'A11'",
    ) == [(0,)]


def test_field_service_unpriced_before_2025(built_warehouse):
    rows = query(
        built_warehouse,
        "select period_start::varchar, customer_id, value_transfer_eur, service_minutes, "
        "service_activities, unpriced_activities from marts.customer_value "
        "where customer_id in ('C001', 'C004') and period_start < date '2025-01-01' "
        "order by 1, 2",
    )
    assert rows == [
        ("2023-01-01", "C004", D("0"), D("60"), 1, 1),  # A8: 60 min, unpriced
        ("2024-01-01", "C001", D("0"), D("90"), 1, 1),  # A12: 90 min, unpriced
    ]


def test_segment_migration(built_warehouse):
    rows = query(
        built_warehouse,
        "select customer_id, previous_segment, segment from marts.segment_migration "
        "where period_start = date '2025-01-01' order by customer_id",
    )
    assert rows == [
        ("C001", "develop", "invest"),
        ("C002", "renegotiate", "opportunistic"),
        ("C003", None, "develop"),
        ("C004", None, "renegotiate"),
        ("C005", None, "opportunistic"),
    ]


def test_segment_summary_2025(built_warehouse):
    rows = query(
        built_warehouse,
        "select segment, customers, revenue_eur, value_transfer_eur from marts.segment_summary "
        "where period_start = date '2025-01-01' order by segment",
    )
    assert rows == [
        ("develop", 1, D("500"), D("40.57")),
        ("invest", 1, D("8000"), D("588.03")),
        ("opportunistic", 2, D("1300"), D("41.74")),  # 1500 - 200, 41.74 + 0
        ("renegotiate", 1, D("0"), D("45.79")),
    ]


def test_segment_summary_lists_all_four_segments_per_period(built_warehouse):
    rows = query(
        built_warehouse,
        "select period_start::varchar, period_end::varchar, segment, customers, revenue_eur, "
        "classic_value_eur, value_transfer_eur from marts.segment_summary "
        "where period_start < date '2025-01-01' order by 1, 3",
    )
    zero = D("0")
    assert rows == [
        # 2023: C004 only, revenue 0, value transfer 0 (A8 unpriced)
        ("2023-01-01", "2023-12-31", "develop", 0, zero, zero, zero),
        ("2023-01-01", "2023-12-31", "invest", 0, zero, zero, zero),
        ("2023-01-01", "2023-12-31", "opportunistic", 1, zero, zero, zero),
        ("2023-01-01", "2023-12-31", "renegotiate", 0, zero, zero, zero),
        # 2024: C001 develop (3000, value transfer 0), C002 renegotiate (1000, 81.04)
        ("2024-01-01", "2024-12-31", "develop", 1, D("3000"), D("3000"), zero),
        ("2024-01-01", "2024-12-31", "invest", 0, zero, zero, zero),
        ("2024-01-01", "2024-12-31", "opportunistic", 0, zero, zero, zero),
        ("2024-01-01", "2024-12-31", "renegotiate", 1, D("1000"), D("1000"), D("81.04")),
    ]
    # three periods (2023, 2024, 2025) x four segments
    assert query(built_warehouse, "select count(*) from marts.segment_summary") == [(12,)]


def test_segment_summary_reconciles_with_customer_value(built_warehouse):
    """segment_summary recomputed in plain Python from customer_value's rows: per period and
    segment of the seed, the number of rows and the sums of revenue, classic value and value
    transfer (all 0 for a segment without rows)."""
    values = query(
        built_warehouse,
        "select period_start, segment, revenue_eur, classic_value_eur, value_transfer_eur "
        "from marts.customer_value",
    )
    expected = {
        (period, segment.segment): [0, D("0"), D("0"), D("0")]
        for period in {row[0] for row in values} for segment in read_segments()
    }
    for period, segment, revenue, classic, transfer in values:
        totals = expected[(period, segment)]
        totals[0] += 1
        totals[1] += revenue
        totals[2] += classic
        totals[3] += transfer
    summary = query(
        built_warehouse,
        "select period_start, segment, customers, revenue_eur, classic_value_eur, "
        "value_transfer_eur from marts.segment_summary",
    )
    assert {(r[0], r[1]): list(r[2:]) for r in summary} == expected
    assert len(summary) == len(expected)  # no (period, segment) twice


def test_customer_cockpit_excludes_cancelled(built_warehouse):
    rows = query(
        built_warehouse,
        "select activity_id, customer_name, service_name_de, service_name_en, "
        "standard_cost_eur, billed_amount_eur, value_transfer_eur, employee_id "
        "from marts.customer_cockpit where activity_id in ('A2', 'A6')",
    )
    assert rows == [
        (
            "A2",
            "Alpha AG",
            "Schulungen und Seminare",
            "Trainings and seminars",
            D("550.66"),
            D("100"),
            D("450.66"),
            "E2",
        )
    ]
    # A1-A5, A7-A10, A12 = 10 activities; A6 and A11 are cancelled
    assert query(built_warehouse, "select count(*) from marts.customer_cockpit") == [(10,)]


def test_overlapping_rates_fail_the_build_naming_type_and_ids(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    rates = project / "seeds" / "standard_cost_rates.csv"
    with rates.open("a", encoding="utf-8") as handle:
        # overlaps HOTLINE-2025 (2025-01-01 .. 2026-01-01) and nothing else
        handle.write("HOTLINE-2025-MID,HOTLINE,2025-06-01,2025-09-01,90.00,0.00,0.00\n")
    warehouse = build_raw_fixture(tmp_path / "warehouse.duckdb")
    result = run_dbt(["build"], warehouse, tmp_path, project=project)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "standard_cost_rates_do_not_overlap" in output
    assert "HOTLINE" in output
    assert "rate_id HOTLINE-2025 and HOTLINE-2025-MID" in output
    # the marts are not built on overlapping rates
    tables = query(
        warehouse,
        "select count(*) from information_schema.tables where table_schema = 'marts' "
        "and table_name = 'customer_value'",
    )
    assert tables == [(0,)]



def test_docs_generate_lists_the_marts(built_warehouse, tmp_path):
    result = run_dbt(["docs", "generate"], built_warehouse, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text(encoding="utf-8"))
    marts = {
        node["metadata"]["name"]
        for node in catalog["nodes"].values()
        if node["metadata"]["schema"] == "marts"
    }
    assert marts == MARTS
    segment_summary = catalog["nodes"]["model.customer_value_warehouse.segment_summary"]
    assert {"period_start", "segment", "customers", "revenue_eur", "value_transfer_eur"} <= set(
        segment_summary["columns"]
    )
    assert (tmp_path / "target" / "index.html").exists()


@pytest.mark.parametrize(
    "var_name, value",
    [
        ("abc_a_cutoff", "0.1234567891"),  # 10 decimal places
        ("target_share_of_wallet", "1.5"),  # above 1
    ],
)
def test_invalid_share_vars_fail_compilation(built_warehouse, tmp_path, var_name, value):
    result = run_dbt(
        [
            "compile",
            "--select",
            "int_customer_value_classic int_customer_value_potential",
            "--vars",
            f"{{{var_name}: {value}}}",
        ],
        built_warehouse,
        tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"var {var_name} must be a decimal number between 0 and 1" in output
