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

The cluster's warehouse goes on, night by night (fixture `nights`):
- a period that a delivery leaves without rows goes (tests/nightly_fixtures.py): a delivery
  cancels September 2025's only activity, the next moves July 2025's only order line into
  October;
- a delivery whose sum overflows fails a blocking test; a load stopped by SIGTERM while dbt
  builds; each time the published catalog and its files are byte-identical, and no driver,
  dbt or executor process is left;
- a load loses its executor (killed) while dbt builds: the worker starts another, the load
  completes;
- the last night's marts equal, to the cent, one DuckDB load of every delivery.
"""

from __future__ import annotations

import contextlib
import io
import os
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
from orchestration.lib.landing import sha256_of
from orchestration.lib.warehouse import build_state, catalog
from orchestration.lib.warehouse.store import Store
from tests.dbt.test_incremental import end_state
from tests.dbt_engine_fixtures import PROJECT
from tests.e2e_fixtures import D1, D2, D3, write_delivery
from tests.nightly_fixtures import ORDERS_HEADER, write_emptied_month, write_emptied_quarter
from tests.spark_cluster_fixtures import group_members

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


# the nights after D3 (tests/nightly_fixtures.py: a month, then a quarter's order lines, left
# without rows), then a delivery whose first version fails a blocking test
FAILING = "2026-11-26"
FAILING_ORDERS = ORDERS_HEADER + (
    # each line fits DECIMAL(18,4); C1's October 2026, their sum 120,000,000,000,000, does not:
    # a blocking test fails on Spark (NULL money) as on DuckDB (refused cast)
    "O90,1,C1,2026-10-05,pumps,60000000000000.00,1.00,2026-11-25T10:00:00\n"
    "O90,2,C1,2026-10-06,pumps,60000000000000.00,1.00,2026-11-25T10:00:00\n")
FIXED_ORDERS = ORDERS_HEADER + (  # the same file, delivered again as it should have been
    "O90,1,C1,2026-10-05,pumps,6000.00,4000.00,2026-11-25T10:00:00\n"
    "O90,2,C1,2026-10-06,pumps,6000.00,4000.00,2026-11-25T10:00:00\n")
EMPTIED_MONTHS = ("2025-07-01", "2025-09-01")  # O3's month, A2's month (D1)
CVM = str(Path(sys.executable).with_name("cvm"))


def _write_orders(landing: Path, text: str) -> None:
    (landing / FAILING).mkdir(parents=True, exist_ok=True)
    (landing / FAILING / "orders.csv").write_text(text, encoding="utf-8")


def published_state(warehouse: Path) -> dict[str, str]:
    """sha256 of the published catalog and of every file it names."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        named = [r[0] for r in con.execute(
            "select path from meta.raw_files union select path from meta.mart_files "
            "union select path from meta.retired_files").fetchall()]
    finally:
        con.close()
    store = Store(warehouse, "spark")
    return {"catalog": sha256_of(warehouse)} | {
        path: sha256_of(store.path(path)) for path in sorted(named)}


def _emptied_facts(warehouse: Path) -> list[tuple]:
    months = ", ".join(f"'{m}'" for m in EMPTIED_MONTHS)
    return _rows(warehouse,
                 "select 'activity', activity_id, period_start::varchar "
                 "from marts.fct_service_activities "
                 f"where activity_id = 'A2' or period_start in ({months}) union all "
                 "select 'order line', order_id, period_start::varchar from marts.fct_order_lines "
                 f"where order_id = 'O3' or period_start in ({months}) order by 1")


def _spark_processes(cluster) -> dict[str, list[int]]:
    """The executors on the cluster's worker, and every process that runs dbt or a Spark
    driver on this machine outside the cluster."""
    executors = [pid for pid in group_members(cluster.worker.pid) if pid != cluster.worker.pid]
    drivers = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
               and any(word in _cmdline(int(p.name)) for word in ("cvm-dbt", "pyspark-shell"))]
    return {"executors": executors, "drivers": drivers}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _settled(cluster, timeout: float = 60) -> dict[str, list[int]]:
    """Wait until no application of this test is running on the cluster and no driver is left;
    what is still there then."""
    deadline = time.monotonic() + timeout
    while True:
        found = _spark_processes(cluster)
        busy = [app["id"] for app in cluster.state()["activeapps"]]
        if (not found["drivers"] and not busy) or time.monotonic() > deadline:
            return {**found, "apps": busy}
        time.sleep(0.5)


