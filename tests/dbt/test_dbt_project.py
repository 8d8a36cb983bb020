"""End-to-end tests of the dbt project on a small hand-made raw warehouse, on both engines.

Every test runs on DuckDB and on Apache Spark (marker `spark`) with the same asserted
values: the build (dbt unit tests included) runs once per engine on the same fixture rows.
The fixture rows are in tests/dbt_fixtures.py. Every expected value below is worked out by
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

Running periods: the latest extract is 2026-01-05, so data_through = 2026-01-05 and every
  period (2023, 2024, 2025) ends before it: all complete.
Grid (2 bands per axis, the default): band 2 = above the median, so the bands repeat the
  levels: 2025 C001 (2, 2), C002 (1, 1), C003 (2, 1), C004 (1, 2), C005 (1, 1).
Profit after service 2025 = contribution margin - value transfer:
  C001 3000 - 588.03 = 2411.97; C002 1500 - 41.74 = 1458.26; C003 200 - 40.57 = 159.43;
  C004 0 - 45.79 = -45.79; C005 -200 - 0 = -200.
  Ranked: C001, C002, C003, C004, C005; total 2411.97 + 1458.26 + 159.43 - 45.79 - 200
  = 3783.87; cumulative 2411.97, 3870.23, 4029.66, 3983.87, 3783.87: the whale curve peaks
  at 4029.66 / 3783.87 = 1.0649... after the three most profitable customers.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import jinja2
import pytest
import yaml

from orchestration.settings import DBT_PROJECT_DIR
from tests.dbt_engine_fixtures import ENGINES, DuckDBWarehouse, open_warehouse, run_dbt
from tests.dbt_fixtures import build_raw_fixture
from tests.seed_fixtures import seed_segments

# the marts of docs/reference.md that dbt builds, and customer_profitability
MARTS = {
    "capacity_cost_rates",
    "department_capacity",
    "customer_purchase_summary",
    "dim_customers",
    "dim_customers_history",
    "dim_service_types",
    "fct_service_activities",
    "fct_value_transfers",
    "fct_order_lines",
    "customer_value",
    "customer_profitability",
    "segment_migration",
    "segment_summary",
    "customer_cockpit",
    "value_transfer_payback",
}


@pytest.fixture(scope="module", params=ENGINES)
def built(request, tmp_path_factory):
    """The fixture built by `dbt build` (unit tests included) on the parametrised engine."""
    engine = request.param
    work = tmp_path_factory.mktemp(f"dbt_build_{engine}")
    warehouse = open_warehouse(request, engine, work, build_raw_fixture(work / "warehouse.duckdb"))
    result = run_dbt(["build"], engine=engine, work=work, env=warehouse.dbt_env)
    assert result.success, result.output
    return warehouse


def D(text: str) -> Decimal:
    return Decimal(text)


def test_marts_exist_in_schema_marts(built):
    assert built.tables("marts") == MARTS


def test_standard_cost_transfer_kind_and_value_transfer(built):
    rows = built.query(
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


def test_ledger_holds_only_positive_value_transfers(built):
    rows = built.query(
        "select activity_id from marts.fct_value_transfers order by activity_id",
    )
    # A4 (billed), A8 and A12 (unpriced) are not value transfers; A6 and A11 are cancelled
    assert [r[0] for r in rows] == ["A1", "A10", "A2", "A3", "A5", "A7", "A9"]


def test_order_lines_redelivery_and_credit_note(built):
    rows = built.query(
        "select order_id, net_revenue_eur, contribution_margin_eur from marts.fct_order_lines "
        "where order_id in ('O-1', 'O-3', 'O-5') order by order_id",
    )
    assert rows == [
        ("O-1", D("6000"), D("2000")),  # the re-delivery with the later updated_at
        ("O-3", D("1500"), D("1500")),  # empty cost of goods = 0
        ("O-5", D("-200"), D("-200")),  # credit note
    ]
    assert built.query("select count(*) from marts.fct_order_lines") == [(7,)]


def test_dim_customers_latest_attributes(built):
    rows = dict(
        built.query("select customer_id, customer_name from marts.dim_customers")
    )
    assert rows == {
        "C001": "Alpha AG",  # renamed in the later snapshot
        "C002": "Beta KG",
        "C003": "Gamma Ltd",
        "C004": "Delta SA",  # missing from the later snapshot: keeps its attributes
        "C005": "Epsilon AG",
    }


def test_customer_history_versions(built):
    """C001 renamed (not tracked) and its empty status read as active in both snapshots: one
    version. C004 is missing from the later snapshot: its version stays open. C005 moves from
    AM2 to AM3 in the 2026-01-05 snapshot: version 1 ends there (exclusive), version 2 is
    current. C003 first appears on 2026-01-05."""
    rows = built.query(
        "select customer_id, version_number, cast(valid_from as string), "
        "cast(valid_to as string), is_current, account_manager, status "
        "from marts.dim_customers_history order by customer_id, version_number"
    )
    assert rows == [
        ("C001", 1, "2025-03-01", None, True, "AM1", "active"),
        ("C002", 1, "2025-03-01", None, True, "AM2", "active"),
        ("C003", 1, "2026-01-05", None, True, "AM3", "active"),
        ("C004", 1, "2025-03-01", None, True, "AM1", "active"),
        ("C005", 1, "2025-03-01", "2026-01-05", False, "AM2", "active"),
        ("C005", 2, "2026-01-05", None, True, "AM3", "active"),
    ]


def test_customer_periods_carry_attributes_in_period_and_today(built):
    """Data through 2026-01-05, every period complete: attributes as of the period's end. In
    2025 C005 was still with AM2 (its AM3 version starts 2026-01-05); today it is AM3. C001's
    2024 and C003's 2025 end before their first snapshot: the first version stands in, and
    attributes_valid_from (after attributes_as_of) says so."""
    columns = ("customer_id, cast(period_start as string), cast(attributes_as_of as string), "
               "cast(attributes_valid_from as string), account_manager_in_period, "
               "account_manager")
    expected = [
        ("C001", "2024-01-01", "2024-12-31", "2025-03-01", "AM1", "AM1"),
        ("C003", "2025-01-01", "2025-12-31", "2026-01-05", "AM3", "AM3"),
        ("C005", "2025-01-01", "2025-12-31", "2025-03-01", "AM2", "AM3"),
    ]
    where = ("where (customer_id = 'C001' and period_start = '2024-01-01') "
             "or (customer_id in ('C003', 'C005') and period_start = '2025-01-01') "
             "order by customer_id")
    for mart in ("customer_value", "customer_profitability", "segment_migration"):
        assert built.query(f"select {columns} from marts.{mart} {where}") == expected, mart


def test_customer_value_2025(built):
    rows = built.query(
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
    thresholds = built.query(
        "select distinct period_end, classic_threshold, value_transfer_threshold "
        "from marts.customer_value where period_start = date '2025-01-01'",
    )
    assert [(str(t[0]), t[1], t[2]) for t in thresholds] == [("2025-12-31", D("1500"), D("41.74"))]
    # C001: 8000 / (400000 * 12 / 12) = 0.02
    (share,) = built.query(
        "select share_of_wallet from marts.customer_value "
        "where customer_id = 'C001' and period_start = date '2025-01-01'",
    )[0]
    assert share == pytest.approx(0.02)


def test_customer_value_even_median_and_unpriced_period(built):
    rows = built.query(
        "select cast(period_start as string), customer_id, classic_threshold, "
        "value_transfer_threshold, segment from marts.customer_value "
        "where period_start < date '2025-01-01' order by 1, 2",
    )
    assert rows == [
        ("2023-01-01", "C004", D("0"), D("0"), "opportunistic"),
        ("2024-01-01", "C001", D("2000"), D("40.52"), "develop"),
        ("2024-01-01", "C002", D("2000"), D("40.52"), "renegotiate"),
    ]


def test_redelivered_cancellation_without_updated_at_cancels(built):
    # A11: done with updated_at in the 2025-03-01 extract, cancelled without updated_at in
    # the 2026-01-05 extract -> the later extract wins: cancelled, kept in staging only
    assert built.query(
        "select status, is_cancelled from staging.stg_service_log__service_activities "
        "where activity_id = 'A11'",
    ) == [("cancelled", True)]
    assert built.query(
        "select count(*) from marts.fct_service_activities where activity_id = 'A11'",
    ) == [(0,)]


def test_field_service_unpriced_before_2025(built):
    rows = built.query(
        "select cast(period_start as string), customer_id, value_transfer_eur, service_minutes, "
        "service_activities, unpriced_activities from marts.customer_value "
        "where customer_id in ('C001', 'C004') and period_start < date '2025-01-01' "
        "order by 1, 2",
    )
    assert rows == [
        ("2023-01-01", "C004", D("0"), D("60"), 1, 1),  # A8: 60 min, unpriced
        ("2024-01-01", "C001", D("0"), D("90"), 1, 1),  # A12: 90 min, unpriced
    ]


def test_segment_migration(built):
    rows = built.query(
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


def test_segment_summary_2025(built):
    rows = built.query(
        "select segment, customers, revenue_eur, value_transfer_eur from marts.segment_summary "
        "where period_start = date '2025-01-01' order by segment",
    )
    assert rows == [
        ("develop", 1, D("500"), D("40.57")),
        ("invest", 1, D("8000"), D("588.03")),
        ("opportunistic", 2, D("1300"), D("41.74")),  # 1500 - 200, 41.74 + 0
        ("renegotiate", 1, D("0"), D("45.79")),
    ]


def test_segment_summary_lists_all_four_segments_per_period(built):
    rows = built.query(
        "select cast(period_start as string), cast(period_end as string), segment, customers, "
        "revenue_eur, classic_value_eur, value_transfer_eur from marts.segment_summary "
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
    assert built.query("select count(*) from marts.segment_summary") == [(12,)]


def test_segment_summary_reconciles_with_customer_value(built):
    """segment_summary recomputed in plain Python from customer_value's rows: per period and
    segment of the seed, the number of rows and the sums of revenue, classic value and value
    transfer (all 0 for a segment without rows)."""
    values = built.query(
        "select period_start, segment, revenue_eur, classic_value_eur, value_transfer_eur "
        "from marts.customer_value",
    )
    expected = {
        (period, segment.segment): [0, D("0"), D("0"), D("0")]
        for period in {row[0] for row in values} for segment in seed_segments()
    }
    for period, segment, revenue, classic, transfer in values:
        totals = expected[(period, segment)]
        totals[0] += 1
        totals[1] += revenue
        totals[2] += classic
        totals[3] += transfer
    summary = built.query(
        "select period_start, segment, customers, revenue_eur, classic_value_eur, "
        "value_transfer_eur from marts.segment_summary",
    )
    assert {(r[0], r[1]): list(r[2:]) for r in summary} == expected
    assert len(summary) == len(expected)  # no (period, segment) twice


def test_customer_cockpit_excludes_cancelled(built):
    rows = built.query(
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
    assert built.query("select count(*) from marts.customer_cockpit") == [(10,)]


def test_every_period_is_complete_up_to_the_latest_extract(built):
    # the latest extract loaded is 2026-01-05: 2023, 2024 and 2025 all ended before it
    rows = built.query(
        "select distinct cast(data_through as string), is_period_complete "
        "from marts.customer_value"
    )
    assert rows == [("2026-01-05", True)]
    rows = built.query(
        "select distinct cast(data_through as string), is_period_complete "
        "from marts.segment_summary"
    )
    assert rows == [("2026-01-05", True)]
    # 2024 is a leap year: 366 days, all covered
    assert built.query(
        "select distinct days_in_period, days_covered from marts.customer_value "
        "where period_start = date '2024-01-01'"
    ) == [(366, 366)]


def test_customer_value_names_labels_and_grid_bands_2025(built):
    rows = built.query(
        "select customer_id, customer_name, segment, segment_label_en, strategy_de, "
        "classic_value_band, value_transfer_band from marts.customer_value "
        "where period_start = date '2025-01-01' order by customer_id"
    )
    invest = "Investitionskunden: Mehrwertleistungen schlagen sich in Kundenbindung und " \
        "Folgegeschäften nieder"
    opportunistic = "opportunistisch betreuen: nicht wie ein König beschenkt und nicht wie " \
        "ein König behandelt"
    develop = "versteckte Win-Win-Potenziale suchen, Kundenbindung sichern, nicht zu viel anbieten"
    renegotiate = "in ernste Verhandlungen eintreten: kostenfreie Serviceleistungen rechnen " \
        "sich sonst nicht"
    # two bands per axis (the default) are the median split: the bands repeat the levels
    assert rows == [
        ("C001", "Alpha AG", "invest", "Investment customers", invest, 2, 2),
        ("C002", "Beta KG", "opportunistic", "Serve opportunistically", opportunistic, 1, 1),
        ("C003", "Gamma Ltd", "develop", "Check win-win potential", develop, 2, 1),
        ("C004", "Delta SA", "renegotiate", "Problem group: renegotiate", renegotiate, 1, 2),
        ("C005", "Epsilon AG", "opportunistic", "Serve opportunistically", opportunistic, 1, 1),
    ]


def test_customer_profitability_2025(built):
    rows = built.query(
        "select customer_id, profit_rank, contribution_margin_eur, value_transfer_eur, "
        "profit_after_service_eur, cumulative_profit_eur, period_profit_eur "
        "from marts.customer_profitability where period_start = date '2025-01-01' "
        "order by profit_rank"
    )
    total = D("3783.87")  # 2411.97 + 1458.26 + 159.43 - 45.79 - 200
    assert rows == [
        ("C001", 1, D("3000"), D("588.03"), D("2411.97"), D("2411.97"), total),
        ("C002", 2, D("1500"), D("41.74"), D("1458.26"), D("3870.23"), total),
        ("C003", 3, D("200"), D("40.57"), D("159.43"), D("4029.66"), total),
        ("C004", 4, D("0"), D("45.79"), D("-45.79"), D("3983.87"), total),
        ("C005", 5, D("-200"), D("0"), D("-200"), D("3783.87"), total),
    ]
    shares = built.query(
        "select customer_share, cumulative_profit_share from marts.customer_profitability "
        "where period_start = date '2025-01-01' order by profit_rank"
    )
    # the whale curve: the three most profitable customers (60 %) earn 106.5 % of the profit
    expected = [
        (0.2, 2411.97 / 3783.87),
        (0.4, 3870.23 / 3783.87),
        (0.6, 4029.66 / 3783.87),
        (0.8, 3983.87 / 3783.87),
        (1.0, 1.0),
    ]
    assert shares == [(pytest.approx(x), pytest.approx(y)) for x, y in expected]
    assert max(share for _, share in shares) == pytest.approx(1.06496, abs=1e-5)


def test_personal_data_masked_in_the_marts_kept_in_raw(built):
    masked = "Hotline: valve leaking, call back [Telefon] or [E-Mail]"
    assert built.query(
        "select description from marts.customer_cockpit where activity_id = 'A3'"
    ) == [(masked,)]
    assert built.query(
        "select description from marts.fct_service_activities where activity_id = 'A3'"
    ) == [(masked,)]
    assert built.query(
        "select description from raw.service_activities where activity_id = 'A3'"
    ) == [("Hotline: valve leaking, call back +49 171 1234567 or max.muster@beta-kg.de",)]


def test_docs_generate_lists_the_marts(built, tmp_path):
    result = run_dbt(["docs", "generate"], engine=built.engine, work=tmp_path, env=built.dbt_env)
    assert result.success, result.output
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


# the CTEs that hold every row of an extract and that their query reads more than once
# (macro inline_in_full_build): model or test (its path in the project) -> the CTEs
WHOLE_HISTORY_CTES = {
    "models/staging/crm/stg_crm__customers.sql": ["source"],
    "models/staging/crm/stg_crm__customer_snapshots.sql": ["source"],
    "models/staging/crm/stg_crm__orders.sql": ["source"],
    "models/staging/service_log/stg_service_log__service_activities.sql": ["source"],
    "models/intermediate/costing/int_activities_costed.sql": ["activities", "current_activities"],
    "tests/assert_priced_activities_match_exactly_one_rate.sql": ["activities"],
}


def _kept_ctes(warehouse: DuckDBWarehouse, sql: str) -> list[str]:
    """The CTEs that DuckDB's plan of `sql` keeps (materializes), by name."""
    plan = warehouse.query(f"explain {sql}")[0][1]
    return re.findall(r"CTE Name: (\w+)", plan)


