"""`cvm load --engine spark`: the same job on Apache Spark gives the same published marts.

The three deliveries of tests/e2e_fixtures.py (half-cent ties, a potential of 40 million,
a German export, a correction, a cancellation, held rows released by a later snapshot) are
loaded
- on DuckDB, in one load (tests/conftest.py: e2e_duckdb);
- on Spark, in one load (e2e_spark: a full build; tests/system/test_end_to_end.py asserts its
  values, worked out by hand, on both engines);
- on Spark night by night, on a standalone cluster (spark_cluster_fixtures.py: a master, a
  worker and its executors, each a process of its own): the first two deliveries
  (`cvm load --engine spark`, a full build), then the third (`CVM_ENGINE=spark cvm load`, an
  incremental night over the delta). The driver, in dbt's process, runs the on-run-start
  hook's statements (the raw views); the executors read the views' files and overwrite the
  facts' partitions; the load exports the marts they wrote. Each slow load runs once: the
  full build on the local session, the nights on the cluster.

Then, for every mart table of the catalog:
- Spark's marts equal DuckDB's, checksum-equal with money rounded to cents (decimals to 2
  places; doubles, the shares, to 6) and with the same column names and types;
- Spark's incremental night equals Spark's full build, row for row, exactly.
The analyst's catalog is one DuckDB file either way, and Spark leaves no file in the working
directory, nor in the executors' own.

A period that a delivery leaves without rows goes (tests/nightly_fixtures.py): by quarters, D1
on Spark, then a delivery that cancels every activity of a month, then one that moves every
order line of a quarter into the next quarter, each an incremental night; after each night
Spark's marts equal, to the cent, DuckDB's full build of the same deliveries.
"""

from __future__ import annotations

import contextlib
import io
import os

