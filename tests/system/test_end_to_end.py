"""End to end: `cvm load` over three deliveries, mart values worked out by hand.

Rates used (dbt_project/seeds/standard_cost_rates.csv):
  HOTLINE-2025 83.47/h, HOTLINE-2026 85.97/h, TRAINING-2025 110.13/h + 173.89/event + 52.17/part.,
  TRAINING-2026 113.43/h + 179.11 + 53.73/part., REPAIR-2025 106.65/h + 52.17,
  REPAIR-2026 109.85/h + 53.73, COMMISSIONING-2026 125.38/h + 143.29 (valid from 2026-01-01).

Standard cost = minutes/60 * hourly + per event + participants * per participant, to the cent,
half away from zero:
  A1  30 min HOTLINE 2025         0.5 * 83.47                        =   41.735  ->   41.74 free
  A2  480 min TRAINING 2025, 6p   8*110.13 + 173.89 + 6*52.17        = 1367.95           free
  A3  120 min REPAIR 2025         2*106.65 + 52.17                   =  265.47, billed 300 -> billed
  A4  240 min COMMISSIONING on 2026-01-01 (the 2026 rate's first day)
                                   4*125.38 + 143.29                  =  644.81           free
  A5  cancelled in the second delivery: in no fact
  A6  corrected to 60 min         1 * 85.97                          =   85.97           free
  A7  90 min REPAIR 2026, given   1.5*109.85 + 53.73 = 218.505       ->  218.51           free
  A8  240 min TRAINING 2026, 3p   4*113.43 + 179.11 + 3*53.73        =  794.02, billed 200
                                                                    -> discounted, 594.02
  A9  480 min COMMISSIONING 2026  8*125.38 + 143.29                  = 1146.33           free
  A10 60 min REPAIR 2026          109.85 + 53.73 = 163.58, billed 163.58 -> billed, 0
  A11 20 min HOTLINE 2026         20/60*85.97 = 28.6566...           ->   28.66 free
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from decimal import Decimal
from typing import NamedTuple

import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.landing import sha256_of as file_sha256
from orchestration.lib.warehouse.store import Store
from orchestration.runner import run_load
from orchestration.settings import PROJECT_DIR
from tests.dbt.test_incremental import end_state
from tests.e2e_fixtures import D1, D2, D3, write_delivery

pytestmark = pytest.mark.slow


def _q(path, sql, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def loaded(e2e_duckdb):
    """All three deliveries, loaded by one `cvm load` (DuckDB; tests/conftest.py)."""
    return e2e_duckdb


@pytest.fixture(scope="module", params=[
    "duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def on_engine(request):
    """The same load on each engine (`cvm load --engine`); the values below hold on both."""
    return request.getfixturevalue(f"e2e_{request.param}")


def test_costs_and_transfer_kinds(on_engine):
    _, _, warehouse = on_engine
    rows = {
        r[0]: r[1:]
        for r in _q(
            warehouse,
            "select activity_id, rate_id, standard_cost_eur, transfer_kind, value_transfer_eur, "
            "is_priced from marts.fct_service_activities",
        )
    }
    d = Decimal
    assert rows == {
        "A1": ("HOTLINE-2025", d("41.74"), "free", d("41.74"), True),
        "A2": ("TRAINING-2025", d("1367.95"), "free", d("1367.95"), True),
        "A3": ("REPAIR-2025", d("265.47"), "billed", d("0.00"), True),
        "A4": ("COMMISSIONING-2026", d("644.81"), "free", d("644.81"), True),
        "A6": ("HOTLINE-2026", d("85.97"), "free", d("85.97"), True),
        "A7": ("REPAIR-2026", d("218.51"), "free", d("218.51"), True),
        "A8": ("TRAINING-2026", d("794.02"), "discounted", d("594.02"), True),
        "A9": ("COMMISSIONING-2026", d("1146.33"), "free", d("1146.33"), True),
        "A10": ("REPAIR-2026", d("163.58"), "billed", d("0.00"), True),
        "A11": ("HOTLINE-2026", d("28.66"), "free", d("28.66"), True),
    }
    # the ledger holds exactly the activities with a value transfer above 0
    ledger = {r[0] for r in _q(warehouse, "select activity_id from marts.fct_value_transfers")}
    assert ledger == {"A1", "A2", "A4", "A6", "A7", "A8", "A9", "A11"}


def test_german_delivery_arrives_intact(on_engine):
    _, _, warehouse = on_engine
    (description,) = _q(
        warehouse, "select description from marts.customer_cockpit where activity_id = 'A6'"
    )[0]
    assert description == "Rückruf wegen Störung, Angebot über 1.200 € geprüft"
    (name,) = _q(warehouse, "select customer_name from marts.dim_customers "
                            "where customer_id = 'C3'")[0]
    # the third delivery repeats the first's C3 row (updated 2026-11-19 08:00); the German one
    # carries a later updated_at (20.11.2026 08:00), so its name with umlauts is the latest
    assert name == "Gamma Müller & Söhne KG"
    (region,) = _q(warehouse, "select region from raw.customers where customer_id = 'C2' "
                              "and extract_date = '2026-11-21'")[0]
    assert region == "Süd"


def test_order_lines_after_correction_and_release(on_engine):
    _, _, warehouse = on_engine
    rows = dict(_q(warehouse, "select order_id, net_revenue_eur from marts.fct_order_lines"))
    # O6/1 corrected to 12,000.00 by the German delivery; O8/1 released once C5 arrived;
    # O11/1 rejected (invalid number) and never loaded.
    assert rows["O6"] == Decimal("12000.00")
    assert rows["O8"] == Decimal("2000.00")
    assert "O11" not in rows
    assert len(rows) == 9
    # lineage of each fact to its file and line: O6/1's correction is line 2 of the German
    # delivery; O8/1 was released from line 9 of the first (header = line 1)
    lineage = {r[0]: r[1:] for r in _q(
        warehouse, "select order_id, source_file, line_number from marts.fct_order_lines")}
    assert lineage["O6"] == (f"{D2}/orders.csv", 2)
    assert lineage["O8"] == (f"{D1}/orders.csv", 9)
    (activity,) = _q(warehouse, "select source_file, line_number from "
                                "marts.fct_service_activities where activity_id = 'A6'")
    assert activity == (f"{D2}/service_activities.csv", 3)  # A5 is line 2, A6 line 3


class CustomerPeriod(NamedTuple):
    """The values of one customer and period in marts.customer_value (money in whole euros
    where it is whole; value transfer to the cent)."""

    revenue: float
    margin: float
    share_of_wallet: float
    abc: str
    is_new: bool
    potential: float
    classic_value: float
    value_transfer: Decimal
    minutes: int
    activities: int
    segment: str
    previous_segment: str | None


def _cp(revenue, margin, share, abc, is_new, potential, classic, transfer, minutes, activities,
        segment, previous):
    return CustomerPeriod(
        revenue=revenue, margin=margin, share_of_wallet=share, abc=abc, is_new=is_new,
        potential=potential, classic_value=classic, value_transfer=Decimal(transfer),
        minutes=minutes, activities=activities, segment=segment, previous_segment=previous,
    )


EXPECTED = {
    # 2025: positive revenue 140,000. C1 share_before 0 -> A; C2 100,000/140,000 = 0.714 -> A;
    # C3 130,000/140,000 = 0.929 -> B. Classic median of (10,000, 30,000, 100,000) = 30,000;
    # value-transfer median of (0, 41.74, 1,367.95) = 41.74; "greater than" is strict.
    # C1's potential is 40,000,000: share of wallet 100,000 / 40,000,000 = 0.0025, potential
    # value 40,000,000 * 0.25 = 10,000,000 (not new, so its classic value stays its revenue)
    ("C1", 2025): _cp(revenue=100000, margin=40000, share=0.0025, abc="A", is_new=False,
                      potential=10000000, classic=100000, transfer="0.00", minutes=120,
                      activities=1, segment="develop", previous=None),
    ("C2", 2025): _cp(revenue=30000, margin=10000, share=0.3, abc="A", is_new=False,
                      potential=25000, classic=30000, transfer="41.74", minutes=30,
                      activities=1, segment="opportunistic", previous=None),
    ("C3", 2025): _cp(revenue=10000, margin=2000, share=0.25, abc="B", is_new=False,
                      potential=10000, classic=10000, transfer="1367.95", minutes=480,
                      activities=1, segment="renegotiate", previous=None),
    # 2026: positive revenue 153,000 (C3 = 12,000 - 1,000 credit note = 11,000).
    # share_before: C1 0 -> A; C2 120,000/153,000 = 0.784 -> A; C3 135,000/153,000 = 0.882 -> B;
    # C4 146,000/153,000 = 0.954 -> C; C5 151,000/153,000 = 0.987 -> C.
    # New (customer_since after 2025-12-31): C4 and C5, lifted to their potential
    # (800,000 * 0.25 = 200,000; 20,000 * 0.25 = 5,000).
    # Classic median of (5,000, 11,000, 15,000, 120,000, 200,000) = 15,000;
    # value-transfer median of (28.66, 85.97, 644.81, 812.53, 1,146.33) = 644.81.
    ("C1", 2026): _cp(revenue=120000, margin=50000, share=0.003, abc="A", is_new=False,
                      potential=10000000, classic=120000, transfer="644.81", minutes=300,
                      activities=2, segment="develop", previous="develop"),
    ("C2", 2026): _cp(revenue=15000, margin=6000, share=0.15, abc="A", is_new=False,
                      potential=25000, classic=15000, transfer="85.97", minutes=60,
                      activities=1, segment="opportunistic", previous="opportunistic"),
    ("C3", 2026): _cp(revenue=11000, margin=2000, share=0.275, abc="B", is_new=False,
                      potential=10000, classic=11000, transfer="812.53", minutes=330,
                      activities=2, segment="renegotiate", previous="renegotiate"),
    ("C4", 2026): _cp(revenue=5000, margin=2000, share=0.00625, abc="C", is_new=True,
                      potential=200000, classic=200000, transfer="1146.33", minutes=480,
                      activities=1, segment="invest", previous=None),
    ("C5", 2026): _cp(revenue=2000, margin=1000, share=0.1, abc="C", is_new=True,
                      potential=5000, classic=5000, transfer="28.66", minutes=20,
                      activities=1, segment="opportunistic", previous=None),
}
THRESHOLDS = {2025: (30000.0, 41.74), 2026: (15000.0, 644.81)}  # (classic, value transfer)


def test_customer_value_abc_thresholds_segments_migration(on_engine):
    _, _, warehouse = on_engine
    rows = _q(
        warehouse,
        """
        select cv.customer_id, year(cv.period_start), cv.period_end, cv.revenue_eur,
               cv.contribution_margin_eur, cv.share_of_wallet, cv.abc_class,
               cv.is_new_customer, cv.potential_value_eur, cv.classic_value_eur,
               cv.value_transfer_eur, cv.service_minutes, cv.service_activities, cv.segment,
               m.previous_segment, cv.classic_threshold, cv.value_transfer_threshold
        from marts.customer_value as cv
        left join marts.segment_migration as m
            on m.customer_id = cv.customer_id and m.period_start = cv.period_start
        """,
    )
    assert {(r[0], r[1]) for r in rows} == set(EXPECTED)
    for (customer, year, period_end, revenue, margin, share, abc, is_new, potential, classic,
         transfer, minutes, activities, segment, previous, classic_cut, transfer_cut) in rows:
        assert period_end == date(year, 12, 31)
        got = CustomerPeriod(
            revenue=float(revenue), margin=float(margin), share_of_wallet=round(float(share), 6),
            abc=abc, is_new=is_new, potential=float(potential), classic_value=float(classic),
            value_transfer=Decimal(str(transfer)).quantize(Decimal("0.01")),
            minutes=int(minutes), activities=int(activities), segment=segment,
            previous_segment=previous,
        )
        assert got == EXPECTED[(customer, year)], (customer, year)
        assert (float(classic_cut), round(float(transfer_cut), 2)) == THRESHOLDS[year]


def test_segment_summary_latest_period(on_engine):
    _, _, warehouse = on_engine
    rows = {
        r[0]: (int(r[1]), float(r[2]), round(float(r[3]), 2))
        for r in _q(
            warehouse,
            "select segment, customers, revenue_eur, value_transfer_eur "
            "from marts.segment_summary where period_start = '2026-01-01'",
        )
    }
    assert rows == {
        "develop": (1, 120000.0, 644.81),
        "opportunistic": (2, 17000.0, 114.63),  # C2 + C5: 85.97 + 28.66
        "renegotiate": (1, 11000.0, 812.53),  # 218.51 + 594.02
        "invest": (1, 5000.0, 1146.33),
    }
    labels = dict(_q(warehouse, "select segment, segment_label_de from marts.customer_value"))
    assert labels == {
        "opportunistic": "Opportunistisch betreuen",
        "renegotiate": "Problemgruppe: nachverhandeln",
        "develop": "Win-Win-Potenziale prüfen",
        "invest": "Investitionskunden",
    }


def test_audit_reconciles_and_resolves_unknown_customers(on_engine):
    _, _, warehouse = on_engine
    log = {
        r[0]: r[1:]
        for r in _q(warehouse, "select source_file, rows_read, rows_loaded, rows_rejected "
                               "from audit.load_log")
    }
    assert log == {
        f"{D1}/customers.csv": (4, 4, 0),
        f"{D1}/orders.csv": (9, 8, 1),  # O8/1: unknown customer C5
        f"{D1}/service_activities.csv": (11, 10, 1),  # A11: unknown customer C5
        f"{D2}/customers.csv": (4, 4, 0),
        f"{D2}/orders.csv": (2, 1, 1),  # O11/1: '12,3x' is no number
        f"{D2}/service_activities.csv": (2, 2, 0),
        f"{D3}/customers.csv": (5, 5, 0),
    }
    rejected = {
        (r[0], r[1], r[2]): r[3]
        for r in _q(warehouse, "select source_file, line_number, reason, is_open "
                               "from audit.rejected_rows")
    }
    assert rejected == {
        (f"{D1}/orders.csv", 9, "unknown_customer"): False,  # resolved by the third delivery
        (f"{D1}/service_activities.csv", 12, "unknown_customer"): False,
        # final: only an unknown customer can still be resolved by a later delivery
        (f"{D2}/orders.csv", 3, "invalid_number"): False,
    }


def test_rerun_changes_nothing(loaded, capsys):
    _, landing, warehouse = loaded
    before = file_sha256(warehouse)
    code = main(["load", "--landing", str(landing), "--warehouse", str(warehouse)])
    assert code == 0
    assert "nothing new" in capsys.readouterr().out
    assert file_sha256(warehouse) == before


def _marts_fingerprint(warehouse):
    tables = [r[0] for r in _q(warehouse, "select table_name from information_schema.tables "
                                          "where table_schema = 'marts' order by 1")]
    return {t: sorted(map(repr, _q(warehouse, f"select * from marts.{t}"))) for t in tables}


def test_incremental_loading_equals_a_fresh_full_load(loaded, tmp_path):
    _, _, full = loaded
    landing = tmp_path / "landing"
    warehouse = tmp_path / "warehouse.duckdb"
    for folder in (D1, D2, D3):  # one night at a time
        write_delivery(landing, folder)
        outcome = run_load(landing, warehouse)
        assert outcome.exit_code == 0, outcome.error
        assert outcome.loaded == [folder]
    assert end_state(warehouse) == end_state(full)
    # the last night was a build over the delta: a fact's data tests read the touched keys'
    # rows only, those that carry the build's number, which the night published as its
    # catalog version; a mart without an extract's key is tested whole (the columns of each
    # relation looked up once per dbt run: macros/incremental/data_tests_scope.sql)
    target = Store(warehouse, "duckdb").dbt_target
    compiled = target / "compiled"
    version = _q(warehouse, "select version from meta.catalog")[0][0]
    fact = next(compiled.rglob("column_rules_fct_service_activities.sql")).read_text()
    assert f"tested.written_in_build = {version})" in fact
    assert "cvm_delta" not in fact
    assert_the_build_number_marks_the_touched_rows(Store(warehouse, "duckdb").engine_database,
                                                   version)
    mart = next(compiled.rglob("column_rules_customer_value.sql")).read_text()
    assert 'from "cvm_engine"."marts"."customer_value"\n' in mart
    assert "cvm_delta" not in mart
    assert_delta_tests_read_the_touched_rows(Store(warehouse, "duckdb").engine_database,
                                             compiled, tmp_path / "scope")
    assert_delta_tests_read_the_added_raw_rows(Store(warehouse, "duckdb").engine_database,
                                               compiled, tmp_path / "raw-scope")
    assert_relationships_to_the_fact_read_its_rows_of_this_build(
        Store(warehouse, "duckdb").engine_database, compiled, tmp_path / "parent-scope",
        version)
    # of dbt's JSON artifacts, only the run results of the last part (lib/dbt_child.py)
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert any(r["unique_id"] == "model.customer_value_warehouse.customer_value"
               and r["status"] == "success" for r in results)
    assert not (target / "manifest.json").exists()


def assert_the_build_number_marks_the_touched_rows(engine, version: int) -> None:
    """In the engine's database after a build over the delta numbered `version`: the rows of
    the staged extracts and the facts that carry its number are the touched keys' rows (the
    keys of the files the build added or retired, as the orchestration listed them before
    dbt ran), and no other; each also holds rows of earlier builds."""
    con = duckdb.connect(str(engine), read_only=True)
    try:
        for relation, keys, key in (
                ("staging.stg_service_log__service_activities", "service_activities_keys",
                 "activity_id"),
                ("marts.fct_service_activities", "service_activities_keys", "activity_id"),
                ("staging.stg_crm__orders", "orders_keys", "order_id || '/' || line_no"),
                ("marts.fct_order_lines", "orders_keys", "order_id || '/' || line_no")):
            marked = {r[0] for r in con.execute(
                f"select {key} from {relation} where written_in_build = ?", [version]
            ).fetchall()}
            touched = {r[0] for r in con.execute(
                f"select {key} from {relation} where ({key}) in "
                f"(select {key} from cvm_delta.{keys})").fetchall()}
            earlier = con.execute(f"select max(written_in_build) from {relation} "
                                  "where written_in_build <> ?", [version]).fetchone()[0]
            assert marked and marked == touched, (relation, len(marked), len(touched))
            assert earlier is not None and earlier < version, (relation, earlier)
    finally:
        con.close()


def assert_delta_tests_read_the_added_raw_rows(engine, compiled, folder) -> None:
    """The test of the activities as delivered (source raw.service_activities), as a build over
    the delta compiled it, reads the rows of the raw files that build added
    (`cvm_delta.service_activities`), not the raw zone: run on a copy of the engine's database
    in which those rows are the night's with one activity's key taken away, it finds that
    row; a key taken away from the raw zone's other rows is not its concern."""
    rules = next(compiled.rglob("column_rules_service_log_service_activities.sql")).read_text()
    assert '"cvm_delta"."service_activities" as tested' in rules
    assert '"raw"."service_activities"' not in rules
    folder.mkdir()
    copy = folder / engine.name
    shutil.copy(engine, copy)
    con = duckdb.connect(str(copy))
    try:
        added = con.execute("select count(*) from cvm_delta.service_activities").fetchone()[0]
        assert 0 < added < con.execute("select count(*) from raw.service_activities").fetchone()[0]
        assert con.execute(rules).fetchall() == []
        con.execute("create or replace table night as select * from cvm_delta.service_activities")
        con.execute("update night set activity_id = null where activity_id = "
                    "(select min(activity_id) from night)")
        con.execute("create or replace view cvm_delta.service_activities as select * from night")
        assert con.execute(rules).fetchall() == [("not_null", "activity_id", "NULL", 1)]
    finally:
        con.close()


