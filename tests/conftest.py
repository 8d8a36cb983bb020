"""Fixtures shared by the tests: a catalog connection, a process holding the writer's lock, and
the engines the dbt project runs on.

The dbt tests run on both engines (`tests.dbt_engine_fixtures.ENGINES`); the Spark case carries the
`spark` marker (`make test-fast` leaves it out). One local Spark session serves the whole run,
one standalone cluster (`spark_cluster`) the loads that run on a cluster, and one PostgreSQL
server (`postgres_server`) the Dagster instances on PostgreSQL.

Helpers are imported one way, as the package `tests`: `from tests.ingest_fixtures import ...`.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.warehouse.catalog import ensure_meta
from orchestration.lib.warehouse.lock import write_lock
from orchestration.lib.warehouse.store import Store, StoreFiles

# the PostgreSQL server of the test run (Dagster instances on it, one database each)
from tests.postgres_fixtures import postgres_server  # noqa: F401

# the Spark standalone cluster of the test run (a master and a worker, started on first use)
from tests.spark_cluster_fixtures import spark_cluster  # noqa: F401

# A pytest-xdist worker runs as `python -c`: its __main__ has neither a spec nor a file. pyspark
# takes that for its own doctests and exits the process (pyspark/sql/connect/utils.py, reached
# when Great Expectations imports pyspark's Connect classes). The worker's __main__ is given the
# file it has under `python -m pytest`, pytest's __main__.py, whose code runs only as a script.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _main = sys.modules["__main__"]
    if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
        _main.__file__ = str(Path(pytest.__file__).with_name("__main__.py"))

# `make test` runs the suite on two pytest-xdist workers, a module at a time (`--dist loadfile
# --no-loadscope-reorder`): the modules are handed out in collection order, so the two longest
# start first, one on each worker. The Spark nights on the cluster (about 20 minutes) take one
# worker while the other runs the rest of the suite.
LONGEST_FIRST = ("tests/lib/warehouse/test_spark_engine.py", "tests/dbt/test_incremental.py")


def pytest_collection_modifyitems(config, items):
    """The modules of LONGEST_FIRST first, in that order; every other test keeps its place."""
    def rank(item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(module) if module in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


def module_of(nodeid: str) -> str:
    """The unit of work of a pytest-xdist process: a test's module, except that the tests of
    tests/system/test_end_to_end.py on Spark run with the Spark module, which also reads their
    fixture, the local Spark full build (`e2e_spark`): it is then built once, not once in each
    process."""
    module = nodeid.split("::", 1)[0]
    if module == "tests/system/test_end_to_end.py" and nodeid.endswith("[spark]"):
        return LONGEST_FIRST[0]
    return module


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile` by `module_of` (the other distributions as pytest-xdist has them)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ByModule(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return module_of(nodeid)

    return ByModule(config, log)


@pytest.fixture()
def con(tmp_path):
    """An in-memory catalog whose raw zone is a store under the test's tmp_path, closed after
    the test."""
    connection = duckdb.connect()
    ensure_meta(connection, StoreFiles(tmp_path / "store"))
    yield connection
    connection.close()


def _hold_lock(published, seconds, ready):
    with write_lock(Store(published, "duckdb")):
        ready.set()
        time.sleep(seconds)


@pytest.fixture()
def lock_holder():
    """Start another process that holds the writer's lock of a warehouse for some seconds:
    `lock_holder(published, seconds)` returns once the lock is held."""
    holders = []

    def hold(published, seconds: float) -> None:
        ready = multiprocessing.Event()
        holder = multiprocessing.Process(target=_hold_lock, args=(published, seconds, ready))
        holder.start()
        holders.append(holder)
        assert ready.wait(10), "the other process did not get the lock"

    yield hold
    for holder in holders:
        holder.join()


@pytest.fixture(scope="session")
def reports_warehouse(tmp_path_factory):
    """The hand-made warehouse of tests/reports_fixtures.py, its seeds and models built by dbt:
    what the reports read (`cvm export`, `cvm chart`, `cvm docs`, the load summary)."""
    import os
    import subprocess
    import sys

    from orchestration.settings import DBT_PROJECT_DIR
    from tests.reports_fixtures import build_reports_raw

    work = tmp_path_factory.mktemp("reports")
    warehouse = build_reports_raw(work / "warehouse.duckdb")
    project = str(DBT_PROJECT_DIR)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--resource-type", "seed",
         "--resource-type", "model", "--project-dir", project, "--profiles-dir", project,
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        env={**os.environ, "CVM_WAREHOUSE": str(warehouse)},
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # and the purchase model's marts, as every load writes them (six customers: not fitted)
    import duckdb

    from orchestration.lib.clv import build

    con = duckdb.connect(str(warehouse))
    try:
        build.write(con, *build.fit(build.read_inputs(con)))
        build.write_equity(con, None)
    finally:
        con.close()
    return warehouse


def _load_e2e(root: Path, engine: str):
    from orchestration.runner import run_load
    from tests.e2e_fixtures import D1, D2, D3, write_delivery

    landing = root / "landing"
    for folder in (D1, D2, D3):
        write_delivery(landing, folder)
    warehouse = root / "warehouse.duckdb"
    outcome = run_load(landing, warehouse, engine_kind=engine)
    assert outcome.exit_code == 0, outcome.error
    assert outcome.loaded == [D1, D2, D3]
    return root, landing, warehouse


@pytest.fixture(scope="session")
def e2e_duckdb(tmp_path_factory):
    """(root, landing, published file): the three deliveries of tests/e2e_fixtures.py,
    loaded by one `cvm load` on DuckDB."""
    return _load_e2e(tmp_path_factory.mktemp("e2e"), "duckdb")


@pytest.fixture(scope="session")
def e2e_spark(tmp_path_factory):
    """The same, one `cvm load --engine spark`: a full build on Spark."""
    return _load_e2e(tmp_path_factory.mktemp("e2e_spark"), "spark")


@pytest.fixture(scope="session")
def spark_folder(tmp_path_factory) -> Path:
    """Warehouse, metastore and Derby log of the test run's Spark session."""
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="session")
def spark(spark_folder):
    if shutil.which("java") is None:
        pytest.fail("the Spark tests need Java 17 (Debian: openjdk-17-jre-headless)")
    from tests.dbt_engine_fixtures import spark_session

    session = spark_session(spark_folder)
    yield session
    session.stop()
