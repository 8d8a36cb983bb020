"""Writing one file's rows: typed and judged in SQL (rules.py), accepted rows to a new Parquet
file of the raw zone, rejected and held rows to the audit tables (audit.py).

The raw zone keeps one or more immutable Parquet files per delivery and extract
(`raw/<entity>/extract_date=YYYY-MM-DD/`, store.py); the catalog lists the current ones
(`meta.raw_files`, catalog.py), and `raw.<entity>` is a view over exactly that list, never a
directory glob. Loading a delivery's file again retires all of that delivery's files of the
entity and writes a new one. Held rows released later are written as an extra file in their
own delivery's partition, with their original lineage.

The file's records are read once, typed and judged row by row (line_number, typed values,
reason1, the lineage), into one Parquet file in the store's work/ingest/ (`_typed` is a view
over it), and never into a table of the database: a table that size spills to DuckDB's temp
files uncompressed, several times the file's Parquet size. `_rej` holds the rejected rows
(line_number, reason, detail); their raw texts are read back from the `_src` view of the
file's records. When no row is rejected, the typed file holds exactly the rows to keep and
becomes the raw file itself (moved into the raw zone; `raw.<entity>` reads the table's columns
by name, so its columns reason1 and detail1, all empty, are never seen); otherwise the
accepted rows are written to a new raw file. The typed file is deleted once the file is
written or has failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from orchestration.lib import audit
from orchestration.lib.ingest.rules import (
    DecimalComma,
    FileFacts,
    quote_ident,
    raw_record_sql,
    rejections_sql,
    staging_sql,
)
from orchestration.lib.ingest.spec import HELD_ENTITIES, SPECS, UNKNOWN_CUSTOMER, EntitySpec
from orchestration.lib.sql import sql_literal
from orchestration.lib.warehouse import catalog
from orchestration.lib.warehouse.catalog import refresh_raw_views
from orchestration.lib.warehouse.store import write_parquet

DELIVERED, RELEASED = "delivered", "released"


def ensure_raw_views(con) -> None:
    """Create schema raw and its views when missing."""
    existing = {r[0] for r in con.execute(
        "select view_name from duckdb_views() where schema_name = 'raw' "
        "and database_name = current_database()").fetchall()}
    missing = tuple(name for name in SPECS if name not in existing)
    if missing:
        refresh_raw_views(con, missing)


def retire_delivery(con, entity: str, extract_date: dt.date, source_file: str) -> None:
    """Take the raw files of one delivery's file out of the catalog (before it is loaded
    again); raw.<entity> no longer shows their rows. A delivery may hold several files of an
    entity (the extract and native files of source systems, adapters/): each is replaced on
    its own."""
    if catalog.retire_raw_files(con, entity, extract_date, source_file):
        refresh_raw_views(con, (entity,))


def _write_raw_file(con, entity: str, extract_date: dt.date, source_file: str,
                    select_sql: str, params: dict, kind: str) -> int:
    """Write the rows of `select_sql` (the raw table's columns) to a new raw file of the
    delivery and list it in the catalog; returns the rows written (no file for none)."""
    store = catalog.store_of(con)
    relative = store.new_raw_file(entity, extract_date)
    rows = write_parquet(con, select_sql, store.path(relative), params)
    if rows == 0:
        store.path(relative).unlink(missing_ok=True)
        return 0
    catalog.register_raw_file(con, entity, extract_date, source_file, relative, rows, kind)
    return rows


def write_rows(
    con,
    spec: EntitySpec,
    header: list[str],
    positions: dict[str, int],
    decimal_comma: DecimalComma,
    catalogue: frozenset[str],
    lineage: dict,
) -> dict[str, int]:
    """Judge the records of the `_src` view and write them; the row count per reason
    ('' = loaded). `decimal_comma`: the number format of the decimal columns (rules.typed_sql).
    `lineage` holds the file's $d (extract date), $f (source file), $at (load
    time)."""
    staged = staging_sql(spec, positions, decimal_comma,
                         FileFacts(catalogue, len(header), lineage["d"]))
    typed = (f"select staged.*, $d as extract_date, $f as source_file, $at as loaded_at "
             f"from ({staged}) as staged")
    with _typed_rows(con, typed, lineage) as (total, path):
        return _judge_and_write(con, spec, header, lineage, total, path)


@contextlib.contextmanager
def _typed_rows(con, select_sql: str, params: dict) -> Iterator[tuple[int, Path]]:
    """The rows of `select_sql` as the view `_typed` over a Parquet file of the store's
    work/ingest/, within this; yields their number and the file (which the caller may move
    away). The store has one writer (its catalog's connection), so any file left there is a
    killed load's, and goes first."""
    folder = catalog.store_of(con).ingest_dir
    for stale in folder.glob("*.parquet"):
        stale.unlink()
    path = folder / f"{uuid.uuid4().hex}.parquet"
    try:
        total = write_parquet(con, select_sql, path, params)
        con.execute(f"create or replace temp view _typed as select * from read_parquet("
                    f"{sql_literal(path)})")
        yield total, path
        con.execute("drop view _typed")
    finally:
        # on a failure, the transaction's rollback takes the view
        path.unlink(missing_ok=True)


def _judge_and_write(con, spec: EntitySpec, header: list[str], lineage: dict,
                     total: int, typed: Path) -> dict[str, int]:
    """write_rows over `_typed` (`total` rows in the file `typed`): the rejections, then the
    accepted rows."""
    entity = spec.name
    con.execute("create or replace temp table _rej as " + rejections_sql(spec))
    counts = dict(con.execute("select reason, count(*) from _rej group by reason").fetchall())
    counts[""] = total - sum(counts.values())

    values = ", ".join(quote_ident(c) for c in spec.column_names)
    rows = (f"select {values}, $d as extract_date, $f as source_file, t.line_number, "
            "$at as loaded_at from _typed as t")
    if total and len(counts) == 1:  # every row accepted: the typed file is the raw file
        written = _move_raw_file(con, entity, lineage["d"], lineage["f"], typed, total)
    else:
        accepted = (f"{rows} where not exists "
                    "(select 1 from _rej as r where r.line_number = t.line_number)")
        written = _write_raw_file(con, entity, lineage["d"], lineage["f"], accepted,
                                  lineage, DELIVERED)
    if written != counts[""]:
        raise RuntimeError(f"{lineage['f']}: {counts['']} rows accepted, {written} written")
    if written:
        refresh_raw_views(con, (entity,))
    if len(counts) > 1:
        audit.record_rejections(con, lineage["d"], lineage["f"], entity, raw_record_sql(header))
        if entity in HELD_ENTITIES and counts.get(UNKNOWN_CUSTOMER):
            audit.hold_pending(con, entity, rows, lineage)
    con.execute("drop table _rej")
    return counts


def _move_raw_file(con, entity: str, extract_date: dt.date, source_file: str, typed: Path,
                   rows: int) -> int:
    """Make the typed file of a delivery's file, every row of it accepted (`rows`), a new raw
    file of the delivery, listed in the catalog; returns the rows its footer counts, for the
    caller to check against those accepted. A rename within the store: the typed file lies in
    its work/ingest/."""
    store = catalog.store_of(con)
    relative = store.new_raw_file(entity, extract_date)
    target = store.path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(typed, target)
    written = con.execute("select sum(num_rows) from parquet_file_metadata(?)",
                          [str(target)]).fetchone()[0]
    catalog.register_raw_file(con, entity, extract_date, source_file, relative, rows, DELIVERED)
    return int(written or 0)


@contextlib.contextmanager
def joins_as_written(con) -> Iterator[None]:
    """Hash joins build on their right side, as the SQL writes them, within this (not inside
    a transaction: a failed statement would leave it unable to restore the setting).

    DuckDB builds a hash join on the side it estimates smaller. It estimates a CSV file (the
    `_src` view of the file's records) at a few dozen rows, so it would build on the file's
    records, keeping all of them in memory or spilling them, and probe with the small side:
    the staging query's table of time-zone offsets, the rejected rows. The ingest's statements
    join the small side on the right.
    """
    setting = "disabled_optimizers"
    current = con.execute(f"select current_setting('{setting}')").fetchone()[0]
    names = {*filter(None, current.split(",")), "build_side_probe_side"}
    con.execute(f"set {setting} = '{','.join(sorted(names))}'")
    try:
        yield
    finally:
        con.execute(f"set {setting} = '{current}'")


def release_pending(con, extract_date: dt.date, entity: str, now: dt.datetime) -> int:
    """Move held rows of `entity` whose customer is now in any snapshot into the raw zone:
    one new file per delivery they came from, with their lineage; their rejections are
    resolved by `extract_date`. Returns the number of rows released."""
    if entity not in HELD_ENTITIES:
        return 0
    released = audit.select_releasable(con, entity)
    if released:
        columns = ", ".join(quote_ident(c) for c in SPECS[entity].table_columns)
        for delivery, source_file in con.execute(
            "select distinct extract_date, source_file from _released order by all"
        ).fetchall():
            _write_raw_file(
                con, entity, delivery, source_file,
                f"select {columns} from _released where extract_date = $d and source_file = $f",
                {"d": delivery, "f": source_file}, RELEASED,
            )
        refresh_raw_views(con, (entity,))
        audit.resolve_released(con, extract_date, entity, now)
    con.execute("drop table _released")
    return released