def assert_relationships_to_the_fact_read_its_rows_of_this_build(engine, compiled, folder,
                                                                 version: int) -> None:
    """The rules of the ledger and of the cockpit, as a build over the delta numbered `version`
    compiled them, look up their activities among the fact's rows that carry that number (the
    tested rows are the touched activities', and the build wrote every touched activity's row
    of the fact), and their customers in the whole dimension. The narrowed rule still finds a
    missing parent: run on a copy of the engine's database in which the ledger is a table of
    its rows (as on an engine where it is one) and a touched and an untouched activity of it
    are gone from the fact, the ledger's rules name the touched one; the untouched one is not
    among the rows a build over the delta tests."""
    for name in ("fct_value_transfers", "customer_cockpit"):
        rules = next(compiled.rglob(f"column_rules_{name}.sql")).read_text()
        assert re.search(r'select activity_id as parent_key from "cvm_engine"\."marts"\.'
                         r'"fct_service_activities" as parent_rows\s+where '
                         rf'parent_rows\.written_in_build = {version}\) as parent', rules), name
        assert ('select customer_id as parent_key from "cvm_engine"."marts"."dim_customers")'
                ' as parent') in rules, name
    folder.mkdir()
    copy = folder / engine.name  # the compiled SQL names the database by its file's stem
    shutil.copy(engine, copy)
    rules = next(compiled.rglob("column_rules_fct_value_transfers.sql")).read_text()
    con = duckdb.connect(str(copy))
    try:
        assert con.execute(rules).fetchall() == []
        con.execute("create table marts.ledger_rows as select * from marts.fct_value_transfers")
        con.execute("drop view marts.fct_value_transfers")
        con.execute("alter table marts.ledger_rows rename to fct_value_transfers")
        touched_keys = "select activity_id from cvm_delta.service_activities_keys"
        touched, untouched = (con.execute(
            f"select min(activity_id) from marts.fct_value_transfers "
            f"where activity_id {kind} ({touched_keys})").fetchone()[0]
            for kind in ("in", "not in"))
        assert touched and untouched
        con.execute("delete from marts.fct_service_activities where activity_id in (?, ?)",
                    [touched, untouched])
        assert con.execute(rules).fetchall() == [("relationships", "activity_id", touched, 1)]
    finally:
        con.close()


