"""`cvm load --engine spark`: the same job on Apache Spark gives the same published marts.

The three deliveries of tests/e2e_fixtures.py (half-cent ties, a potential of 40 million,
a German export, a correction, a cancellation, held rows released by a later snapshot) are
loaded
- on DuckDB, in one load (tests/conftest.py: e2e_duckdb);
- on Spark, in one load (e2e_spark: a full build; tests/system/test_end_to_end.py asserts its
  values, worked out by hand, on both engines);
- on Spark night by night, on a standalone cluster (spark_cluster_fixtures.py: a master, a
  worker and its executors, each a process of its own), by quarters, with Dagster's runs in
  PostgreSQL (postgres_fixtures.py): README "The three together". The first two deliveries
  (`cvm load --engine spark`, a full build), then the third with the next two
  (`CVM_ENGINE=spark cvm load`, an incremental night over the delta). The driver, in dbt's
  process, runs the on-run-start hook's statements (the raw views); the executors read the
  views' files and overwrite the facts' partitions; the load exports the marts they wrote.
  Then, night by night (fixture `nights`):
  - a period that a delivery leaves without rows goes (tests/nightly_fixtures.py): in the
    night after D3, one delivery cancels the third quarter of 2025's only activity, the next
    moves its only order line into the fourth quarter; during that night's build the executor
    is killed, the worker starts another and the load completes;
  - a delivery whose sum overflows fails a blocking test; its corrected file's load is stopped
    by SIGTERM while dbt builds; each time the published catalog and its files are
    byte-identical, and no load, dbt, driver or executor process is left; the next load
    completes.
  Each slow load runs once: the full build on the local session, the nights on the cluster.

Then, for every mart table of the catalog, Spark's marts equal DuckDB's (the local full build
that of the same deliveries, the cluster's last night one DuckDB load of the same landing, by
quarters): checksum-equal with money rounded to cents (decimals to 2 places; doubles, the
shares, to 6) and with the same column names and types. The analyst's catalog is one DuckDB
file either way, and Spark leaves no file in the working directory, nor in the executors' own.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.lib.clv import build as clv_build
from orchestration.lib.clv import payback
from orchestration.lib.warehouse import build_state, catalog
from orchestration.lib.warehouse.store import Store
from tests.dbt_engine_fixtures import PROJECT
from tests.e2e_fixtures import D1, D2, D3, write_delivery
from tests.nightly_fixtures import (
    EMPTIED,
    EMPTIED_MONTH,
    EMPTIED_QUARTER,
    ORDERS_HEADER,
    QUARTERS,
    write_emptied_month,
    write_emptied_quarter,
)
from tests.postgres_fixtures import dagster_home_on_postgres
from tests.spark_cluster_fixtures import group_members
from tests.system.test_interrupts import _cmdline, published_state

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


# with and after D3, the two deliveries of tests/nightly_fixtures.py that leave 2025's third
# quarter without rows, then a delivery whose first version fails a blocking test
FAILING = "2026-11-26"
FAILING_ORDERS = ORDERS_HEADER + (
    # each line fits DECIMAL(18,4); C1's fourth quarter of 2026, their sum 120,000,000,000,000,
    # does not: a blocking test fails on Spark (NULL money) as on DuckDB (refused cast)
    "O90,1,C1,2026-10-05,pumps,60000000000000.00,1.00,2026-11-25T10:00:00\n"
    "O90,2,C1,2026-10-06,pumps,60000000000000.00,1.00,2026-11-25T10:00:00\n")
FIXED_ORDERS = ORDERS_HEADER + (  # the same file, delivered again as it should have been
    "O90,1,C1,2026-10-05,pumps,6000.00,4000.00,2026-11-25T10:00:00\n"
    "O90,2,C1,2026-10-06,pumps,6000.00,4000.00,2026-11-25T10:00:00\n")
CVM = str(Path(sys.executable).with_name("cvm"))


def _write_orders(landing: Path, text: str) -> None:
    (landing / FAILING).mkdir(parents=True, exist_ok=True)
    (landing / FAILING / "orders.csv").write_text(text, encoding="utf-8")


def _emptied_facts(warehouse: Path) -> list[tuple]:
    return _rows(warehouse,
                 "select 'activity', activity_id, period_start::varchar "
                 "from marts.fct_service_activities "
                 f"where activity_id = 'A2' or period_start = '{EMPTIED}' union all "
                 "select 'order line', order_id, period_start::varchar from marts.fct_order_lines "
                 f"where order_id = 'O3' or period_start = '{EMPTIED}' order by 1")


def _spark_processes(cluster, root: Path) -> dict[str, list[int]]:
    """The executors on the cluster's worker, and every process of this warehouse's loads
    outside the cluster: `cvm load`, dbt and the Spark driver (their command lines name the
    warehouse's folder)."""
    executors = [pid for pid in group_members(cluster.worker.pid) if pid != cluster.worker.pid]
    drivers = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
               and int(p.name) != os.getpid() and str(root) in _cmdline(int(p.name))]
    return {"executors": executors, "drivers": drivers}


