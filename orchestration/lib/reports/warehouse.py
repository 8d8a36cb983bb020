"""The published warehouse, read-only, and the errors of reading it.

Every report (the cockpit, the value statement, the charts, the export, the load summary)
reads the published DuckDB file through :class:`Warehouse`; nothing here writes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib.reports.errors import ReportError
from orchestration.lib.sql import sql_literal


class WarehouseMissing(ReportError):
    """The published warehouse file does not exist (yet)."""

    def __init__(self, path: Path):
        super().__init__(f"{path}: no published warehouse (run `cvm load` first)")
        self.path = path


class WarehouseUnreadable(ReportError):
    """The file exists but is no DuckDB warehouse with the marts."""

    def __init__(self, path: Path, reason: str):
        # the line names the path once: the database's own words name it again
        reason = " ".join(reason.replace(f'"{path}"', "").replace(str(path), "").split())
        super().__init__(f"{path}: cannot be read as a warehouse: {reason}")
        self.path = path
        self.reason = reason


class Warehouse:
    """The published DuckDB file, read-only; one DuckDB instance per version of the file.

    `cvm load` publishes a new version by renaming a new file into place. Each
    :meth:`reader` checks the file's identity (device, inode, size, mtime) and attaches a new
    version read-only when it changed, so the next request shows the new state without a
    restart. The file is attached to an in-memory database rather than opened directly:
    DuckDB caches opened files by path, which would hand out the replaced version while an
    older connection is still open. A replaced version is closed once its last cursor is.
    No write lock is ever taken.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._identity: tuple | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def _attach(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:", config={"threads": 2})
        try:
            con.execute(f"attach {sql_literal(self.path)} as warehouse (read_only)")
            con.execute("use warehouse")
            con.execute("select 1 from marts.customer_value limit 0")
        except duckdb.Error as exc:
            con.close()
            raise WarehouseUnreadable(self.path, str(exc).splitlines()[0]) from exc
        return con

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the current version of the file, closed when the block ends."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise WarehouseMissing(self.path) from None
        identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            if identity != self._identity or self._con is None:
                # the replaced connection is not closed here: cursors still reading it keep
                # it alive, and it goes when the last of them is closed
                self._con = self._attach()
                self._identity = identity
            cursor = self._con.cursor()
        try:
            cursor.execute("use warehouse")
            yield cursor
        finally:
            cursor.close()