def test_the_published_facts_leave_out_the_build_number(loaded):
    _, _, full = loaded
    for fact in ("fct_service_activities", "fct_order_lines", "fct_value_transfers"):
        columns = [r[0] for r in _q(full, f"describe select * from marts.{fact}")]
        assert "line_number" in columns and "written_in_build" not in columns, (fact, columns)


def assert_delta_tests_read_the_touched_rows(engine, compiled, folder) -> None:
    """The fact's tests as a build over the delta compiled them, run on a copy of the engine's
    database in which one touched and one untouched activity are broken twice: each row
    doubled (breaks the rule `unique`) and its value transfer raised by 1 EUR as a free
    transfer (breaks the expression that a free transfer is the full standard cost, twice:
    the row is doubled). The rules of the test read the touched rows once (a materialized
    CTE), the expression those of them that are free transfers: both rules report the touched
    activity, neither the untouched one."""
    folder.mkdir()
    copy = folder / engine.name  # the compiled SQL names the database by its file's stem
    shutil.copy(engine, copy)
    rules = next(compiled.rglob("column_rules_fct_service_activities.sql")).read_text()
    assert "touched_rows as materialized" in rules
    con = duckdb.connect(str(copy))
    try:
        touched_keys = "select activity_id from cvm_delta.service_activities_keys"
        # priced ones: an unpriced activity made a free transfer would break the expression
        # of the unpriced too
        touched = con.execute(f"select min(activity_id) from marts.fct_service_activities "
                              f"where is_priced and activity_id in ({touched_keys})"
                              ).fetchone()[0]
        untouched = con.execute(f"select min(activity_id) from marts.fct_service_activities "
                                f"where is_priced and activity_id not in ({touched_keys})"
                                ).fetchone()[0]
        assert touched and untouched
        for activity in (touched, untouched):
            con.execute("update marts.fct_service_activities set transfer_kind = 'free', "
                        "value_transfer_eur = standard_cost_eur + 1, billed_amount_eur = 0 "
                        "where activity_id = ?", [activity])
            con.execute("insert into marts.fct_service_activities select * from "
                        "marts.fct_service_activities where activity_id = ?", [activity])
        broken = sorted(con.execute(rules).fetchall())
        assert broken == [("expression", "free_transfers_full_standard_cost", touched, 2),
                          ("unique", "activity_id", touched, 2)], broken
    finally:
        con.close()


