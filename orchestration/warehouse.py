"""The warehouse files: a work copy that the nightly job writes, and the published file.

Analysts open the published file read-only. The nightly job writes only the work copy and
publishes it, once every blocking check has passed, by copying it next to the published file
and renaming it into place. A rename is atomic, so a reader sees either the old file or the new
one; a reader that already has the old file open keeps reading the old file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from orchestration.landing import sha256_of as file_sha256
from orchestration.settings import work_path


class WarehouseBusy(RuntimeError):
    """Another process is writing the work copy."""


@contextlib.contextmanager
def write_lock(published: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the one writer's lock on the work copy of ``published``.

    DuckDB allows one writing process per file; this lock makes a second writer wait (and
    fail with a clear error after ``timeout_s``) instead of failing inside DuckDB.
    """
    lock_file = work_path(published).with_suffix(".lock")
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    raise WarehouseBusy(
                        f"{lock_file}: another run is writing the warehouse (held by {holder}); "
                        f"gave up after {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_work_copy(published: Path) -> Path:
    """Return the work copy's path; seed it from the published file the first time."""
    work = work_path(published)
    work.parent.mkdir(parents=True, exist_ok=True)
    if not work.exists() and published.exists():
        shutil.copyfile(published, work)
    return work


@contextlib.contextmanager
def connect_work(published: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writing connection to the work copy, closed (and so checkpointed) on exit."""
    con = duckdb.connect(str(prepare_work_copy(published)))
    try:
        yield con
    finally:
        con.close()


def checkpoint(path: Path) -> None:
    """Fold DuckDB's write-ahead log into the file, so that one file holds everything."""
    con = duckdb.connect(str(path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def publish(published: Path) -> str:
    """Copy the work copy next to ``published`` and rename it into place. Returns its sha256."""
    work = work_path(published)
    if not work.exists():
        raise FileNotFoundError(f"{work}: no work copy to publish")
    checkpoint(work)
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(published.name + ".tmp")
    shutil.copyfile(work, tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, published)
    return file_sha256(published)


def load_log(path: Path) -> list[tuple]:
    """(source_file, sha256, loaded_at, expectations_passed) of every file in a warehouse's
    audit.load_log, or [] when the file or the table does not exist yet. Read-only."""
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'audit' and table_name = 'load_log'"
        ).fetchone()[0]
        if not exists:
            return []
        return con.execute(
            "select source_file, sha256, loaded_at, expectations_passed "
            "from audit.load_log order by all"
        ).fetchall()
    finally:
        con.close()


def loaded_files(log: list[tuple]) -> dict[str, str]:
    """source_file -> sha256 of the files that count as loaded: a file whose Great
    Expectations suite failed stays pending, so that the next load checks it again."""
    return {row[0]: row[1] for row in log if row[3] is not False}