def _start_load(landing: Path, warehouse: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [CVM, "load", "--landing", str(landing), "--warehouse", str(warehouse)],
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _read_until(load: subprocess.Popen, marker: str) -> list[str]:
    lines = []
    for line in load.stdout:
        lines.append(line)
        if line.startswith(marker):
            return lines
    pytest.fail(f"the load ended before {marker!r}:\n" + "".join(lines))


@pytest.fixture(scope="module")
def nights(tmp_path_factory, spark_cluster):
    """The loads of one Spark warehouse on the cluster, each as an operator runs them:
    1. D1 and D2: `cvm load --engine spark`, a full build;
    2. D3: `CVM_ENGINE=spark cvm load`, an incremental night (its marts and end state kept for
       the comparisons below);
    3. 2026-11-24: A2 cancelled, September 2025 left without any row;
    4. 2026-11-25: O3 moved from July 2025 to October, July left without any row;
    5. 2026-11-26, orders whose sum overflows: a blocking test fails, the load exits 1;
    6. the file delivered again, corrected; a load stopped by SIGTERM while dbt builds;
    7. a load during whose build the cluster loses its executor (killed): it completes.
    After 5 and 6 the published catalog and its files are byte-identical to before, and no
    driver, dbt or executor process is left. The last load's marts are compared with one
    DuckDB load of all the deliveries into a new warehouse."""
    root = tmp_path_factory.mktemp("spark_nights")
    landing, spark = root / "landing", root / "warehouse.duckdb"
    for folder in (D1, D2):
        write_delivery(landing, folder)
    work = root / "cwd"  # Spark must leave nothing in the directory it is started from
    work.mkdir()
    cwd = os.getcwd()
    os.chdir(work)
    apps = [_applications(spark_cluster)]  # the cluster's applications after each load
    found = {"spark": spark, "cwd": work, "cluster": spark_cluster}
    try:
        with pytest.MonkeyPatch.context() as env:
            for name, value in spark_cluster.environment.items():
                env.setenv(name, value)
            code, found["first"] = _cvm("load", "--engine", "spark", "--landing", str(landing),
                                        "--warehouse", str(spark))
            assert code == 0, "\n".join(found["first"])
            apps.append(_applications(spark_cluster))
            write_delivery(landing, D3)
            env.setenv("CVM_ENGINE", "spark")
            code, found["second"] = _cvm("load", "--landing", str(landing),
                                         "--warehouse", str(spark))
            assert code == 0, "\n".join(found["second"])
            apps.append(_applications(spark_cluster))
            found["state"] = build_state.read_state(Store(spark, "spark").engine_database)
            found["checksums"], found["end_state"] = marts_checksums(spark), end_state(spark)

            found["emptied"] = []
            for write in (write_emptied_month, write_emptied_quarter):
                write(landing)
                code, lines = _cvm("load", "--landing", str(landing), "--warehouse", str(spark))
                assert code == 0, "\n".join(lines)
                assert any("dbt incremental build" in line for line in lines), lines
                found["emptied"].append(_emptied_facts(spark))

            # 5. a blocking test fails
            before = published_state(spark)
            _write_orders(landing, FAILING_ORDERS)
            code, found["failed"] = _cvm("load", "--landing", str(landing),
                                         "--warehouse", str(spark))
            found["failed_code"] = code
            found["after_failed"] = (published_state(spark) == before, _settled(spark_cluster))

            # 6. stopped while dbt builds
            _write_orders(landing, FIXED_ORDERS)
            load = _start_load(landing, spark, {**spark_cluster.environment,
                                                "CVM_ENGINE": "spark"})
            lines = _read_until(load, "  dbt ")
            time.sleep(5)  # dbt is under way
            os.kill(load.pid, signal.SIGTERM)
            rest, _ = load.communicate(timeout=180)
            found["stopped"] = (load.returncode, "".join(lines) + rest)
            found["after_stopped"] = (published_state(spark) == before, _settled(spark_cluster))

            # 7. the executor killed while dbt builds
            load = _start_load(landing, spark, {**spark_cluster.environment,
                                                "CVM_ENGINE": "spark"})
            lines = _read_until(load, "  dbt ")
            deadline = time.monotonic() + 60
            while not (executors := _spark_processes(spark_cluster)["executors"]):
                assert time.monotonic() < deadline, "no executor started"
                time.sleep(0.5)
            time.sleep(3)
            for pid in executors:
                os.kill(pid, signal.SIGKILL)
            found["killed_executors"] = executors
            rest, _ = load.communicate(timeout=900)
            found["lost_executor"] = (load.returncode, "".join(lines) + rest)
            apps.append(_applications(spark_cluster))
            found["after_all"] = _settled(spark_cluster)
    finally:
        os.chdir(cwd)
    found["apps"] = apps
    # the clean load to compare with: every delivery, as the landing holds them now
    clean_landing, clean = root / "clean" / "landing", root / "clean" / "warehouse.duckdb"
    shutil.copytree(landing, clean_landing)
    code, lines = _cvm("load", "--engine", "duckdb", "--landing", str(clean_landing),
                       "--warehouse", str(clean))
    assert code == 0, "\n".join(lines)
    found["final"], found["clean"] = marts_checksums(spark), marts_checksums(clean)
    return found


def test_the_first_line_names_the_engine(nights):
    master = nights["cluster"].master_url
    assert master.startswith("spark://127.0.0.1:")
    assert nights["first"][0] == f"engine: spark ({master})"  # from CVM_SPARK_MASTER
    assert nights["second"][0] == f"engine: spark ({master})"  # and CVM_ENGINE


def test_the_nights_ran_on_the_cluster(nights):
    """Each load's dbt runs were applications of the cluster, which gave each an executor on
    the worker, a process of its own with its own working directory."""
    before, after_first, after_second = ({app["id"] for app in apps}
                                         for apps in nights["apps"][:3])
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
    every_date = load == "full"  # one load on each engine: every delivery's as-of date
    duck = marts_checksums(e2e_duckdb[2], every_date)
    found = (marts_checksums(request.getfixturevalue("e2e_spark")[2], every_date)
             if load == "full" else request.getfixturevalue("nights")["checksums"])
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
    assert nights["end_state"] == end_state(e2e_spark[2])


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
    """A2, September 2025's only activity, cancelled: the month keeps no row; then O3, July
    2025's only order line, moved to October: July keeps none either, O3 is in October once."""
    assert nights["emptied"] == [[("order line", "O3", "2025-07-01")],
                                 [("order line", "O3", "2025-10-01")]]


def test_the_last_night_equals_one_clean_load_of_every_delivery(nights):
    """After the emptied periods, the failed, the stopped and the executor-losing loads: the
    marts of one DuckDB load of the same landing, to the cent."""
    assert sorted(nights["final"]) == sorted(nights["clean"])
    for table, expected in nights["clean"].items():
        assert nights["final"][table] == expected, table


def test_a_failing_blocking_test_publishes_nothing_and_leaves_no_process(nights):
    assert nights["failed_code"] == 1, nights["failed"]
    failed = [line for line in nights["failed"] if line.startswith("FAILED at delivery")]
    assert len(failed) == 1 and failed[0].startswith(f"FAILED at delivery {FAILING}:"), failed
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


def test_a_load_that_loses_its_executor_completes(nights):
    """The executor, killed while dbt builds, is replaced by the worker; the load completes
    (its marts: test_the_last_night_equals_one_clean_load_of_every_delivery)."""
    code, out = nights["lost_executor"]
    assert code == 0, out
    last = max((app for app in nights["apps"][-1]), key=lambda app: app["starttime"])
    executors = list((nights["cluster"].work_dir / last["id"]).iterdir())
    assert len(executors) >= 2, executors  # the killed one and its replacement
    assert nights["after_all"] == {"executors": [], "drivers": [], "apps": []}