import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.clv import build as clv_build
from orchestration.lib.clv import payback
from orchestration.lib.warehouse import build_state, catalog
from orchestration.lib.warehouse.store import Store
from tests.dbt.test_incremental import end_state
from tests.dbt_engine_fixtures import PROJECT
from tests.e2e_fixtures import D1, D2, D3, write_delivery
from tests.nightly_fixtures import (
    EMPTIED,
    QUARTERS,
    write_emptied_month,
    write_emptied_quarter,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def marts_checksums(warehouse, every_date: bool = False) -> dict[str, tuple]:
    """table -> (columns and types, rows, checksum of the rows with money rounded to cents);
    customer_equity's latest as-of date only, unless `every_date`."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1").fetchall()]
        found = {}
        for table in tables:
            columns = [(r[0], r[1]) for r in con.execute(
                f"describe select * from marts.{table}").fetchall()]
            values = [f"round({name}, 2)" if kind.startswith("DECIMAL")
                      else f"round({name}, 6)" if kind == "DOUBLE" else name
                      for name, kind in columns]
            # customer_equity: its latest as-of date (several loads leave more history, kept
            # as each load computed it; one load computes every delivery's date itself)
            where = (" where as_of_date = (select max(as_of_date) from marts.customer_equity)"
                     if table == "customer_equity" and not every_date else "")
            rows, checksum = con.execute(
                f"select count(*), sum(hash({', '.join(values)})::hugeint) "
                f"from marts.{table}{where}").fetchone()
            found[table] = (columns, rows, checksum)
        return found
    finally:
        con.close()


def _cvm(*args: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue().splitlines()


def _applications(cluster) -> list[dict]:
    state = cluster.state()
    return state["activeapps"] + state["completedapps"]


@pytest.fixture(scope="module")
def nights(tmp_path_factory, spark_cluster):
    root = tmp_path_factory.mktemp("spark_nights")
    landing, spark = root / "landing", root / "warehouse.duckdb"
    for folder in (D1, D2):
        write_delivery(landing, folder)
    work = root / "cwd"  # Spark must leave nothing in the directory it is started from
    work.mkdir()
    cwd = os.getcwd()
    os.chdir(work)
    apps = [_applications(spark_cluster)]  # the cluster's applications after each load
    try:
        with pytest.MonkeyPatch.context() as env:
            for name, value in spark_cluster.environment.items():
                env.setenv(name, value)
            code, first = _cvm("load", "--engine", "spark", "--landing", str(landing),
                               "--warehouse", str(spark))
            assert code == 0, "\n".join(first)
            apps.append(_applications(spark_cluster))
            write_delivery(landing, D3)
            env.setenv("CVM_ENGINE", "spark")
            code, second = _cvm("load", "--landing", str(landing), "--warehouse", str(spark))
            assert code == 0, "\n".join(second)
            apps.append(_applications(spark_cluster))
    finally:
        os.chdir(cwd)
    return {"spark": spark, "first": first, "second": second, "cwd": work, "apps": apps,
            "cluster": spark_cluster,
            "state": build_state.read_state(Store(spark, "spark").engine_database)}


def test_the_first_line_names_the_engine(nights):
    master = nights["cluster"].master_url
    assert master.startswith("spark://127.0.0.1:")
    assert nights["first"][0] == f"engine: spark ({master})"  # from CVM_SPARK_MASTER
    assert nights["second"][0] == f"engine: spark ({master})"  # and CVM_ENGINE


def test_the_nights_ran_on_the_cluster(nights):
    """Each load's dbt runs were applications of the cluster, which gave each an executor on
    the worker, a process of its own with its own working directory."""
    before, after_first, after_second = ({app["id"] for app in apps} for apps in nights["apps"])
    first, second = after_first - before, after_second - after_first
    assert first and second
    apps = {app["id"]: app for app in nights["apps"][-1] if app["id"] in first | second}
    assert {app["name"] for app in apps.values()} == {"customer-value-warehouse"}
    assert {app["state"] for app in apps.values()} == {"FINISHED"}
    work = nights["cluster"].work_dir
    executors = {app: list((work / app).iterdir()) for app in apps}
    assert all(len(found) >= 1 for found in executors.values()), executors
    assert all((d / "stderr").is_file() for found in executors.values() for d in found)


def test_the_night_was_incremental_on_spark(nights):
    state = nights["state"]
    assert state.is_finished and not state.is_full
    assert any("dbt incremental build" in line for line in nights["second"])


@pytest.mark.parametrize("load", ["full", "nights"])
def test_spark_marts_equal_duckdb_marts_to_the_cent(load, request, e2e_duckdb):
    spark = (request.getfixturevalue("e2e_spark")[2] if load == "full"
             else request.getfixturevalue("nights")["spark"])
    every_date = load == "full"  # one load on each engine: every delivery's as-of date
    duck, found = marts_checksums(e2e_duckdb[2], every_date), marts_checksums(spark, every_date)
    assert sorted(found) == sorted(duck)
    # every mart of the project: dbt's models, the purchase model's tables, segment_payback
    assert sorted(duck) == sorted(
        [path.stem for path in (PROJECT / "models" / "marts").glob("*.sql")]
        + list(clv_build.TABLES) + list(payback.TABLES))
    for table, (columns, rows, checksum) in duck.items():
        # empty only where the fixture lacks the input: too few customers to fit a model, no
        # capacity data in the seed
        assert rows > 0 or table in {"clv_model", "department_capacity"}, table
        assert found[table] == (columns, rows, checksum), table


def test_an_incremental_night_on_spark_equals_a_full_spark_build(nights, e2e_spark):
    assert end_state(nights["spark"]) == end_state(e2e_spark[2])


def test_the_catalog_names_only_files_of_its_store(nights):
    """The published marts are files of the store, never Spark's own table files: a run that
    fails later can leave Spark's tables changed, the catalog is unchanged."""
    spark = nights["spark"]
    store = Store(spark, "spark")
    con = duckdb.connect(str(spark), read_only=True)
    try:
        files = [p for paths in catalog.mart_files(con).values() for p in paths]
    finally:
        con.close()
    assert files and all(p.startswith("marts/") for p in files)
    assert all(store.path(p).is_file() for p in files)


def test_spark_leaves_nothing_in_the_working_directory(nights):
    assert list(nights["cwd"].iterdir()) == []
    # nor in the executors' working directories: every path Spark writes is the store's
    work = nights["cluster"].work_dir
    left = {p.name for p in work.glob("app-*/*/*")}
    assert left == {"stdout", "stderr"}, left
    spark_dir = Store(nights["spark"], "spark").spark_dir
    assert (spark_dir / "metastore_db").is_dir() and (spark_dir / "derby.log").is_file()


EMPTYING = (write_emptied_month, write_emptied_quarter)


def _rows(warehouse, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def emptied_periods(tmp_path_factory):
    """One Spark load sequence by quarters: D1 (a full build), then each delivery of EMPTYING
    (an incremental night). After each night: Spark's marts, and those of DuckDB's full build
    (one load, a new warehouse) of the same deliveries."""
    root = tmp_path_factory.mktemp("spark_emptied")
    landing, spark = root / "landing", root / "warehouse.duckdb"
    write_delivery(landing, D1)
    work = root / "cwd"
    work.mkdir()
    cwd = os.getcwd()
    nights = []
    try:
        for number, write in enumerate((None, *EMPTYING)):
            if write is not None:
                write(landing)
            os.chdir(work)
            try:
                code, lines = _cvm("load", "--engine", "spark", "--vars", QUARTERS,
                                   "--landing", str(landing), "--warehouse", str(spark))
            finally:
                os.chdir(cwd)
            assert code == 0, "\n".join(lines)
            state = build_state.read_state(Store(spark, "spark").engine_database)
            assert state.is_full is (number == 0), (number, lines)
            if number == 0:
                continue
            full_landing, full = root / f"landing{number}", root / f"full{number}.duckdb"
            write_delivery(full_landing, D1)
            for earlier in EMPTYING[:number]:
                earlier(full_landing)
            code, lines = _cvm("load", "--engine", "duckdb", "--vars", QUARTERS,
                               "--landing", str(full_landing), "--warehouse", str(full))
            assert code == 0, "\n".join(lines)
            nights.append({
                "spark": marts_checksums(spark), "full": marts_checksums(full),
                "facts": _rows(spark, "select 'activity', activity_id, period_start::varchar "
                                      "from marts.fct_service_activities where activity_id "
                                      f"= 'A2' or period_start = '{EMPTIED}' union all "
                                      "select 'order line', order_id, period_start::varchar "
                                      "from marts.fct_order_lines where order_id = 'O3' "
                                      f"or period_start = '{EMPTIED}' order by 1")})
    finally:
        os.chdir(cwd)
    return nights


@pytest.mark.parametrize("night", [0, 1], ids=["emptied_month", "emptied_quarter"])
def test_a_period_left_without_rows_goes_on_spark_as_in_a_full_build(emptied_periods, night):
    found = emptied_periods[night]
    assert sorted(found["spark"]) == sorted(found["full"])
    for table, expected in found["full"].items():
        assert found["spark"][table] == expected, table
    # A2, the quarter's only activity, cancelled; O3, its only order line, still there (first
    # night), then moved into the next quarter: the quarter keeps no row
    assert found["facts"] == [
        [("order line", "O3", EMPTIED)], [("order line", "O3", "2025-10-01")]][night]