def _settled(cluster, root: Path, timeout: float = 60) -> dict[str, list]:
    """Wait until no application runs on the cluster and no process of the loads is left;
    what is still there then."""
    deadline = time.monotonic() + timeout
    while True:
        found = {**_spark_processes(cluster, root),
                 "apps": [app["id"] for app in cluster.state()["activeapps"]]}
        if not any(found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _start_load(landing: Path, warehouse: Path) -> subprocess.Popen:
    """`cvm load` as a process of its own, in the environment the test has set."""
    return subprocess.Popen(
        [CVM, "load", "--landing", str(landing), "--warehouse", str(warehouse)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _read_until(load: subprocess.Popen, marker: str) -> list[str]:
    lines = []
    for line in load.stdout:
        lines.append(line)
        if line.startswith(marker):
            return lines
    pytest.fail(f"the load ended before {marker!r}:\n" + "".join(lines))


@pytest.fixture(scope="module")
def nights(tmp_path_factory, spark_cluster, postgres_server):
    """One Spark warehouse on the cluster, by quarters (CVM_DBT_VARS), with Dagster's runs and
    events in PostgreSQL (DAGSTER_HOME): the configuration of README "The three together".
    Its loads, each as an operator runs them:
    1. D1 and D2: `cvm load --engine spark`, a full build;
    2. D3 (customers: C5, whose snapshot releases the held rows A11 and O8), 2026-11-24 (A2
       cancelled, 2025's third quarter left without activities) and 2026-11-25 (O3 moved into
       the fourth quarter, the third left without any row): `CVM_ENGINE=spark cvm load`, an
       incremental night over the three; while dbt builds, the executor is killed: the worker
       starts another, the load completes;
    3. 2026-11-26, orders whose sum overflows: a blocking test fails, the load exits 1;
    4. the file delivered again, corrected; a load stopped by SIGTERM while dbt builds;
    5. the load that completes it.
    Each Spark load costs minutes here, so the three deliveries of 2 share a night (the nights
    of tests/dbt/test_incremental.py load the two that empty the quarter one at a time, on
    DuckDB). No fact reads customers, and A11 and O8 lie in 2026's fourth quarter: the third
    quarter's partitions hold A2 and O3 alone among the touched keys, and are dropped for
    them (left in place, A2 or O3 would still be there and `emptied` would say so).
    After 3 and 4 the published catalog and its files are byte-identical to before, and no
    load, dbt, driver or executor process is left. The last load's marts are compared with one
    DuckDB load of the same landing into a new warehouse."""
    root = tmp_path_factory.mktemp("spark_nights")
    landing, spark = root / "landing", root / "warehouse.duckdb"
    for folder in (D1, D2):
        write_delivery(landing, folder)
    work = root / "cwd"  # Spark must leave nothing in the directory it is started from
    work.mkdir()
    cwd = os.getcwd()
    os.chdir(work)
    apps = [_applications(spark_cluster)]  # the cluster's applications after each load
    found = {"spark": spark, "cwd": work, "cluster": spark_cluster, "postgres": postgres_server,
             "home": root / "dagster_home"}
    try:
        with pytest.MonkeyPatch.context() as env:
            for name, value in {
                    **spark_cluster.test_environment, "CVM_DBT_VARS": QUARTERS,
                    **dagster_home_on_postgres(found["home"], postgres_server, "spark_nights"),
            }.items():
                env.setenv(name, value)
            code, found["first"] = _cvm("load", "--engine", "spark", "--landing", str(landing),
                                        "--warehouse", str(spark))
            assert code == 0, "\n".join(found["first"])
            apps.append(_applications(spark_cluster))
            # 2. D3 and a quarter left without activities, then without order lines, one
            # night; the executor lost while dbt builds
            write_delivery(landing, D3)
            write_emptied_month(landing)
            write_emptied_quarter(landing)
            env.setenv("CVM_ENGINE", "spark")
            load = _start_load(landing, spark)
            lines = _read_until(load, "  dbt ")
            deadline = time.monotonic() + 120
            while not (executors := _spark_processes(spark_cluster, root)["executors"]):
                assert time.monotonic() < deadline, "no executor started"
                time.sleep(0.5)
            time.sleep(3)  # at work
            for pid in executors:
                os.kill(pid, signal.SIGKILL)
            rest, _ = load.communicate(timeout=1800)
            found["second"] = ("".join(lines) + rest).splitlines()
            found["lost_executor"] = (load.returncode, "".join(lines) + rest, executors)
            assert load.returncode == 0, found["lost_executor"][1]
            apps.append(_applications(spark_cluster))
            found["state"] = build_state.read_state(Store(spark, "spark").engine_database)
            found["emptied"] = _emptied_facts(spark)

            # 3. a blocking test fails
            before = published_state(spark)
            _write_orders(landing, FAILING_ORDERS)
            found["failed"] = _cvm("load", "--landing", str(landing), "--warehouse", str(spark))
            found["after_failed"] = (published_state(spark) == before,
                                     _settled(spark_cluster, root))

            # 4. stopped while dbt builds
            _write_orders(landing, FIXED_ORDERS)
            load = _start_load(landing, spark)
            lines = _read_until(load, "  dbt ")
            time.sleep(5)  # dbt is under way
            os.kill(load.pid, signal.SIGTERM)
            rest, _ = load.communicate(timeout=300)
            found["stopped"] = (load.returncode, "".join(lines) + rest)
            found["after_stopped"] = (published_state(spark) == before,
                                      _settled(spark_cluster, root))

            # 5. the load that completes it
            code, found["last"] = _cvm("load", "--landing", str(landing),
                                       "--warehouse", str(spark))
            assert code == 0, "\n".join(found["last"])
            apps.append(_applications(spark_cluster))
            found["after_all"] = _settled(spark_cluster, root)
    finally:
        os.chdir(cwd)
    found["apps"] = apps
    # the clean load to compare with: the same landing, by quarters, on DuckDB
    clean_landing, found["clean"] = root / "clean" / "landing", root / "clean" / "warehouse.duckdb"
    shutil.copytree(landing, clean_landing)
    code, lines = _cvm("load", "--engine", "duckdb", "--vars", QUARTERS, "--landing",
                       str(clean_landing), "--warehouse", str(found["clean"]))
    assert code == 0, "\n".join(lines)
    return found


def test_the_first_line_names_the_engine(nights):
    master = nights["cluster"].master_url
    assert master.startswith("spark://127.0.0.1:")
    assert nights["first"][0] == f"engine: spark ({master})"  # from CVM_SPARK_MASTER
    assert nights["second"][0] == f"engine: spark ({master})"  # and CVM_ENGINE


def test_the_nights_ran_on_the_cluster(nights):
    """Each load's dbt runs were one application of the cluster (both parts of its build use
    the session of the load's dbt server), which gave it an executor on the worker, a process
    of its own with its own working directory."""
    before, after_first, after_second = ({app["id"] for app in apps}
                                         for apps in nights["apps"][:3])
    first, second = after_first - before, after_second - after_first
    assert len(first) == len(second) == 1, (first, second)
    # the five Spark loads of the nights, the one that failed and the one stopped included
    assert len({app["id"] for app in nights["apps"][-1]} - before) == 5
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
    # the local full build beside the same load on DuckDB (every delivery's as-of date: one
    # load each); the cluster's nights beside one DuckDB load of the same landing, by quarters
    if load == "full":
        duck = marts_checksums(e2e_duckdb[2], every_date=True)
        found = marts_checksums(request.getfixturevalue("e2e_spark")[2], every_date=True)
    else:
        nights = request.getfixturevalue("nights")
        duck, found = marts_checksums(nights["clean"]), marts_checksums(nights["spark"])
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


def _rows(warehouse, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_period_left_without_rows_goes_on_spark(nights):
    """A2, the third quarter's only activity, cancelled, and O3, its only order line, moved
    into the fourth quarter, in one night: the quarter keeps no row of either fact, A2 is in
    none, O3 is in the fourth quarter once."""
    assert nights["emptied"] == [("order line", "O3", "2025-10-01")]


def test_a_load_that_loses_its_executor_completes(nights):
    """The executor, killed while dbt builds, is replaced by the worker, and the load
    completes (what it built: test_a_period_left_without_rows_goes_on_spark, and the last
    night's marts, equal to DuckDB's)."""
    code, out, killed = nights["lost_executor"]
    assert code == 0 and killed, out
    assert any("dbt incremental build" in line for line in out.splitlines()), out
    # the night's applications (one per part of its dbt build): the killed executor and its
    # replacement, each with a working directory of its own, in one of them
    apps = {a["id"] for a in nights["apps"][2]} - {a["id"] for a in nights["apps"][1]}
    executors = {app: sorted(p.name for p in (nights["cluster"].work_dir / app).iterdir())
                 for app in apps}
    assert max(len(found) for found in executors.values()) >= 2, executors


def test_a_failing_blocking_test_publishes_nothing_and_leaves_no_process(nights):
    code, lines = nights["failed"]
    assert code == 1, lines
    failed = [line for line in lines if line.startswith("FAILED at delivery")]
    assert len(failed) == 1 and failed[0].startswith(f"FAILED at delivery {FAILING}:"), failed
    # the overflowing sum is NULL on Spark: the not_null rule of the money built from it fails
    # and names the column that holds the NULL, with its rows
    assert re.search(r"test\.customer_value_warehouse\.column_rules_\w+(\.\w+)? "
                     r"\(Got \d+ results?[^;]*; [^;)]*NULL in \w+ \(\d+ rows?\)", failed[0]), \
        failed
    assert "the published warehouse is unchanged" in failed[0]
    unchanged, left = nights["after_failed"]
    assert unchanged
    assert left == {"executors": [], "drivers": [], "apps": []}, left


def test_a_spark_load_stopped_by_sigterm_publishes_nothing_and_leaves_no_process(nights):
    code, out = nights["stopped"]
    assert code == 130, out
    assert "Traceback" not in out, out
    said = [line for line in out.splitlines() if "INTERRUPTED" in line]
    assert len(said) == 1 and "nothing published" in said[0], out
    unchanged, left = nights["after_stopped"]
    assert unchanged
    assert left == {"executors": [], "drivers": [], "apps": []}, left
    assert nights["after_all"] == {"executors": [], "drivers": [], "apps": []}


def test_dagster_kept_every_night_in_postgres(nights):
    """One run per delivery and load, in PostgreSQL; nothing of Dagster's own SQLite under
    DAGSTER_HOME."""
    runs = nights["postgres"].query("spark_nights", "select partition, status from runs "
                                    "order by create_timestamp")
    assert [partition for partition, _ in runs] == [
        D1, D2, D3, EMPTIED_MONTH, EMPTIED_QUARTER, FAILING, FAILING, FAILING]
    assert [status for _, status in runs] == [
        "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "FAILURE", "SUCCESS"]
    home = nights["home"]
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == ["dagster.yaml"]
