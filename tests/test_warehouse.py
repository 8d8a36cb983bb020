"""Work copy, single writer, atomic publish."""

from __future__ import annotations

import time

import duckdb
import pytest
import yaml

from orchestration.lib.landing import sha256_of
from orchestration.lib.warehouse import storage as wh
from orchestration.lib.warehouse.lock import WarehouseBusy, write_lock
from orchestration.settings import PROJECT_DIR, work_path


def test_second_writer_waits_then_fails_clearly(tmp_path, lock_holder):
    published = tmp_path / "warehouse.duckdb"
    lock_holder(published, 3)
    started = time.monotonic()
    with pytest.raises(WarehouseBusy, match="another run is writing"):
        with write_lock(published, timeout_s=0.5):
            pass
    assert time.monotonic() - started >= 0.5  # it waited before giving up
    # once the first writer is done, the lock is free again
    with write_lock(published, timeout_s=5):
        pass


def test_publish_is_a_copy_renamed_into_place(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    work = wh.prepare_work_copy(published)
    assert work == work_path(published)
    con = duckdb.connect(str(work))
    con.execute("create table t as select 42 as answer")
    con.close()
    digest = wh.publish(published)
    assert digest == sha256_of(published)
    assert not published.with_name(published.name + ".tmp").exists()
    con = duckdb.connect(str(published), read_only=True)
    assert con.execute("select answer from t").fetchone() == (42,)
    con.close()


def test_reader_keeps_its_snapshot_while_a_new_file_is_published(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    work = wh.prepare_work_copy(published)
    con = duckdb.connect(str(work))
    con.execute("create table t as select 1 as version")
    con.close()
    wh.publish(published)

    reader = duckdb.connect(str(published), read_only=True)  # an analyst's open connection
    con = duckdb.connect(str(work))
    con.execute("update t set version = 2")
    con.close()
    wh.publish(published)  # must not fail although a reader has the file open
    assert reader.execute("select version from t").fetchone() == (1,)
    reader.close()
    fresh = duckdb.connect(str(published), read_only=True)
    assert fresh.execute("select version from t").fetchone() == (2,)
    fresh.close()


def test_dagster_instance_allows_one_writer_at_a_time():
    config = yaml.safe_load((PROJECT_DIR / "orchestration" / "dagster.yaml").read_text())
    assert config["telemetry"]["enabled"] is False
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1
