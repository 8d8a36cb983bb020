"""An incremental night gives exactly what a full rebuild gives.

Night after night, `cvm load` builds only what the delta touches and rewrites only the touched
months of the partitioned marts. After every incremental night the published marts are
compared, table by table and row by row, with marts that dbt builds from scratch
(`--full-refresh`, a new database) over the same raw files. The nights
(tests/e2e_fixtures.py, tests/nightly_fixtures.py):

1. D1: the first build (full);
2. D2 (German export): corrections of an order line and an activity, a cancellation;
3. D3: a customers snapshot that releases two held unknown_customer rows;
4. D4: late records for 2025, a correction, an activity moved to another month and period,
   a cancellation, a snapshot that changes customer_since and annual_potential_eur;
5. D4 delivered again, corrected: its earlier raw files are retired, keys only they held
   go, keys they changed fall back to their earlier versions;
6. a changed standard cost rate (seed) and new capacity data of a department (the landing
   root's reference/capacity_inputs.csv): the rules changed, so a full build, by itself;
   every fact is costed again, as a derived rate may price any activity of the department;
7. a delivery from 1998: the partitions are the deliveries, whatever their date (an
   incremental night with the capacity data in effect, equal to a full rebuild with it);
8. `--vars '{period_grain: quarter}'`: the rules changed again, a full build by itself;
9. by quarters, a delivery that cancels every activity of a month (September 2025, the only
   activity of 2025's third quarter): an incremental night;
10. by quarters, a delivery that moves every order line of that quarter into the next one, so
    the quarter is left without any row: an incremental night; a period that a delivery
    leaves without rows goes, as in a full rebuild (tests/nightly_fixtures.py; D2, D3, D4
    and 1998 put nothing in that quarter);
11. back without the var: a full build by itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.clv import build as clv
from orchestration.lib.clv import payback
from orchestration.lib.landing import sha256_of
from orchestration.lib.warehouse import build_state, catalog
from orchestration.lib.warehouse.dbt_build import PARTS
from orchestration.lib.warehouse.fingerprint import effective_vars
from orchestration.lib.warehouse.marts import ENGINE_ONLY_COLUMNS
from orchestration.lib.warehouse.store import Store
from orchestration.runner import run_load
from orchestration.settings import PROJECT_DIR
from tests.e2e_fixtures import D1, D2, D3, write_delivery
from tests.nightly_fixtures import (
    D4,
    D1998,
    EMPTIED,
    EMPTIED_MONTH,
    EMPTIED_QUARTER,
    QUARTERS,
    write_1998,
    write_d4,
    write_emptied_month,
    write_emptied_quarter,
)

pytestmark = pytest.mark.slow

DBT = str(Path(sys.executable).with_name("dbt"))


def _rows(con, relation: str) -> list[str]:
    """The relation's rows, sorted, without the engine's own columns (a rebuilt engine's
    facts carry the number of the build that wrote each row; the published ones do not)."""
    columns = [r[0] for r in con.execute(f"describe select * from {relation}").fetchall()]
    kept = ", ".join(f'"{c}"' for c in columns if c not in ENGINE_ONLY_COLUMNS)
    return sorted(repr(row) for row in con.execute(f"select {kept} from {relation}").fetchall())


def published_marts(warehouse: Path) -> dict[str, list[str]]:
    """Every mart of the published catalog: its rows, sorted."""
    return _marts_of(warehouse)


def end_state(warehouse: Path) -> dict[str, list[str]]:
    """What a load leaves that does not depend on how many loads it took: every mart, but of
    marts.customer_equity (one set of rows per load's as-of date: its history) only the rows
    of the latest as-of date. Several loads leave more history than one load of the same
    deliveries; their latest figures are the same."""
    marts = _marts_of(warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        marts["customer_equity"] = _rows(
            con, "(select * from marts.customer_equity where as_of_date = "
                 "(select max(as_of_date) from marts.customer_equity))")
    finally:
        con.close()
    return marts


def rebuilt_marts(warehouse: Path, project: Path, tmp: Path, dbt_vars: str = "",
                  landing: Path | None = None) -> dict:
    """The marts dbt builds from scratch in a new database over the published raw files, with
    the vars of the load: its own and the reference files of its landing root.

    The database is made anew under `tmp` at the same path each time, and dbt's target folder
    `tmp/target` is kept: the next reference reads dbt's partial parse instead of parsing the
    project again (dbt parses again whatever a changed var or file touches)."""
    all_vars = effective_vars(dbt_vars, landing=landing)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        files = catalog.raw_files(con)
    finally:
        con.close()
    reference = Store(tmp / "reference.duckdb", "duckdb")  # its store: reference.store
    shutil.rmtree(reference.root, ignore_errors=True)
    reference.published.unlink(missing_ok=True)
    shutil.copytree(Store(warehouse, "duckdb").raw_dir, reference.raw_dir)
    build_state.prepare(reference, build_state.BuildPlan(True, "reference"), files, 0, "", "{}")
    env = {**os.environ, "CVM_WAREHOUSE": str(reference.engine_database)}

    def build(select: str, exclude: str | None) -> None:
        # the reference is only compared: its data tests would add nothing (the loads run
        # theirs), so they are left out with the unit tests
        command = [DBT, "build", "--full-refresh", "--exclude-resource-type", "unit_test",
                   "--exclude-resource-type", "test",
                   "--select", select, "--project-dir", str(project), "--profiles-dir",
                   str(project), "--target-path", str(tmp / "target"), "--log-path",
                   str(tmp / "logs")]
        command += ["--exclude", exclude] if exclude else []
        command += ["--vars", json.dumps(all_vars)] if all_vars else []
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:]

    # the load's order: the first part of the dbt build, the purchase model fitted on it,
    # the second part over its forecast, then customer_equity, whose earlier as-of dates are
    # the published ones and whose latest is recomputed
    build(*PARTS["facts"])
    clv.run(reference)
    build(*PARTS["customer_value"])
    clv.run_equity(reference.engine_database, warehouse)
    payback.run(reference.engine_database)  # segment_payback, on the rebuilt marts
    return _marts_of(reference.engine_database)


def _marts_of(database: Path) -> dict:
    """Every relation of schema marts in `database`: its rows, sorted."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1").fetchall()]
        return {name: _rows(con, f"marts.{name}") for name in names}
    finally:
        con.close()