def test_refused_file_fails_loudly_and_leaves_published_file_alone(loaded, tmp_path, capsys):
    _, landing_all, full = loaded
    landing = tmp_path / "landing"
    shutil.copytree(landing_all, landing)
    warehouse = tmp_path / "warehouse.duckdb"
    assert run_load(landing, warehouse).exit_code == 0
    before = file_sha256(warehouse)
    bad = landing / "2026-11-23"
    bad.mkdir()
    (bad / "orders.csv").write_text(
        "order_id,line_no,customer_id,order_date,cost_of_goods_eur\nO20,1,C1,2026-11-22,5\n"
    )
    capsys.readouterr()
    code = main(["load", "--landing", str(landing), "--warehouse", str(warehouse)])
    out = capsys.readouterr().out
    assert code != 0
    assert "2026-11-23/orders.csv" in out and "net_revenue_eur" in out
    assert file_sha256(warehouse) == before


def _copy_state(loaded, tmp_path):
    """A copy of the loaded landing root, the published catalog and its store."""
    root, landing_all, full = loaded
    landing = tmp_path / "landing"
    shutil.copytree(landing_all, landing)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copytree(Store(full, "duckdb").root, Store(warehouse, "duckdb").root)
    shutil.copyfile(full, warehouse)
    return landing, warehouse