@pytest.mark.parametrize("built", ["duckdb"], indirect=True)
def test_a_first_build_on_duckdb_keeps_no_copy_of_the_whole_history(built):
    """Outside a delta build DuckDB reads the delivered versions, the costed activities and
    the rate check's facts again for each reader instead of keeping a copy of every row;
    without the keyword it keeps them (so the check can fail)."""
    compiled = built.path.parent / "target" / "compiled" / "customer_value_warehouse"
    for model, ctes in WHOLE_HISTORY_CTES.items():
        sql = (compiled / model).read_text(encoding="utf-8")
        for cte in ctes:
            assert re.search(rf"\b{cte} as not materialized \(", sql), (model, cte)
        assert not set(ctes) & set(_kept_ctes(built, sql)), model
        plain = sql.replace(" as not materialized (", " as (")
        assert set(ctes) & set(_kept_ctes(built, plain)), model

@pytest.mark.parametrize(
    "var_name, value, message",
    [
        ("abc_a_cutoff", "0.1234567891", "must be a decimal number between 0 and 1"),
        ("target_share_of_wallet", "1.5", "must be a decimal number between 0 and 1"),
        ("running_period_basis", "monthly", "must be 'full' or 'to_date'"),
        ("grid_classic_value_bands", "1", "must be a whole number from 2 to 10"),
    ],
)
def test_invalid_vars_fail_compilation(tmp_path, var_name, value, message):
    warehouse = DuckDBWarehouse(build_raw_fixture(tmp_path / "warehouse.duckdb"))
    result = run_dbt(
        [
            "compile",
            "--select",
            "int_customer_value_classic int_customer_value_potential int_portfolio_cutoffs",
            "--vars",
            f"{{{var_name}: {value}}}",
        ],
        engine="duckdb",
        work=tmp_path,
        env=warehouse.dbt_env,
    )
    assert not result.success
    assert f"var {var_name} {message}" in result.output