def assert_same_marts(published: dict, rebuilt: dict) -> None:
    assert sorted(published) == sorted(rebuilt)
    for name in rebuilt:
        missing = sorted(set(rebuilt[name]) - set(published[name]))[:5]
        extra = sorted(set(published[name]) - set(rebuilt[name]))[:5]
        assert published[name] == rebuilt[name], (name, "missing:", missing, "extra:", extra)


def _build_kind(warehouse: Path) -> bool:
    """Whether the engine's last build was a full one."""
    return build_state.read_state(Store(warehouse, "duckdb").engine_database).is_full


def _last_load_log(warehouse: Path) -> list[str]:
    """The lines of the last load's dbt runs in the store's dbt log: its two parts are the last
    two dbt runs there (with the statements they ran, where the file log is at level debug)."""
    lines = (Store(warehouse, "duckdb").dbt_target / "dbt.log").read_text(
        encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if "Running with dbt=" in line]
    return lines[starts[-2]:]


def _views_made(warehouse: Path) -> set[str]:
    """The views the last load's dbt made."""
    return {made.group(1) for line in _last_load_log(warehouse)
            if (made := re.search(r"created sql view model \w+\.(\w+)", line))}


# the views under the facts that show the touched keys only in a delta build and every row in
# a full one (macro in_delta_scope): made again in every build
SCOPED_VIEWS = {"int_activities_costed", "int_order_lines"}


def _project_copy(folder: Path) -> Path:
    """The dbt project copied into `folder`: its rules' fingerprint stays what the test's
    loads saw, whatever is edited in the working tree meanwhile."""
    project = folder / "dbt_project"
    shutil.copytree(PROJECT_DIR / "dbt_project", project,
                    ignore=shutil.ignore_patterns("target", "logs"))
    return project