def _fourth_delivery(landing):
    folder = landing / "2026-11-23"
    folder.mkdir()
    text = (landing / D3 / "customers.csv").read_text(encoding="utf-8")
    rest = ",plant engineering,South,AM02,DE,2018-06-01,100000.00,,"
    renamed = text.replace(
        f"C2,Beta Anlagen AG{rest}2026-11-19T08:00:00",
        f"C2,Beta Anlagen SE{rest}2026-11-22T08:00:00",  # a later change in the CRM
    )
    assert renamed != text
    (folder / "customers.csv").write_text(renamed)


def test_failing_blocking_dbt_test_stops_everything_downstream(loaded, tmp_path):
    landing, warehouse = _copy_state(loaded, tmp_path)
    before = file_sha256(warehouse)
    _fourth_delivery(landing)
    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_DIR / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs")
    )
    # an error-severity test on the value-transfer model that fails on every priced activity
    (project / "tests" / "injected_blocking_failure.sql").write_text(
        "select activity_id from {{ ref('int_activities_value_transfer') }} where is_priced\n"
    )
    outcome = run_load(landing, warehouse, dbt_project_dir=project)
    assert outcome.exit_code == 1
    assert "injected_blocking_failure" in outcome.error
    # upstream of the failed test built; everything downstream of it did not, nor did publish
    assert "staging/stg_service_log__service_activities" in outcome.materialized
    for key in ("marts/fct_service_activities", "marts/customer_value",
                "marts/customer_cockpit", "published_warehouse"):
        assert key not in outcome.materialized
    assert file_sha256(warehouse) == before
    # the next run does not build on what the failed one left in the engine's database: it
    # builds everything again from the published raw files, and publishes the fourth delivery
    lines = []
    outcome = run_load(landing, warehouse, echo=lines.append)
    assert outcome.exit_code == 0, outcome.error
    assert any("full build: the working database is not the published state" in line
               for line in lines), lines
    assert _marts_fingerprint(warehouse)["dim_customers"] != _marts_fingerprint(
        loaded[2])["dim_customers"]  # C2's new name


