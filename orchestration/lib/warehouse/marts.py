"""The marts as published files: which are partitioned, and their export from the engine's
database into immutable Parquet files of the store, with views over them in the catalog.

- The big facts are partitioned by the month of their row's date. A run rewrites only the
  months its delta touched (the months the touched keys occupied before the build and occupy
  after it); a full build rewrites all. Each month is one file of its own COPY, its rows
  ordered by customer in row groups of FACT_ROW_GROUP_SIZE rows, so a lookup of one customer
  skips most row groups.
- Every other mart table is small (customers x periods at most) and is written whole.
- A mart that dbt builds as a view (a filter or join of other marts) is created again in the
  catalog, from its own SQL, over the catalog's views.
- The engine's own columns (ENGINE_ONLY_COLUMNS: the number of the build that wrote a fact's
  row) are not published.
- The seeds (schema reference) are copied into the catalog as tables.
- With a pseudonym key set (settings.pseudonym_key), every mart's column that holds a person's
  identifier is written as its keyed pseudonym (personal.py).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import duckdb

from orchestration import settings
from orchestration.lib.ingest import personal
from orchestration.lib.ingest.spec import SPECS
from orchestration.lib.sql import quote_ident, sql_literal
from orchestration.lib.warehouse import catalog
from orchestration.lib.warehouse.store import ENGINE_DATABASE, Store, write_parquet


@dataclass(frozen=True)
class PartitionedMart:
    """A mart published in monthly partitions: keyed by its extract's key, so that a touched
    key finds the partitions it was and is in."""

    table: str
    entity: str  # the extract whose touched keys touch this mart
    date_column: str  # a row's partition is the month of this date

    def key_match(self, left: str, right: str) -> str:
        return " and ".join(f"{left}.{quote_ident(k)} = {right}.{quote_ident(k)}"
                            for k in SPECS[self.entity].key)


PARTITIONED_MARTS = (
    PartitionedMart("fct_service_activities", "service_activities", "activity_date"),
    PartitionedMart("fct_order_lines", "orders", "order_date"),
)
PARTITION_COLUMN = "month"
SORT_COLUMN = "customer_id"
# rows per row group of the big facts' files: a customer's rows of a month, adjacent after
# the sort, lie in one group; smaller groups mean fewer rows read per lookup (DECISIONLOG.md)
FACT_ROW_GROUP_SIZE = 32_768
# columns of the engine's marts that are not published: the number of the build that wrote
# the row (dbt's `written_in_build`), by which a build over the delta finds the rows it wrote;
# published, it would make a warehouse loaded night by night differ from one loaded at once
BUILD_COLUMN = "written_in_build"
ENGINE_ONLY_COLUMNS = frozenset({BUILD_COLUMN})


def partition_sql(mart: PartitionedMart, alias: str = "") -> str:
    """The partition key of a row: 'YYYY-MM' of its date."""
    column = f"{alias}.{quote_ident(mart.date_column)}" if alias else quote_ident(mart.date_column)
    return f"strftime({column}, '%Y-%m')"


def month_filter(mart: PartitionedMart, month: str) -> str:
    """The rows of the partition `month` ('YYYY-MM'), as a range of the date column: a plain
    comparison that DuckDB pushes into the scan, where the key of `partition_sql` would be
    computed for every row."""
    first = dt.date.fromisoformat(f"{month}-01")
    after = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    column = quote_ident(mart.date_column)
    return f"{column} >= date '{first.isoformat()}' and {column} < date '{after.isoformat()}'"


def _columns(con, relation: str) -> list[tuple[str, str]]:
    """(name, type) of the columns of a relation or a table function."""
    rows = con.execute(f"describe select * from {relation}").fetchall()
    return [(r[0], r[1]) for r in rows]


def _published_columns(con, mart: str) -> list[tuple[str, str]]:
    """(name, type) of the columns of the engine's mart `mart` (qualified) that are
    published: all but the engine's own (ENGINE_ONLY_COLUMNS)."""
    return [c for c in _columns(con, mart) if c[0] not in ENGINE_ONLY_COLUMNS]


