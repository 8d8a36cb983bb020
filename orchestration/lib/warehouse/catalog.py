"""The catalog: the small DuckDB file analysts open, and the next one a run prepares.

The published catalog ($CVM_WAREHOUSE) holds
- `meta.*`: its version, the rules fingerprint and dbt vars its marts were built with, and the
  lists of the current files: raw files per entity and delivery, mart files per table and
  partition, and files retired from earlier versions (kept a while for open readers);
- `raw.*` and `marts.*`: views over those Parquet files in the store (store.py);
- `audit.*` (audit.py) and `reference.*` (the seeds): small tables.

A run never writes the published catalog. It copies it to `next/catalog.duckdb` in the store
(`open_next`), loads deliveries into that copy (audit rows, new raw files), lets dbt build, adds
the new mart files, and then publishes the copy by fsync and an atomic rename over the published
path (`publish_next`). A reader with the old catalog open keeps it: files the old catalog names
are only deleted versions later (`collect_garbage`). A failed or stopped run deletes its
unpublished copy and the files it wrote, which no catalog names (`abandon_next`); what a run
killed outright leaves, the next run deletes before it writes anything.

The next catalog belongs to one session (the runs of one `cvm load`, or one Dagster run): a
copy left behind by another session is discarded, so a run always starts from exactly the
published state.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.ingest.spec import SPECS, EntitySpec
from orchestration.lib.landing import sha256_of
from orchestration.lib.sql import has_table, quote_ident, read_only, records, sql_literal
from orchestration.lib.warehouse.store import (
    Store,
    StoreFiles,
    fsync_dir,
    fsync_file,
    store_root,
)

META_DDL = (
    "create schema if not exists meta",
    """create table if not exists meta.catalog (
        version BIGINT, store_root VARCHAR, rules_fingerprint VARCHAR, dbt_vars VARCHAR,
        published_at TIMESTAMP, session VARCHAR)""",
    """create table if not exists meta.raw_files (
        entity VARCHAR, extract_date DATE, source_file VARCHAR, path VARCHAR, rows BIGINT,
        kind VARCHAR, added_in_version BIGINT)""",
    """create table if not exists meta.mart_files (
        table_name VARCHAR, partition_key VARCHAR, path VARCHAR, rows BIGINT,
        added_in_version BIGINT)""",
    """create table if not exists meta.retired_files (
        path VARCHAR, retired_in_version BIGINT, retired_at TIMESTAMP)""",
)

# A retired file is deleted once it was retired at least this many versions ago and at least
# this long ago: a reader who opened one of the last catalogs keeps finding its files.
KEEP_VERSIONS = 2
KEEP_RETIRED = dt.timedelta(minutes=10)


def ensure_meta(con, store: StoreFiles | None = None) -> None:
    """Create schema meta and its tables when missing; `store` records where the files are."""
    for statement in META_DDL:
        con.execute(statement)
    if con.execute("select count(*) from meta.catalog").fetchone()[0] == 0:
        con.execute("insert into meta.catalog (version) values (0)")
    if store is not None:
        con.execute("update meta.catalog set store_root = ?", [str(store.root)])


def store_of(con) -> StoreFiles:
    """The files of the store this catalog names: the store it records, else the one beside
    its database file."""
    row = con.execute("select store_root from meta.catalog").fetchone()
    if row and row[0]:
        return StoreFiles(Path(row[0]))
    path = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()[0]
    if not path:
        raise RuntimeError("an in-memory catalog names no store: catalog.ensure_meta(con, store)")
    return StoreFiles(store_root(Path(path)))


@dataclass(frozen=True)
class CatalogState:
    version: int
    rules_fingerprint: str | None
    dbt_vars: str | None
    session: str | None


def state(con) -> CatalogState:
    row = con.execute(
        "select version, rules_fingerprint, dbt_vars, session from meta.catalog"
    ).fetchone()
    return CatalogState(int(row[0]), row[1], row[2], row[3])


def read_state(path: Path) -> CatalogState | None:
    """The state of a catalog file (read-only), or None when it does not exist or predates
    the catalog layout."""
    if not Path(path).exists():
        return None
    with read_only(path) as con:
        return state(con) if has_table(con, "meta", "catalog") else None


# --- raw files ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RawFile:
    entity: str
    extract_date: dt.date
    source_file: str
    path: str
    rows: int
    kind: str  # delivered | released


def raw_files(con, entity: str | None = None) -> list[RawFile]:
    """The current raw files (of one entity), in delivery order."""
    sql = ("select entity, extract_date, source_file, path, rows, kind from meta.raw_files"
           + (" where entity = ?" if entity else "") + " order by extract_date, entity, path")
    return records(con, RawFile, sql, [entity] if entity else [])


def register_raw_file(con, entity: str, extract_date: dt.date, source_file: str, path: str,
                      rows: int, kind: str) -> None:
    con.execute(
        "insert into meta.raw_files values (?, ?, ?, ?, ?, ?, "
        "(select version + 1 from meta.catalog))",
        [entity, extract_date, source_file, path, rows, kind],
    )


def retire_raw_files(con, entity: str, extract_date: dt.date) -> int:
    """Take every raw file of one delivery and entity out of the current list (a delivery
    loaded again replaces them all); returns how many."""
    return _retire(con, "meta.raw_files", "entity = $e and extract_date = $d",
                   {"e": entity, "d": extract_date})


def _retire(con, table: str, where: str, params) -> int:
    """Move the files of `table` (meta.raw_files or meta.mart_files) that match `where` to
    meta.retired_files, retired in the next version; returns how many."""
    con.execute(
        "insert into meta.retired_files select path, (select version + 1 from meta.catalog), "
        f"now()::timestamp from {table} where {where}", params,
    )
    return con.execute(f"delete from {table} where {where}", params).fetchone()[0]


def raw_view_sql(spec: EntitySpec, paths: list[str]) -> str:
    """The SELECT of raw.<entity> over the given Parquet files (absolute paths): the table's
    columns in order, typed; no rows when there are no files. Never a directory glob: a
    retired file and its successor lie side by side until the retired one is collected."""
    if not paths:
        columns = ", ".join(f"cast(null as {kind}) as {quote_ident(name)}"
                            for name, kind in spec.typed_table_columns)
        return f"select {columns} limit 0"
    files = ", ".join(sql_literal(p) for p in paths)
    columns = ", ".join(quote_ident(name) for name in spec.table_columns)
    return (f"select {columns} from read_parquet([{files}], union_by_name = true, "
            "hive_partitioning = false)")


def refresh_raw_views(con, entities: tuple[str, ...] | None = None) -> None:
    """(Re)create the views raw.<entity> over the catalog's current raw files."""
    files = [f for f in raw_files(con) if entities is None or f.entity in entities]
    create_raw_views(con, store_of(con), files, entities)