def test_a_refused_file_publishes_nothing_of_its_delivery_later(loaded, tmp_path, capsys):
    """A delivery whose orders.csv is refused brings a valid customers.csv too. The run fails
    and publishes nothing; once the folder is taken away, the next run has nothing new: the
    customers of the refused delivery were never loaded into what it builds on."""
    landing, warehouse = _copy_state(loaded, tmp_path)
    before = file_sha256(warehouse)
    _fourth_delivery(landing)  # customers.csv: C2 renamed
    (landing / "2026-11-23" / "orders.csv").write_text(
        "order_id,line_no,customer_id,order_date,cost_of_goods_eur\nO20,1,C1,2026-11-22,5\n"
    )
    assert run_load(landing, warehouse).exit_code == 1
    assert file_sha256(warehouse) == before
    shutil.rmtree(landing / "2026-11-23")
    lines = []
    assert run_load(landing, warehouse, echo=lines.append).exit_code == 0
    assert "nothing new" in lines[-1]
    assert file_sha256(warehouse) == before
    assert _q(warehouse, "select customer_name from marts.dim_customers "
                         "where customer_id = 'C2'") == [("Beta Anlagen AG",)]


def test_analyst_keeps_reading_while_the_nightly_load_publishes(loaded, tmp_path):
    landing, warehouse = _copy_state(loaded, tmp_path)
    analyst = duckdb.connect(str(warehouse), read_only=True)
    try:
        _fourth_delivery(landing)
        outcome = run_load(landing, warehouse)
        assert outcome.exit_code == 0, outcome.error
        assert outcome.loaded == ["2026-11-23"]
        # the open connection still sees the file as it was when it was opened
        assert analyst.execute(
            "select customer_name from marts.dim_customers where customer_id = 'C2'"
        ).fetchone() == ("Beta Anlagen AG",)
    finally:
        analyst.close()
    assert _q(warehouse, "select customer_name from marts.dim_customers "
                         "where customer_id = 'C2'") == [("Beta Anlagen SE",)]


