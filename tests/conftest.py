"""Fixtures shared by the tests: a DuckDB connection, and a process holding the writer's lock.

Helpers are imported one way, as the package `tests`: `from tests.ingest_fixtures import ...`.
"""

from __future__ import annotations

import multiprocessing
import time

import duckdb
import pytest

from orchestration.lib.warehouse.lock import write_lock


@pytest.fixture()
def con():
    """An in-memory DuckDB connection, closed after the test."""
    connection = duckdb.connect()
    yield connection
    connection.close()


def _hold_lock(published, seconds, ready):
    with write_lock(published):
        ready.set()
        time.sleep(seconds)


@pytest.fixture()
def lock_holder():
    """Start another process that holds the writer's lock of a warehouse for some seconds:
    `lock_holder(published, seconds)` returns once the lock is held."""
    holders = []

    def hold(published, seconds: float) -> None:
        ready = multiprocessing.Event()
        holder = multiprocessing.Process(target=_hold_lock, args=(published, seconds, ready))
        holder.start()
        holders.append(holder)
        assert ready.wait(10), "the other process did not get the lock"

    yield hold
    for holder in holders:
        holder.join()
