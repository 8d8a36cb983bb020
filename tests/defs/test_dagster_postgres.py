"""Dagster's run, event log and schedule storage on PostgreSQL: the commented `storage` block of
orchestration/dagster.yaml, uncommented, against the test run's PostgreSQL server
(tests/postgres_fixtures.py: `postgres_server`, one database per instance).

Assertions query the database directly, not Dagster.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest

from tests.dagster_fixtures import numbers, small_job, total
from tests.postgres_fixtures import dagster_home_on_postgres, documented_storage_block

PROJECT_DIR = Path(__file__).resolve().parents[2]


# ---- a tiny code location: two assets and their job (dagster_fixtures.py), a sensor and a
# schedule

@dg.sensor(job=small_job, default_status=dg.DefaultSensorStatus.RUNNING)
def small_sensor():
    return dg.RunRequest(run_key="first")


@dg.schedule(job=small_job, cron_schedule="0 2 * * *", execution_timezone="Europe/Berlin")
def small_schedule():
    return dg.RunRequest()


defs = dg.Definitions(assets=[numbers, total], jobs=[small_job], sensors=[small_sensor],
                      schedules=[small_schedule])


# ---- the instance -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def instance(postgres_server, tmp_path_factory):
    """An instance from the project's dagster.yaml with its storage block uncommented and the
    DAGSTER_PG_* variables pointing at the test server (over TCP, with the password), on the
    database `dagster`."""
    env = dagster_home_on_postgres(tmp_path_factory.mktemp("dagster_home"), postgres_server,
                                   "dagster")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            yield instance


def _sql(server, query: str, params: tuple = (), db: str = "dagster") -> list[tuple]:
    return server.query(db, query, params)


def test_the_documented_block_is_the_storage(instance):
    block = documented_storage_block()
    assert "scheme: postgresql+psycopg2" in block
    assert re.search(r"password: \{env: DAGSTER_PG_PASSWORD\}", block)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"


def test_a_run_and_its_events_are_stored_in_postgres(instance, postgres_server):
    """Two assets, one run: the run row says SUCCESS; the event log holds one
    ASSET_MATERIALIZATION per asset (2), one STEP_SUCCESS per step (2), and the run's success."""
    result = defs.resolve_job_def("small_job").execute_in_process(instance=instance)
    assert result.success
    assert _sql(postgres_server, "select pipeline_name, status from runs where run_id = %s",
                (result.run_id,)) == [("small_job", "SUCCESS")]
    counts = dict(_sql(postgres_server, "select dagster_event_type, count(*) from event_logs "
                                 "where run_id = %s group by 1", (result.run_id,)))
    assert counts["ASSET_MATERIALIZATION"] == 2
    assert counts["STEP_SUCCESS"] == 2
    assert counts["PIPELINE_SUCCESS"] == 1
    keys = {row[0] for row in _sql(postgres_server, "select asset_key from asset_keys")}
    assert keys == {'["numbers"]', '["total"]'}


def test_schedule_state_and_a_sensor_tick_are_stored_in_postgres(instance, postgres_server):
    """Starting the schedule stores its state RUNNING; one sensor evaluation (what the daemon
    does each interval) stores a successful tick with the requested run key, and the run it
    requested waits in the run queue (no daemon runs here to start it)."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
    from dagster._daemon.sensor import execute_sensor_iteration

    origin = InProcessCodeLocationOrigin(LoadableTargetOrigin(
        python_file=__file__, attribute="defs", working_directory=str(PROJECT_DIR)))
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
        entry = next(iter(workspace.create_request_context().get_code_location_entries()
                          .values()))
        assert entry.code_location is not None, entry.load_error
        repository = next(iter(entry.code_location.get_repositories().values()))
        instance.start_schedule(repository.get_schedule("small_schedule"))
        for _ in execute_sensor_iteration(workspace, logging.getLogger("sensor"), None, None):
            pass

    states = dict(_sql(postgres_server, "select job_type, status from jobs"))
    assert states["SCHEDULE"] == "RUNNING"
    ticks = _sql(postgres_server, "select type, status, tick_body from job_ticks")
    assert [(kind, status) for kind, status, _ in ticks] == [("SENSOR", "SUCCESS")]
    body = ticks[0][2]
    assert '"run_keys": ["first"]' in body
    (run_id,) = re.search(r'"run_ids": \["([0-9a-f-]+)"\]', body).groups()
    assert _sql(postgres_server, "select pipeline_name, status from runs where run_id = %s",
                (run_id,)) == [("small_job", "QUEUED")]


def test_the_readme_sets_what_the_tests_set():
    """README "The three together" exports what a `cvm load` of the tests gets: the cluster's
    environment (spark_cluster_fixtures.py) with the master at port 7077, the warehouse's path,
    and DAGSTER_HOME with the DAGSTER_PG_* variables (postgres_fixtures.py)."""
    from tests.postgres_fixtures import PostgresServer
    from tests.spark_cluster_fixtures import SparkCluster

    text = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### The three together"):text.index("## How to test")]
    block = section[section.index("```bash\n") + 8:]
    lines = block[:block.index("```")].replace("\\\n", " ").splitlines()
    exported = dict(word.split("=", 1) for line in lines if line.startswith("export ")
                    for word in line.split("#")[0].split()[1:])
    cluster = SparkCluster.environment.fget(SimpleNamespace(master_url="spark://127.0.0.1:7077"))
    assert {k: v for k, v in exported.items() if k in cluster} == cluster
    postgres = {"DAGSTER_HOME", *PostgresServer(Path("/tmp"), 5432).environment("dagster")}
    assert set(exported) == {*cluster, "CVM_WAREHOUSE", *postgres}
    assert ".venv/bin/cvm load --engine spark" in " ".join(lines)