def create_raw_views(con, store: StoreFiles, files: list[RawFile],
                     entities: tuple[str, ...] | None = None) -> None:
    """(Re)create the views raw.<entity> (every entity, or `entities`) over `files`, the raw
    files of `store`: in the catalog and in the engine's database alike."""
    con.execute("create schema if not exists raw")
    for name in entities or tuple(SPECS):
        paths = [str(store.path(f.path)) for f in files if f.entity == name]
        con.execute(f"create or replace view raw.{name} as {raw_view_sql(SPECS[name], paths)}")


# --- mart files -----------------------------------------------------------------------------

def mart_files(con, table: str | None = None) -> dict[str, list[str]]:
    """table -> its current mart files (relative paths), in partition order."""
    sql = ("select table_name, path from meta.mart_files"
           + (" where table_name = ?" if table else "") + " order by table_name, partition_key")
    found: dict[str, list[str]] = {}
    for name, path in con.execute(sql, [table] if table else []).fetchall():
        found.setdefault(name, []).append(path)
    return found


def replace_mart_files(con, table: str, partitions: list[str] | None,
                       new_files: list[tuple[str, str, int]]) -> None:
    """Retire the files of `table` in `partitions` (None: all of them) and register
    `new_files` [(partition_key, path, rows)]."""
    where, params = "table_name = ?", [table]
    if partitions is not None:
        where += " and partition_key in (select unnest(?::varchar[]))"
        params.append(partitions)
    _retire(con, "meta.mart_files", where, params)
    for partition, path, rows in new_files:
        con.execute(
            "insert into meta.mart_files values (?, ?, ?, ?, "
            "(select version + 1 from meta.catalog))",
            [table, partition, path, rows],
        )