# --- the dispatch rule (macros/cross_engine/dispatch.sql) -----------------------------------

def _macros() -> dict[str, str]:
    """Every macro of the project's macros/ folder: name -> body."""
    found = {}
    for path in sorted((DBT_PROJECT_DIR / "macros").rglob("*.sql")):
        text = path.read_text(encoding="utf-8")
        for name, body in re.findall(
            r"\{%-?\s*macro\s+(\w+)\(.*?%\}(.*?)\{%-?\s*endmacro", text, re.DOTALL
        ):
            found[name] = body
    return found


def _dispatch_breaches(macros: dict[str, str]) -> list[str]:
    """What breaks the rule: a dispatched macro without a `default__`; a `default__` that
    raises (no portable implementation) beside a missing `duckdb__` or `spark__`; an engine's
    version of a macro that is not dispatched."""
    dispatched = {name for body in macros.values()
                  for name in re.findall(r"adapter\.dispatch\('(\w+)'", body)}
    breaches = [f"{name}: no default__" for name in sorted(dispatched)
                if f"default__{name}" not in macros]
    for name in sorted(dispatched):
        if "unsupported_engine(" in macros.get(f"default__{name}", ""):
            breaches += [f"{name}: no {engine}__" for engine in ("duckdb", "spark")
                         if f"{engine}__{name}" not in macros]
    # spark__load_csv_rows replaces dbt's own macro (dispatched by dbt, dbt_project.yml)
    breaches += [f"{name}: not dispatched" for name in sorted(macros)
                 if re.match(r"(default|duckdb|spark)__", name)
                 and name.split("__", 1)[1] not in dispatched | {"load_csv_rows"}]
    return breaches