def _relations(con) -> list[tuple[str, str]]:
    """(name, 'table'|'view') of the engine's marts."""
    return con.execute(
        "select table_name, case when table_type = 'VIEW' then 'view' else 'table' end "
        "from information_schema.tables where table_catalog = ? and table_schema = 'marts' "
        "order by table_name", [ENGINE_DATABASE],
    ).fetchall()


@dataclass
class Exported:
    table: str
    partitions: list[str] | None  # rewritten partitions; None: the whole table
    files: int
    rows: int


def export_marts(con, store: Store, full: bool, build_number: int) -> list[Exported]:
    """Write the engine's marts to new files and list them in the catalog; `con` is a
    connection to the engine's database with the next catalog attached and in use
    (publish.py); `build_number` is the number of the build published (the next catalog's
    version), which the rows it wrote carry. Returns what was written. On an engine other
    than DuckDB, the database's marts are views over that engine's output (spark_engine.py):
    each is exported as files."""
    key = settings.pseudonym_key()
    if key:
        personal.register_pseudonym(con, key)
    done: list[Exported] = []
    views: dict[str, str] = {}
    partitioned = {m.table: m for m in PARTITIONED_MARTS}
    for name, kind in _relations(con):
        source = f"{ENGINE_DATABASE}.marts.{quote_ident(name)}"
        if kind == "view" and store.engine_kind == "duckdb":
            views[name] = _view_sql(con, name)
        elif name in partitioned:
            done.append(_export_partitioned(con, store, partitioned[name], source, full,
                                            build_number))
        else:
            done.append(_export_whole(con, store, name, source))
    con.execute("create schema if not exists marts")
    for name in {e.table for e in done}:
        _create_file_view(con, store, name,
                          _published_columns(con, f"{ENGINE_DATABASE}.marts.{name}"))
    _create_views(con, views)
    return done


def _order_by(columns: list[tuple[str, str]]) -> str:
    return f" order by {SORT_COLUMN}" if SORT_COLUMN in {c for c, _ in columns} else ""


def _select(columns: list[tuple[str, str]]) -> str:
    return ", ".join(quote_ident(c) for c, _ in columns)


def _select_published(columns: list[tuple[str, str]]) -> str:
    """The columns as written to a mart's file: with a pseudonym key set
    (settings.pseudonym_key), a person's identifier becomes its keyed pseudonym
    (personal.py), in every mart alike."""
    if not settings.pseudonym_key():
        return _select(columns)
    return ", ".join(
        f"{personal.PSEUDONYM_FUNCTION}({quote_ident(c)}) as {quote_ident(c)}"
        if personal.is_person_column(c) and t == "VARCHAR" else quote_ident(c)
        for c, t in columns)


def _export_whole(con, store: Store, name: str, source: str) -> Exported:
    columns = _published_columns(con, source)
    relative = store.new_mart_file(name)
    rows = write_parquet(con, f"select {_select_published(columns)} from {source}"
                         f"{_order_by(columns)}",
                         store.path(relative))
    _check_types(con, columns, [relative], store, name)
    catalog.replace_mart_files(con, name, None, [("", relative, rows)])
    return Exported(name, None, 1, rows)