# --- the next catalog -----------------------------------------------------------------------

def open_next(store: Store, session: str) -> Path:
    """The next catalog of `session`: reused when this session began it, else a fresh copy of
    the published catalog (an empty one before the first publish). The caller holds the
    writer's lock."""
    target = store.next_catalog
    found = read_state(target) if target.exists() else None
    if found is not None and found.session == session:
        return target
    abandon_next(store)  # what a killed run left: its next catalog and its new files
    target.parent.mkdir(parents=True, exist_ok=True)
    if store.published.exists():
        shutil.copyfile(store.published, target)
    con = duckdb.connect(str(target))
    try:
        ensure_meta(con, store)
        con.execute("update meta.catalog set session = ?", [session])
        refresh_raw_views(con)  # over this store's files, wherever the catalog was before
    finally:
        con.close()
    return target


def next_session(store: Store) -> str | None:
    """The session of the next catalog in preparation, if any."""
    target = store.next_catalog
    found = read_state(target) if target.exists() else None
    return found.session if found else None


def discard_next(store: Store) -> None:
    """Delete an unpublished next catalog (and its write-ahead log)."""
    target = store.next_catalog
    for path in (target, target.with_name(target.name + ".wal")):
        path.unlink(missing_ok=True)


def abandon_next(store: Store) -> int:
    """After a failed or stopped run: delete its next catalog and every raw and mart file that
    the published catalog names nowhere (the run's new files; the published catalog names the
    files of every version kept for readers, current and retired). The caller holds the
    writer's lock. Returns the number of files deleted."""
    discard_next(store)
    return collect_garbage(store, published_names(store))


def published_names(store: Store) -> frozenset[str]:
    """Every file the published catalog names (none before the first publish). Read-only."""
    if read_state(store.published) is None:
        return frozenset()
    with read_only(store.published) as con:
        return named_files(con)


@dataclass(frozen=True)
class Publication:
    digest: str  # sha256 of the published catalog
    named: frozenset[str]  # every file it names: current and retired


def named_files(con) -> frozenset[str]:
    """The files a catalog names: its current raw and mart files and its retired ones."""
    return frozenset(r[0] for r in con.execute(
        "select path from meta.raw_files union select path from meta.mart_files "
        "union select path from meta.retired_files").fetchall())


def publish_next(store: Store) -> Publication:
    """Publish the next catalog: version + 1, fsync, atomic rename over the published one."""
    published = store.published
    source = store.next_catalog
    con = duckdb.connect(str(source))
    try:
        con.execute(
            "update meta.catalog set version = version + 1, session = null, "
            "published_at = now()::timestamp"
        )
        con.execute("checkpoint")
        named = named_files(con)
    finally:
        con.close()
    if source.with_name(source.name + ".wal").exists():
        raise RuntimeError(f"{source}: write-ahead log left after checkpoint; not published")
    fsync_file(source)
    published.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, published)
    fsync_dir(published.parent)
    return Publication(sha256_of(published), named)


# --- garbage ------------------------------------------------------------------------------

def expire_retired(con, now: dt.datetime | None = None) -> list[str]:
    """Forget retired files old enough to delete (see KEEP_*); returns their paths. Run on
    the next catalog before it is published; delete the files after (`collect_garbage`)."""
    now = now or dt.datetime.now()
    params = {"v": KEEP_VERSIONS, "t": now - KEEP_RETIRED}
    where = ("retired_in_version <= (select version + 1 from meta.catalog) - $v "
             "and retired_at <= $t")
    paths = [r[0] for r in con.execute(
        f"select path from meta.retired_files where {where}", params).fetchall()]
    con.execute(f"delete from meta.retired_files where {where}", params)
    return paths


def collect_garbage(store: StoreFiles, named: frozenset[str]) -> int:
    """Delete every raw and mart file that the catalog just published names nowhere (`named`,
    neither current nor retired): files retired long enough ago and files of failed runs. The
    caller holds the writer's lock. Returns the number of files deleted."""
    deleted = 0
    for relative in store.data_files():
        if relative not in named:
            store.path(relative).unlink(missing_ok=True)
            deleted += 1
    for top in (store.raw_dir, store.marts_dir):  # empty partition folders
        if top.is_dir():
            for folder in sorted(top.rglob("*"), reverse=True):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
    return deleted