def _one(warehouse: Path, sql: str):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_incremental_night_equals_a_full_rebuild(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    warehouse = tmp_path / "warehouse.duckdb"
    project = _project_copy(tmp_path)
    lines: list[str] = []

    def night(number: int, dbt_vars: str = "", expect_full: bool = False) -> None:
        lines.clear()
        with monkeypatch.context() as patched:
            if number == 2:  # the statements of the first delta build, in the dbt log
                patched.setenv("DBT_LOG_LEVEL_FILE", "debug")
            outcome = run_load(landing, warehouse, echo=lines.append,
                               dbt_project_dir=project, dbt_vars=dbt_vars)
        assert outcome.exit_code == 0, (number, outcome.error)
        assert _build_kind(warehouse) is expect_full, number
        # a build over the delta keeps the views as the last build made them (their SQL is
        # the same), and the marts they feed equal a full build's all the same; but it makes
        # the views under the facts again, whose SQL in a full build shows every row
        made = _views_made(warehouse)
        assert made > SCOPED_VIEWS if expect_full else made == SCOPED_VIEWS, (number, made)
        # a full build reads the delivered versions again for each reader; a delta build lets
        # DuckDB keep its copy of the touched keys' few versions (macro inline_in_full_build)
        staged = next((Store(warehouse, "duckdb").dbt_target / "run").rglob("stg_crm__orders.sql"))
        assert ("as not materialized (" in staged.read_text(encoding="utf-8")) is expect_full
        if not expect_full:
            # the costing view shows the delta's touched keys only, so that the night costs
            # no activity it did not touch: exactly the fact's rows of those keys
            engine = Store(warehouse, "duckdb").engine_database
            touched = ("exists (select 1 from cvm_delta.service_activities_keys as k "
                       "where k.activity_id = c.activity_id)")
            assert _one(engine, "select count(*) from intermediate.int_activities_costed as c "
                                f"where not {touched}") == [(0,)], number
            assert _one(engine, "select count(*) from intermediate.int_activities_costed") == (
                _one(engine, f"select count(*) from marts.fct_service_activities as c "
                             f"where {touched}")), number
            # the data tests of a relation with the keys of service_activities read the
            # touched keys' rows only: the fact's, those that carry the night's number (the
            # catalog version it published); those of a relation without them read every row
            executed = Store(warehouse, "duckdb").dbt_target / "run"
            tests = {path.stem: path.read_text(encoding="utf-8")
                     for path in executed.rglob("column_rules_*.sql")}
            version = _one(warehouse, "select version from meta.catalog")[0][0]
            fact_rules = tests["column_rules_fct_service_activities"]
            assert f"tested.written_in_build = {version})" in fact_rules, number
            assert "service_activities_keys" not in fact_rules, number
            assert "_keys" not in tests["column_rules_dim_customers"], number
            if number == 2:
                # the tests' columns come from one read of the catalog per part, not from a
                # lookup of each relation (dbt-duckdb's `describe` of it; the incremental
                # models make their own)
                statements = _last_load_log(warehouse)
                assert any("from information_schema.columns where table_catalog" in line
                           for line in statements)
                looked_up = [re.findall(r'"node_name": "(\w+)"', line)
                             for line in statements if "from (describe " in line
                             and '"unique_id": "test.' in line]
                assert not looked_up, looked_up
            reference = rebuilt_marts(warehouse, project, tmp_path / "reference", dbt_vars,
                                      landing)
            assert_same_marts(published_marts(warehouse), reference)

    # 1-3: the end-to-end deliveries, one night each
    write_delivery(landing, D1)
    night(1, expect_full=True)
    # the store's first build found the parse made during the ingest (dbt_build.
    # parsing_ahead): its dbt parsed only what changed (nothing), where it would parse it all
    dbt_log = (Store(warehouse, "duckdb").dbt_target / "dbt.log").read_text(encoding="utf-8")
    assert dbt_log.count("Running with dbt=") == 3  # the parse and the build's two parts
    assert "Unable to do partial parsing" not in "\n".join(_last_load_log(warehouse))
    write_delivery(landing, D2)
    night(2)
    write_delivery(landing, D3)
    night(3)
    assert _one(warehouse, "select count(*) from marts.fct_order_lines "
                           "where order_id = 'O8'") == [(1,)]  # released by D3
    # C2's region: South (D1), Süd (D2, updated 2026-11-20); D3 repeats South with the older
    # updated_at of D1, a stale snapshot: no new version. 2025 ended before the first
    # snapshot (its first version stands in); 2026 runs, as of data_through (D3): Süd.
    assert _one(warehouse, "select version_number, valid_from::varchar, valid_to::varchar, "
                           "region from marts.dim_customers_history where customer_id = 'C2' "
                           "order by 1") == [(1, D1, D2, "South"), (2, D2, None, "Süd")]
    assert _one(warehouse, "select count(*) from marts.dim_customers_history") == [(6,)]
    assert _one(warehouse, "select period_start::varchar, region_in_period, region "
                           "from marts.customer_value where customer_id = 'C2' order by 1") == [
        ("2025-01-01", "South", "Süd"), ("2026-01-01", "Süd", "Süd")]

    # 4: late records, a correction, a move to another month and period, a cancellation,
    # new customer attributes
    write_d4(landing)
    night(4)
    activity = dict(_one(warehouse, "select activity_id, period_start::varchar "
                                    "from marts.fct_service_activities"))
    assert activity["A7"] == "2025-01-01" and activity["A12"] == "2025-01-01"
    assert "A9" not in activity
    # C3 since 2025-06-01 is new in 2025: classic value = max(revenue 10,000, potential
    # 80,000 * 0.25 = 20,000) = 20,000
    assert _one(warehouse, "select is_new_customer, classic_value_eur from "
                           "marts.customer_value where customer_id = 'C3' "
                           "and period_start = '2025-01-01'") == [(True, Decimal("20000.0000"))]

    # 5: D4 again, corrected: O12 at 7,500; O4 back to its D1 version (120,000); A12 gone
    write_d4(landing, again=True)
    night(5)
    orders = dict(_one(warehouse, "select order_id, net_revenue_eur from marts.fct_order_lines"))
    # C3's new customer_since and potential (D4, twice) are not tracked: no new version
    assert _one(warehouse, "select count(*) from marts.dim_customers_history") == [(6,)]
    assert orders["O12"] == Decimal("7500.0000") and orders["O4"] == Decimal("120000.0000")
    assert _one(warehouse, "select count(*) from marts.fct_service_activities "
                           "where activity_id = 'A12'") == [(0,)]

    # 6: a new hourly rate for the hotline in 2026 (85.97 -> 90.00): nothing delivered, the
    # rules changed, so `cvm load` rebuilds everything by itself. A6: 60 min -> 90.00.
    rates = project / "seeds" / "standard_cost_rates.csv"
    text = rates.read_text(encoding="utf-8")
    assert text.count("85.97") == 1
    rates.write_text(text.replace("85.97", "90.00"), encoding="utf-8")
    # and controlling's capacity data for the academy in 2026, in the landing root's folder
    # reference/ (it replaces the seed's rows): 60,000.00 EUR for 75,000 * 0.80 = 60,000
    # practical minutes, 60.00 EUR per hour, derived for its activities of 2026
    capacity = landing / "reference" / "capacity_inputs.csv"
    capacity.parent.mkdir()
    capacity.write_text((project / "seeds" / "capacity_inputs.csv").read_text(encoding="utf-8")
                        + "ACAD-2026,academy,2026-01-01,2027-01-01,60000.00,75000,,,,0.80\n",
                        encoding="utf-8")
    night(6, expect_full=True)
    assert any("rules changed" in line for line in lines)
    assert _one(warehouse, "select standard_cost_eur from marts.fct_service_activities "
                           "where activity_id = 'A6'") == [(Decimal("90.00"),)]
    assert _one(warehouse, "select rate_id, rate_source from marts.fct_service_activities "
                           "where activity_id = 'A8'") == [("TRAINING-2026@ACAD-2026", "derived")]
    assert _one(warehouse, "select practical_minutes from marts.department_capacity "
                           "where department = 'academy'") == [(60000,)]

    # 7: a delivery from the 1990s loads (an incremental night under the new rate)
    write_1998(landing)
    night(7)
    assert _one(warehouse, "select count(*) from marts.customer_value "
                           "where period_start = '1998-01-01'") == [(1,)]

    # 8: quarters (a full build, by itself)
    night(8, dbt_vars=QUARTERS, expect_full=True)
    assert _one(warehouse, "select count(distinct period_start) from marts.customer_value "
                           "where year(period_start) = 2026") == [(4,)]
    # 2025's third quarter: D1's A2 (2025-09-15) and O3 (2025-07-01); the later deliveries
    # put nothing in it
    assert _one(warehouse, "select activity_id from marts.fct_service_activities "
                           f"where period_start = '{EMPTIED}'") == [("A2",)]
    assert _one(warehouse, "select order_id from marts.fct_order_lines "
                           f"where period_start = '{EMPTIED}'") == [("O3",)]

    # 9: every activity of September 2025 (A2) cancelled: the quarter has no activity left
    write_emptied_month(landing)
    night(9, dbt_vars=QUARTERS)
    assert _one(warehouse, "select count(*) from marts.fct_service_activities "
                           f"where period_start = '{EMPTIED}' or activity_id = 'A2'") == [(0,)]

    # 10: the quarter's one order line (O3) moved into the next quarter: nothing is left in it
    write_emptied_quarter(landing)
    night(10, dbt_vars=QUARTERS)
    assert _one(warehouse, "select period_start::varchar from marts.fct_order_lines "
                           "where order_id = 'O3'") == [("2025-10-01",)]
    assert _one(warehouse, "select count(*) from marts.fct_order_lines "
                           f"where period_start = '{EMPTIED}'") == [(0,)]

    # 11: years again (a full build, by itself)
    before = sha256_of(warehouse)
    night(11, expect_full=True)
    assert sha256_of(warehouse) != before
    assert _one(warehouse, "select count(distinct period_start) from marts.customer_value "
                           "where year(period_start) = 2026") == [(1,)]
    # and then nothing is new
    outcome = run_load(landing, warehouse, echo=lines.append, dbt_project_dir=project)
    assert outcome.exit_code == 0 and "nothing new" in lines[-1]
    assert catalog.read_state(warehouse).version == 11
    assert {D1, D2, D3, D4, D1998, EMPTIED_MONTH, EMPTIED_QUARTER} <= {row[0] for row in _one(
        warehouse, "select distinct extract_date::varchar from audit.load_log")}
