"""Dagster resources: where the landing root and the warehouse are."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.lib.warehouse.connection import connect_next
from orchestration.lib.warehouse.lock import WarehouseBusy, write_lock
from orchestration.lib.warehouse.store import Store


class WarehouseResource(dg.ConfigurableResource):
    """The landing root the nightly job reads and the published warehouse it writes."""

    landing_dir: str
    warehouse_path: str
    # the kind of engine dbt builds on: duckdb (embedded) or spark (settings.engine_kind)
    engine_kind: str = "duckdb"
    # how long a run waits for another writer before it gives up (and is retried)
    lock_timeout_s: float = 600.0
    # retries of transient trouble (a busy warehouse file); a refused file is never retried
    transient_retries: int = 2
    retry_wait_s: float = 30.0

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def published(self) -> Path:
        return Path(self.warehouse_path)

    @property
    def store(self) -> Store:
        """The warehouse's store, as its engine builds it: what every step hands down."""
        return Store(self.published, self.engine_kind)

    @contextlib.contextmanager
    def writer(self, session: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer's connection to the next catalog of `session` (waits for another
        writer)."""
        store = self.store
        with write_lock(store, self.lock_timeout_s), connect_next(store, session) as con:
            yield con

    @contextlib.contextmanager
    def retry_transient(self) -> Iterator[None]:
        """Turn transient trouble into a Dagster retry; everything else fails the step."""
        try:
            yield
        except (WarehouseBusy, duckdb.IOException) as error:
            raise dg.RetryRequested(
                max_retries=self.transient_retries, seconds_to_wait=self.retry_wait_s
            ) from error

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[Store]:
        """The writer's lock without a connection, for dbt and publishing."""
        store = self.store
        with write_lock(store, self.lock_timeout_s):
            yield store
