"""The one writer's lock on a warehouse: its next catalog, its engine's database and its store.

DuckDB allows one writing process per file; this lock makes a second writer wait (and fail
with a clear error after a timeout) instead of failing inside DuckDB.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import filelock

from orchestration.lib.warehouse.store import Store


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse."""


def lock_path(published: Path) -> Path:
    return Store.beside(published).lock


@contextlib.contextmanager
def write_lock(published: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the one writer's lock on the warehouse ``published``."""
    path = lock_path(published)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path)
    try:
        lock.acquire(timeout=timeout_s, poll_interval=0.2)
    except filelock.Timeout:
        raise WarehouseBusy(
            f"{path}: another run is writing the warehouse; gave up after {timeout_s:.0f} s"
        ) from None
    try:
        yield
    finally:
        lock.release()