def _export_partitioned(con, store: Store, mart: PartitionedMart, source: str,
                        full: bool, build_number: int) -> Exported:
    """One file per month, each written by its own COPY and sorted by customer within the
    month: a sort per month fits in memory, where one sort of the whole table spilled to disk
    (DECISIONLOG.md)."""
    columns = _published_columns(con, source)
    touched = None
    if not full:
        # the months the touched keys occupied before the build, and those they occupy now:
        # the months of the rows the build wrote (they carry its number; DuckDB reads only
        # the row groups that hold them)
        touched = sorted({r[0] for r in con.execute(
            f"select partition_key from {ENGINE_DATABASE}.cvm_delta.{mart.table}_partitions "
            f"union select distinct {partition_sql(mart, 'm')} from {source} as m "
            f"where m.{BUILD_COLUMN} = ?", [build_number]
        ).fetchall()})
        if not touched:
            return Exported(mart.table, [], 0, 0)
    files = []
    for month in touched if touched is not None else _months(con, mart, source):
        relative = store.new_mart_file(mart.table, f"{PARTITION_COLUMN}={month}")
        rows = write_parquet(
            con, f"select {_select_published(columns)} from {source} "
            f"where {month_filter(mart, month)}"
            f"{_order_by(columns)}", store.path(relative), row_group_size=FACT_ROW_GROUP_SIZE)
        if rows:
            files.append((month, relative, rows))
        else:  # a touched month left without rows: its old files go, no new one comes
            store.path(relative).unlink()
    if full and not files:  # an empty mart: one empty file keeps its columns
        relative = store.new_mart_file(mart.table)
        write_parquet(con, f"select {_select(columns)} from {source} limit 0",
                      store.path(relative))
        files = [("", relative, 0)]
    if files:
        _check_types(con, columns, [files[0][1]], store, mart.table)
    catalog.replace_mart_files(con, mart.table, touched, files)
    return Exported(mart.table, touched, len(files), sum(f[2] for f in files))


def _months(con, mart: PartitionedMart, source: str) -> list[str]:
    """Every month of the mart's rows; a row without a date, which no month holds, fails the
    export."""
    months = [r[0] for r in con.execute(
        f"select distinct {partition_sql(mart)} as month from {source} order by month"
    ).fetchall()]
    if None in months:
        raise RuntimeError(f"marts.{mart.table}: rows without {mart.date_column}; not published")
    return months


def _check_types(con, columns, paths: list[str], store: Store, name: str) -> None:
    """The file holds the table's columns with the same types (Parquet has no HUGEINT, for
    one): else the export fails, naming the table."""
    written = _columns(
        con, f"read_parquet({sql_literal(store.path(paths[0]))}, hive_partitioning = false)")
    if written != columns:
        raise RuntimeError(f"marts.{name}: the Parquet file's columns {written} differ from the "
                           f"table's {columns}")


def _create_file_view(con, store: Store, name: str, columns: list[tuple[str, str]]) -> None:
    paths = catalog.mart_files(con, name).get(name, [])
    files = ", ".join(sql_literal(store.path(p)) for p in paths)
    con.execute(
        f"create or replace view marts.{quote_ident(name)} as select {_select(columns)} "
        f"from read_parquet([{files}], hive_partitioning = false)"
    )


def _view_sql(con, name: str) -> str:
    """`create or replace view marts.<name>` with the query of the engine's view, without the
    engine's database qualifier (the catalog's own marts are meant)."""
    (sql,) = con.execute(
        "select sql from duckdb_views() where database_name = ? and schema_name = 'marts' "
        "and view_name = ?", [ENGINE_DATABASE, name],
    ).fetchone()
    found = re.match(r"\s*create\s+view\s+.*?\s+as\s+", sql, flags=re.I | re.S)
    if found is None:
        raise RuntimeError(f"marts.{name}: cannot read the view's query from {sql[:80]!r}")
    query = re.sub(rf'"?{ENGINE_DATABASE}"?\.', "", sql[found.end():]).rstrip().rstrip(";")
    return f"create or replace view marts.{quote_ident(name)} as {query}"


def _create_views(con, views: dict[str, str]) -> None:
    """Create the views in dependency order: a view whose dependency is missing is tried again
    after the others."""
    pending = dict(views)
    while pending:
        failed: dict[str, str] = {}
        for name, sql in pending.items():
            try:
                con.execute(sql)
            except duckdb.CatalogException:
                failed[name] = sql
        if len(failed) == len(pending):
            raise RuntimeError(f"views that cannot be created in the catalog: {sorted(failed)}")
        pending = failed


def copy_reference(con) -> None:
    """The seeds, as tables of the catalog's schema reference."""
    con.execute("create schema if not exists reference")
    for (name,) in con.execute(
        "select table_name from information_schema.tables where table_catalog = ? "
        "and table_schema = 'reference'", [ENGINE_DATABASE],
    ).fetchall():
        con.execute(f"create or replace table reference.{quote_ident(name)} as "
                    f"select * from {ENGINE_DATABASE}.reference.{quote_ident(name)}")
