"""The published catalog: single writer, the next catalog of a session, atomic publish, readers
that keep their files, garbage collection, the big facts' monthly files."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import time

import duckdb
import pytest
import yaml

from orchestration.lib.landing import sha256_of
from orchestration.lib.warehouse import catalog
from orchestration.lib.warehouse.lock import WarehouseBusy, write_lock
from orchestration.lib.warehouse.store import Store, write_parquet
from orchestration.settings import PROJECT_DIR


def test_second_writer_waits_then_fails_clearly(tmp_path, lock_holder):
    published = tmp_path / "warehouse.duckdb"
    store = Store(published, "duckdb")
    lock_holder(published, 3)
    started = time.monotonic()
    with pytest.raises(WarehouseBusy, match="another run is writing"):
        with write_lock(store, timeout_s=0.5):
            pass
    assert time.monotonic() - started >= 0.5  # it waited before giving up
    # once the first writer is done, the lock is free again
    with write_lock(store, timeout_s=5):
        pass


def _hold_and_wait(published, ready) -> None:
    with write_lock(Store(published, "duckdb")):
        ready.set()
        time.sleep(600)


def test_a_writer_killed_while_it_holds_the_lock_leaves_no_stale_lock(tmp_path):
    """The lock file stays behind when its writer is killed (SIGKILL), but the lock itself goes
    with the process: the next writer takes it at once."""
    published = tmp_path / "warehouse.duckdb"
    store = Store(published, "duckdb")
    ready = multiprocessing.Event()
    writer = multiprocessing.Process(target=_hold_and_wait, args=(published, ready))
    writer.start()
    assert ready.wait(30)
    os.kill(writer.pid, signal.SIGKILL)
    writer.join(10)
    assert store.lock.exists()
    started = time.monotonic()
    with write_lock(store, timeout_s=2):
        pass
    assert time.monotonic() - started < 1


def test_a_process_token_names_a_living_process_and_never_a_dead_one():
    from orchestration.lib import processes

    assert processes.is_running(processes.token()) is True
    child = multiprocessing.Process(target=time.sleep, args=(0,))
    child.start()
    token = processes.token(child.pid)
    child.join()
    assert processes.is_running(token) is False
    # the same pid with another start time is another process: the token's is gone
    host, pid, started = processes.token().rsplit(":", 2)
    assert processes.is_running(f"{host}:{pid}:{int(started) - 1}") is False
    # a process of another host: nobody here can tell
    assert processes.is_running(f"elsewhere.example:{pid}:{started}") is None


def _write_version(published, session: str, answer: int) -> None:
    """In the next catalog of `session`: a mart file holding `answer`, and a view over it."""
    con = duckdb.connect(str(catalog.open_next(Store(published, "duckdb"), session)))
    try:
        store = catalog.store_of(con)
        relative = store.new_mart_file("answers")
        write_parquet(con, f"select {answer} as answer", store.path(relative))
        catalog.replace_mart_files(con, "answers", None, [("", relative, 1)])
        con.execute("create schema if not exists marts")
        con.execute(f"create or replace view marts.answers as select * from "
                    f"read_parquet('{store.path(relative)}')")
    finally:
        con.close()


def _answer(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select answer from marts.answers").fetchone()[0]
    finally:
        con.close()


def test_publish_renames_the_next_catalog_into_place(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    store = Store(published, "duckdb")
    _write_version(published, "s1", 42)
    assert not published.exists()  # nothing is published before publish_next
    publication = catalog.publish_next(store)
    assert publication.digest == sha256_of(published)
    assert not store.next_catalog.exists()
    assert _answer(published) == 42
    assert catalog.read_state(published).version == 1


def test_a_session_continues_its_next_catalog_and_another_starts_from_the_published(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    store = Store(published, "duckdb")
    _write_version(published, "s1", 1)
    catalog.publish_next(store)
    _write_version(published, "s2", 2)
    # the same session finds its own next catalog again
    assert _answer(catalog.open_next(store, "s2")) == 2
    # another session (a run after a failed one) starts from exactly the published state
    assert _answer(catalog.open_next(store, "s3")) == 1
    assert catalog.next_session(store) == "s3"
    assert catalog.read_state(published).version == 1


def test_reader_keeps_its_catalog_and_files_while_a_new_one_is_published(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    store = Store(published, "duckdb")
    _write_version(published, "s1", 1)
    catalog.publish_next(store)
    reader = duckdb.connect(str(published), read_only=True)  # an analyst's open connection
    try:
        _write_version(published, "s2", 2)
        before = sha256_of(published)
        # must not fail although a reader has the file open
        publication = catalog.publish_next(store)
        assert sha256_of(published) != before
        assert catalog.collect_garbage(store, publication.named) == 0  # retired, kept
        assert reader.execute("select answer from marts.answers").fetchone() == (1,)
    finally:
        reader.close()
    assert _answer(published) == 2


def test_garbage_is_what_no_catalog_names_and_retired_files_go_versions_later(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    store = Store(published, "duckdb")
    _write_version(published, "s1", 1)
    publication = catalog.publish_next(store)
    (first,) = publication.named
    # a failed run's file, named by no catalog: deleted at the next collection
    orphan = store.path(store.new_mart_file("answers"))
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"")
    assert catalog.collect_garbage(store, publication.named) == 1
    assert not orphan.exists()
    # version 2 retires the first file; it stays while version 2 is the newest
    _write_version(published, "s2", 2)
    catalog.publish_next(store)
    assert store.path(first).exists()
    # versions 3 and 4: the first file was retired by version 2, which is KEEP_VERSIONS (2)
    # versions before 4; it goes once it is also older than KEEP_RETIRED
    for version, session in ((3, "s3"), (4, "s4")):
        _write_version(published, session, version)
        con = duckdb.connect(str(store.next_catalog))
        later = dt.datetime.now() + catalog.KEEP_RETIRED + dt.timedelta(seconds=1)
        expired = catalog.expire_retired(con, now=later)
        con.close()
        catalog.collect_garbage(store, catalog.publish_next(store).named)
        assert (first in expired) == (version == 4)
        assert store.path(first).exists() == (version == 3)
    assert _answer(published) == 4


def test_dagster_instance_allows_one_writer_at_a_time():
    config = yaml.safe_load((PROJECT_DIR / "orchestration" / "dagster.yaml").read_text())
    assert config["telemetry"]["enabled"] is False
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1


def _month_files(con, store: Store, table: str) -> dict[str, list[tuple[str, str]]]:
    """month -> (activity_id, customer_id) of each current file of `table`, in file order."""
    found = {}
    for month, path in con.execute(
        "select partition_key, path from meta.mart_files where table_name = ?", [table]
    ).fetchall():
        assert path.startswith(f"marts/{table}/month={month}/")
        found[month] = con.execute(
            f"select activity_id, customer_id from read_parquet('{store.path(path)}')"
        ).fetchall()
    return found


def test_the_big_facts_are_published_per_month_sorted_by_customer_and_a_delta_rewrites_its_months(
        tmp_path):
    """Five activities around month ends. A full export writes one file per month, its rows
    ordered by customer; a delta (A5 cancelled, A1 moved from October to November) rewrites
    the months its keys were in (September, October) and are in (November), the latter found
    as the months of the rows that carry the delta build's number: September is left without
    rows and gets no file. The build's number is not published."""
    from orchestration.lib.warehouse import marts
    from orchestration.lib.warehouse.publish import NEXT
    from orchestration.lib.warehouse.store import ENGINE_DATABASE

    published = tmp_path / "warehouse.duckdb"
    store = Store(published, "duckdb")
    catalog.open_next(store, "s1")
    store.engine_database.parent.mkdir(parents=True)
    con = duckdb.connect(str(store.engine_database))
    try:
        con.execute("create schema marts")
        con.execute("create schema cvm_delta")
        con.execute("create table marts.fct_service_activities (activity_id VARCHAR, "
                    "customer_id VARCHAR, activity_date DATE, written_in_build BIGINT)")
        con.execute("insert into marts.fct_service_activities values "
                    "('A1', 'K2', '2026-10-05', 1), ('A2', 'K1', '2026-10-31', 1), "
                    "('A3', 'K3', '2026-11-01', 1), ('A4', 'K1', '2026-11-30', 1), "
                    "('A5', 'K2', '2026-09-30', 1)")
        con.execute(f"attach '{store.next_catalog}' as {NEXT}")
        con.execute(f"use {NEXT}")

        (full,) = marts.export_marts(con, store, full=True, build_number=1)
        assert (full.partitions, full.files, full.rows) == (None, 3, 5)
        first = _month_files(con, store, "fct_service_activities")
        assert first == {
            "2026-09": [("A5", "K2")],
            "2026-10": [("A2", "K1"), ("A1", "K2")],  # K1 before K2, not in date order
            "2026-11": [("A4", "K1"), ("A3", "K3")],
        }
        old_paths = {r[0] for r in con.execute("select path from meta.mart_files").fetchall()}

        engine_marts = f"{ENGINE_DATABASE}.marts.fct_service_activities"
        con.execute(f"delete from {engine_marts} where activity_id = 'A5'")
        con.execute(f"update {engine_marts} set activity_date = '2026-11-02', "
                    "written_in_build = 2 where activity_id = 'A1'")
        con.execute(f"create table {ENGINE_DATABASE}.cvm_delta.service_activities_keys as "
                    "select * from (values ('A5'), ('A1')) as k(activity_id)")
        con.execute(f"create table {ENGINE_DATABASE}.cvm_delta.fct_service_activities_partitions"
                    " as select * from (values ('2026-09'), ('2026-10')) as p(partition_key)")
        (delta,) = marts.export_marts(con, store, full=False, build_number=2)
        assert (delta.partitions, delta.files, delta.rows) == (
            ["2026-09", "2026-10", "2026-11"], 2, 4)
        assert _month_files(con, store, "fct_service_activities") == {
            "2026-10": [("A2", "K1")],
            "2026-11": [("A4", "K1"), ("A1", "K2"), ("A3", "K3")],
        }
        retired = {r[0] for r in con.execute("select path from meta.retired_files").fetchall()}
        assert retired == old_paths
        # the September file of the delta, which had no rows, is not left in the store
        assert [p.name for p in (store.marts_dir / "fct_service_activities" / "month=2026-09")
                .iterdir()] == [first_path.rsplit("/", 1)[1] for first_path in old_paths
                                if "month=2026-09" in first_path]
        assert con.execute("select activity_id from marts.fct_service_activities "
                           "order by activity_id").fetchall() == [
            ("A1",), ("A2",), ("A3",), ("A4",)]
        files = [str(store.path(r[0])) for r in
                 con.execute("select path from meta.mart_files").fetchall()]
        published = con.execute("select distinct column_name from (describe select * from "
                                "read_parquet(?, hive_partitioning = false))", [files]).fetchall()
        assert sorted(published) == [("activity_date",), ("activity_id",), ("customer_id",)]
        assert [r[0] for r in con.execute("describe marts.fct_service_activities").fetchall()
                ] == ["activity_id", "customer_id", "activity_date"]
    finally:
        con.close()
