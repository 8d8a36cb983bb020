"""Writing one file's rows: typed and judged in SQL (rules.py), accepted rows to raw.<entity>,
rejected and held rows to the audit tables (audit.py).

Only one full-size table is materialised: `_typed` (line_number, typed values, reason1),
without the raw texts. `_rej` holds the rejected rows (line_number, reason, detail); their raw
texts are read back from the `_src` view of the file's records.
"""

from __future__ import annotations

import datetime as dt

from orchestration.lib import audit
from orchestration.lib.ingest.rules import (
    FileFacts,
    quote_ident,
    raw_record_sql,
    rejections_sql,
    staging_sql,
)
from orchestration.lib.ingest.spec import HELD_ENTITIES, SPECS, UNKNOWN_CUSTOMER, EntitySpec


def ensure_raw_tables(con) -> None:
    """Create schema raw and a table per extract when missing."""
    con.execute("create schema if not exists raw")
    for spec in SPECS.values():
        con.execute(f"create table if not exists raw.{spec.name} ({spec.table_ddl})")


def delete_file_rows(con, entity: str, extract_date: dt.date, source_file: str) -> None:
    """Delete raw.<entity>'s rows of one file (before it is loaded again)."""
    con.execute(
        f"delete from raw.{entity} where extract_date = $d and source_file = $f",
        {"d": extract_date, "f": source_file},
    )


def write_rows(
    con,
    spec: EntitySpec,
    header: list[str],
    positions: dict[str, int],
    decimal_comma: bool,
    catalogue: frozenset[str],
    lineage: dict,
) -> dict[str, int]:
    """Judge the records of the `_src` view and write them; the row count per reason
    ('' = loaded). `lineage` holds the file's $d (extract date), $f (source file), $at (load
    time)."""
    entity = spec.name
    con.execute(
        "create or replace temp table _typed as "
        + staging_sql(spec, positions, decimal_comma,
                      FileFacts(catalogue, len(header), lineage["d"]))
    )
    con.execute("create or replace temp table _rej as " + rejections_sql(spec))
    counts = dict(con.execute("select reason, count(*) from _rej group by reason").fetchall())
    total = con.execute("select count(*) from _typed").fetchone()[0]
    counts[""] = total - sum(counts.values())

    values = ", ".join(quote_ident(c) for c in spec.column_names)
    columns = ", ".join(quote_ident(c) for c in spec.table_columns)
    rows = f"select {values}, $d, $f, t.line_number, $at from _typed as t"
    con.execute(
        f"insert into raw.{entity} ({columns}) {rows} "
        "where not exists (select 1 from _rej as r where r.line_number = t.line_number)",
        lineage,
    )
    if len(counts) > 1:
        audit.record_rejections(con, lineage["d"], lineage["f"], entity, raw_record_sql(header))
        if entity in HELD_ENTITIES and counts.get(UNKNOWN_CUSTOMER):
            audit.hold_pending(con, entity, rows, lineage)
    for table in ("_typed", "_rej"):
        con.execute(f"drop table {table}")
    return counts
