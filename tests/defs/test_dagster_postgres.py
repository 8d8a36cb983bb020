"""Dagster's run, event log and schedule storage on PostgreSQL: the commented `storage` block of
orchestration/dagster.yaml, uncommented, against a PostgreSQL server started for this module.

The server: `initdb` and `pg_ctl` from /usr/lib/postgresql/<version>/bin (the newest), run as
user postgres when the tests run as root (PostgreSQL refuses root), with its data and unix
socket in a temp folder, TCP on 127.0.0.1 at a free port, a password for TCP logins. It is
stopped and deleted after the module. Assertions query the database directly, not Dagster.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import dagster as dg
import pytest

from tests.dagster_fixtures import numbers, small_job, total

PROJECT_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "cvm-test-secret"


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


# ---- the server ----------------------------------------------------------------------------

def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if not found:
        pytest.fail("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
                    "apt-get install postgresql")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A running server: yields (socket folder, TCP port)."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="cvm-pg-"))  # in /tmp: postgres can reach it
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, password_file = root / "data", root / "password"
    password_file.write_text(PASSWORD)
    if as_postgres:
        os.chown(password_file, user.pw_uid, user.pw_gid)

    def run(*command: str) -> None:
        done = subprocess.run([*as_postgres, *command], capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}{done.stderr}"

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--pwfile",
        str(password_file), "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
        "--locale=C", "--no-sync")
    port = _free_port()
    with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\n"
                   f"unix_socket_directories = '{root}'\nfsync = off\n")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
        "start")
    try:
        yield root, port
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _sql(postgres, query: str, params: tuple = (), db: str = "dagster") -> list[tuple]:
    """Query the server directly (over its unix socket, as the superuser)."""
    import psycopg2

    socket_dir, port = postgres
    con = psycopg2.connect(host=str(socket_dir), port=port, user="postgres", dbname=db)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


def documented_storage_block() -> str:
    """The commented `storage:` block of orchestration/dagster.yaml, uncommented."""
    lines = (PROJECT_DIR / "orchestration" / "dagster.yaml").read_text().splitlines()
    start = lines.index("# storage:")
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("#   "):
            break
        block.append(line)
    return "\n".join(line[2:] for line in block) + "\n"


def without_event_log_block(settings: str) -> str:
    """dagster.yaml without its `event_log_storage` block, as its comment says to do."""
    lines = settings.splitlines()
    start = lines.index("event_log_storage:")
    end = start + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return "\n".join(lines[:start] + lines[end:]) + "\n"


@pytest.fixture(scope="module")
def instance(postgres, tmp_path_factory):
    """An instance from the project's dagster.yaml with its storage block uncommented and the
    DAGSTER_PG_* variables pointing at the test server (over TCP, with the password)."""
    _, port = postgres
    _sql(postgres, "create database dagster", db="postgres")
    home = tmp_path_factory.mktemp("dagster_home")
    settings = (PROJECT_DIR / "orchestration" / "dagster.yaml").read_text()
    (home / "dagster.yaml").write_text(without_event_log_block(settings) + "\n"
                                       + documented_storage_block())
    env = {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port),
           "DAGSTER_PG_DB": "dagster", "DAGSTER_PG_USERNAME": "postgres",
           "DAGSTER_PG_PASSWORD": PASSWORD}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield instance
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_the_documented_block_is_the_storage(instance):
    block = documented_storage_block()
    assert "scheme: postgresql+psycopg2" in block
    assert re.search(r"password: \{env: DAGSTER_PG_PASSWORD\}", block)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"


def test_a_run_and_its_events_are_stored_in_postgres(instance, postgres):
    """Two assets, one run: the run row says SUCCESS; the event log holds one
    ASSET_MATERIALIZATION per asset (2), one STEP_SUCCESS per step (2), and the run's success."""
    result = defs.resolve_job_def("small_job").execute_in_process(instance=instance)
    assert result.success
    assert _sql(postgres, "select pipeline_name, status from runs where run_id = %s",
                (result.run_id,)) == [("small_job", "SUCCESS")]
    counts = dict(_sql(postgres, "select dagster_event_type, count(*) from event_logs "
                                 "where run_id = %s group by 1", (result.run_id,)))
    assert counts["ASSET_MATERIALIZATION"] == 2
    assert counts["STEP_SUCCESS"] == 2
    assert counts["PIPELINE_SUCCESS"] == 1
    keys = {row[0] for row in _sql(postgres, "select asset_key from asset_keys")}
    assert keys == {'["numbers"]', '["total"]'}


def test_schedule_state_and_a_sensor_tick_are_stored_in_postgres(instance, postgres):
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

    states = dict(_sql(postgres, "select job_type, status from jobs"))
    assert states["SCHEDULE"] == "RUNNING"
    ticks = _sql(postgres, "select type, status, tick_body from job_ticks")
    assert [(kind, status) for kind, status, _ in ticks] == [("SENSOR", "SUCCESS")]
    body = ticks[0][2]
    assert '"run_keys": ["first"]' in body
    (run_id,) = re.search(r'"run_ids": \["([0-9a-f-]+)"\]', body).groups()
    assert _sql(postgres, "select pipeline_name, status from runs where run_id = %s",
                (run_id,)) == [("small_job", "QUEUED")]
