"""The instance's event log (orchestration/defs/event_log.py): Dagster's one-file SQLite log,
through kept connections without a sync per commit; the same file Dagster's own class reads,
and watchers are told of every commit."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log import ConsolidatedSqliteEventLogStorage

from orchestration.defs.event_log import KeptConnectionsSqliteEventLogStorage
from tests.dagster_fixtures import numbers, small_job, total

PROJECT_DIR = Path(__file__).resolve().parents[2]

defs = dg.Definitions(assets=[numbers, total], jobs=[small_job])


def _home(tmp_path: Path, monkeypatch) -> Path:
    """A DAGSTER_HOME with the project's dagster.yaml."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    shutil.copyfile(PROJECT_DIR / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return home


def test_the_project_instance_uses_it_and_dagsters_own_class_reads_its_file(tmp_path, monkeypatch):
    """One run of two assets: 2 materializations, 2 step successes and the run's success are
    stored in $DAGSTER_HOME/event_log.db, and Dagster's own class, opened on the same folder
    afterwards, reads them back; the kept connections do not sync each commit (synchronous
    NORMAL = 1) and the file is in WAL mode."""
    home = _home(tmp_path, monkeypatch)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        assert type(storage) is KeptConnectionsSqliteEventLogStorage
        result = defs.resolve_job_def("small_job").execute_in_process(instance=instance)
        assert result.success
        with storage.index_connection() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert (home / "event_log.db").exists()

    plain = ConsolidatedSqliteEventLogStorage(str(home))
    types = [record.event_log_entry.dagster_event.event_type_value
             for record in plain.get_records_for_run(result.run_id).records
             if record.event_log_entry.dagster_event is not None]
    assert types.count("ASSET_MATERIALIZATION") == 2
    assert types.count("STEP_SUCCESS") == 2
    assert types.count("PIPELINE_SUCCESS") == 1
    latest = plain.get_latest_materialization_events([dg.AssetKey("total")])
    assert latest[dg.AssetKey("total")] is not None


def test_a_watcher_is_told_of_events_another_storage_commits(tmp_path, monkeypatch):
    """The webserver's live run logs watch the event log; commits land in the WAL file, and
    the watcher hears of them: a run written through a second storage object on the same
    folder reaches the first one's callback."""
    home = _home(tmp_path, monkeypatch)
    with dg.DagsterInstance.from_config(str(home)) as writer:  # creates event_log.db
        watching = KeptConnectionsSqliteEventLogStorage(str(home))
        heard: list = []
        arrived = threading.Event()

        def callback(entry, _cursor):
            heard.append(entry)
            arrived.set()

        run = writer.create_run_for_job(defs.resolve_job_def("small_job"))
        watching.watch(run.run_id, None, callback)
        try:
            writer.report_engine_event("a line of the run", run)
            deadline = time.monotonic() + 20
            while not arrived.is_set() and time.monotonic() < deadline:
                arrived.wait(0.2)
        finally:
            watching.end_watch(run.run_id, callback)
            watching.dispose()
    assert any(entry.message == "a line of the run" for entry in heard)
