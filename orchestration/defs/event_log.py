"""The instance's event log: Dagster's one-file SQLite storage, with connections kept.

`ConsolidatedSqliteEventLogStorage` opens a new SQLite connection for every statement it runs
(about 2,000 in a nightly `cvm load`), and commits each write with a sync to disk. Closing the
last connection of a database in WAL mode also checkpoints the WAL into the file and deletes
it: two more syncs, for every event. This storage is the same tables in the same file, read
and written the same way, but through connections kept open in a pool (one set per process),
with `synchronous=NORMAL`: in WAL mode a commit is then written but synced only at the
checkpoint, and the file stays consistent whatever happens; a power cut can lose the last
events, never corrupt the log (DECISIONLOG.md). Those who watch a run's events (the
webserver's live logs) are told of changes to the WAL file too, where the commits now land.

`orchestration/dagster.yaml` names it; an instance configured with Dagster's own class reads
the same file.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import sqlalchemy as db
from dagster._core.storage.event_log import ConsolidatedSqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from watchdog.events import PatternMatchingEventHandler
from watchdog.observers import Observer

SYNCHRONOUS = "NORMAL"


class KeptConnectionsSqliteEventLogStorage(ConsolidatedSqliteEventLogStorage):
    """`ConsolidatedSqliteEventLogStorage` through one engine per process (see the module)."""

    _engine_lock = threading.Lock()

    def _engine(self) -> db.Engine:
        # a process forked from this one gets an engine of its own: SQLite connections must
        # not cross a fork
        pid = os.getpid()
        with self._engine_lock:
            engine = getattr(self, "_kept_engine", None)
            if engine is None or self._kept_pid != pid:
                if engine is not None:
                    engine.dispose(close=False)  # the parent's connections are the parent's
                engine = db.create_engine(
                    self._conn_string,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                  "check_same_thread": False},
                    poolclass=db.pool.QueuePool, pool_size=2, max_overflow=8,
                )
                db.event.listen(engine, "connect", _set_pragmas)
                self._kept_engine, self._kept_pid = engine, pid
            return engine

    @contextmanager
    def _connect(self):
        with self._engine().connect() as conn, conn.begin():
            yield conn

    def has_table(self, table_name: str) -> bool:
        # asked before every asset check event; a table, once there, stays (migrations add)
        present = getattr(self, "_present_tables", None)
        if present is None:
            present = self._present_tables = set()
        if table_name not in present:
            engine = self._engine()
            with engine.connect() as conn:
                if engine.dialect.has_table(conn, table_name):
                    present.add(table_name)
        return table_name in present

    def watch(self, run_id, cursor, callback) -> None:
        # a commit writes the WAL file; the database file itself changes only at checkpoints
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
            self._obs.schedule(_Watchdog(self), self._base_dir, recursive=True)
        self._watchers[run_id][callback] = cursor

    def dispose(self) -> None:
        engine = getattr(self, "_kept_engine", None)
        if engine is not None and self._kept_pid == os.getpid():
            engine.dispose()
        self._kept_engine = None
        super().dispose()


def _set_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    cursor.close()


class _Watchdog(PatternMatchingEventHandler):
    """Tells the storage's watchers (the webserver's live run logs) of every commit."""

    def __init__(self, storage: KeptConnectionsSqliteEventLogStorage):
        self._storage = storage
        path = storage.get_db_path()
        super().__init__(patterns=[path, f"{path}-wal"])

    def on_modified(self, event) -> None:
        self._storage.on_modified()