def test_full_refresh_and_vars_from_the_command_line(loaded, tmp_path, capsys):
    landing, warehouse = _copy_state(loaded, tmp_path)
    args = ["load", "--landing", str(landing), "--warehouse", str(warehouse)]
    before = file_sha256(warehouse)
    # vars that are no mapping: a clear error, nothing run
    assert main([*args, "--vars", "period_grain quarter"]) == 2
    assert "expected a mapping such as '{period_grain: quarter}'" in capsys.readouterr().out
    assert file_sha256(warehouse) == before
    # nothing delivered, but a full refresh with quarters for this run
    assert main([*args, "--full-refresh", "--vars", "{period_grain: quarter}"]) == 0
    assert "rebuilding every model from the raw zone, as asked" in capsys.readouterr().out
    # 2026 in quarters: C1, C2 in Q1 (O4, O5, A4, A6); C1, C3 in Q2 (A10, O6, O9, A7, A8);
    # C4 in Q3 (O7, A9); C5 in Q4 (O8, A11)
    rows = _q(warehouse, "select period_start::varchar, period_end::varchar, "
                         "list(customer_id order by customer_id) from marts.customer_value "
                         "where year(period_start) = 2026 group by all order by 1")
    assert rows == [("2026-01-01", "2026-03-31", ["C1", "C2"]),
                    ("2026-04-01", "2026-06-30", ["C1", "C3"]),
                    ("2026-07-01", "2026-09-30", ["C4"]),
                    ("2026-10-01", "2026-12-31", ["C5"])]