def test_every_dispatched_macro_follows_the_one_rule():
    macros = _macros()
    assert _dispatch_breaches(macros) == []
    # engine_functions names both engines; its defaults raise
    assert "unsupported_engine('raise_error')" in macros["default__raise_error"]
    assert {"duckdb__raise_error", "spark__raise_error"} <= set(macros)
    # a raising default without Spark's version, and DuckDB's spelling left as the default,
    # are caught
    broken = {name: body for name, body in macros.items() if name != "spark__integer_series"}
    assert _dispatch_breaches(broken) == ["integer_series: no spark__"]
    broken = dict(macros, duckdb__latest_delivery="select 1")
    del broken["default__latest_delivery"]
    assert _dispatch_breaches(broken) == ["latest_delivery: no default__"]


def test_a_default_without_a_portable_implementation_names_the_macro_and_the_adapter():
    """unsupported_engine, rendered with stand-ins for dbt's adapter and exceptions."""
    class Raised(Exception):
        pass

    def raise_compiler_error(message):
        raise Raised(message)

    class Adapter:
        @staticmethod
        def type():
            return "postgres"

    text = (DBT_PROJECT_DIR / "macros" / "cross_engine" / "dispatch.sql").read_text()
    environment = jinja2.Environment()
    module = environment.from_string(text).make_module({
        "adapter": Adapter,
        "exceptions": {"raise_compiler_error": raise_compiler_error},
    })
    with pytest.raises(Raised) as raised:
        module.unsupported_engine("integer_series")
    assert str(raised.value) == (
        "integer_series: no implementation for the adapter 'postgres'; add the macro "
        "postgres__integer_series (rule: macros/cross_engine/dispatch.sql)"
    )


def test_every_mart_has_one_yaml_beside_its_sql():
    """models/marts/<mart>.yml documents <mart> only; the folder's other YAML (exposures, unit
    tests) start with an underscore and document no model."""
    folder = DBT_PROJECT_DIR / "models" / "marts"
    documented = {}
    for path in sorted(folder.glob("*.yml")):
        models = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", [])
        documented[path.stem] = [model["name"] for model in models]
    assert {stem: names for stem, names in documented.items() if not stem.startswith("_")} == {
        path.stem: [path.stem] for path in folder.glob("*.sql")}
    assert all(names == [] for stem, names in documented.items() if stem.startswith("_"))
