"""Connections that write: the next catalog's connection, a transaction that nests, and the
memory budget of a load."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb

from orchestration.lib.warehouse.catalog import open_next
from orchestration.lib.warehouse.store import Store

MEMORY_LIMIT_BYTES = 512 << 20  # DuckDB memory during a load of a file-backed database
_UNITS = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


@contextlib.contextmanager
def connect_next(store: Store, session: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A writing connection to the next catalog of `session` (catalog.open_next), closed (and
    so checkpointed) on exit. The caller holds the writer's lock."""
    con = duckdb.connect(str(open_next(store, session)))
    try:
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(con) -> Iterator[None]:
    """A transaction, unless the caller holds one open already: then the caller's."""
    try:
        con.execute("begin transaction")
    except duckdb.TransactionException:  # already inside a transaction
        yield
        return
    try:
        yield
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


@contextlib.contextmanager
def memory_budget(con) -> Iterator[None]:
    """Lower DuckDB's memory_limit to MEMORY_LIMIT_BYTES during a load, restore it after.

    DuckDB keeps what fits in its limit (80% of RAM by default) in memory; with a lower
    limit the big staging table and the new raw blocks spill to the database's temp folder
    instead, for about the same speed. Only for a database file: an in-memory database
    cannot spill its own tables, so its limit stays as it is.
    """
    current, path = con.execute(
        "select current_setting('memory_limit'), "
        "(select path from duckdb_databases() where database_name = current_database())"
    ).fetchone()
    number, _, unit = str(current).partition(" ")
    try:
        limit = float(number) * _UNITS[unit]
    except (KeyError, ValueError):
        limit = 0.0
    if not path or limit <= MEMORY_LIMIT_BYTES:
        yield
        return
    con.execute(f"set memory_limit = '{MEMORY_LIMIT_BYTES}B'")
    try:
        yield
    finally:
        con.execute(f"set memory_limit = '{current}'")