def test_a_re_delivery_wins_by_its_instant_not_its_wall_clock(loaded, tmp_path):
    """A fourth delivery holds O1/1 twice, in the autumn hour Berlin lives through twice:
    111.00 at 02:10+01:00 (01:10 UTC) and 222.00 at 02:50+02:00 (00:50 UTC). Every version of
    O1/1 carries updated_at (the first, 2025-03-10 10:00 Berlin, is 09:00 UTC), so the latest
    instant wins: 111.00, though its wall-clock time 02:10 is the earlier one."""
    landing, warehouse = _copy_state(loaded, tmp_path)
    folder = landing / "2026-11-23"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_id,line_no,customer_id,order_date,product_group,net_revenue_eur,"
        "cost_of_goods_eur,updated_at\n"
        "O1,1,C1,2025-03-10,pumps,111.00,60.00,2025-10-26T02:10:00+01:00\n"
        "O1,1,C1,2025-03-10,pumps,222.00,60.00,2025-10-26T02:50:00+02:00\n",
        encoding="utf-8",
    )
    outcome = run_load(landing, warehouse)
    assert outcome.exit_code == 0, outcome.error
    assert _q(warehouse, "select net_revenue_eur from marts.fct_order_lines "
                         "where order_id = 'O1'") == [(Decimal("111.00"),)]
