"""The one writer's lock on the work copy.

DuckDB allows one writing process per file; this lock makes a second writer wait (and fail
with a clear error after a timeout) instead of failing inside DuckDB.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import filelock

from orchestration.settings import work_path


class WarehouseBusy(RuntimeError):
    """Another process is writing the work copy."""


def lock_path(published: Path) -> Path:
    return work_path(published).with_suffix(".lock")


@contextlib.contextmanager
def write_lock(published: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the one writer's lock on the work copy of ``published``."""
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
