"""The warehouse's files beside the published catalog: where each kind lives, new file names,
and Parquet written by DuckDB.

For a published catalog `<dir>/<stem>.duckdb` the store is the folder `<dir>/<stem>.store/`:

    raw/<entity>/extract_date=YYYY-MM-DD/<id>.parquet   the raw zone: accepted rows, immutable
    marts/<table>/[month=YYYY-MM/]<id>.parquet          published mart files, immutable
    work/cvm_engine.duckdb                              the engine's working database (a cache)
    work/ingest/<id>.parquet                            the file being ingested, typed and judged
    work/dbt-target/                                    dbt's target folder: its parse, logs
    work/spark/                                         Spark's tables, metastore and log, and
    work/spark/cvm_engine.duckdb                        its DuckDB mirror (engine spark only)
    work/spark/dbt-target/                              dbt's target folder on Spark
    next/catalog.duckdb                                 the next catalog, while a run prepares it
    writer.lock                                         the one writer's lock
    cvm-load.log                                        the last load's dbt and Dagster log
    cvm-load.log.1 ... .4                               those of the loads before it
    landing-digests.json                                sha256 of landing files by identity

Files under raw/ and marts/ are never changed once written. A run writes new ones; the
catalog decides which are current. Paths in the catalog are relative to the store.

A load builds one `Store` (the published catalog's path and the engine's kind, both required)
and hands it down: to the catalog, the writer's lock, the build and publishing. A catalog
itself knows only the data files (`StoreFiles`: raw/ and marts/) and the ingest's work/ingest/.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from orchestration.lib.sql import sql_literal
from orchestration.settings import ENGINE_KINDS

# the engine's working database; a distinctive name, because dbt-duckdb qualifies relations
# with it (views copied into the catalog lose that qualifier: catalog.py)
ENGINE_DATABASE = "cvm_engine"


def store_root(published: Path) -> Path:
    """The store's folder beside the published catalog `<dir>/<stem>.duckdb`:
    `<dir>/<stem>.store`."""
    published = Path(published)
    return published.parent / f"{published.stem}.store"


def _in_store(*parts: str, doc: str | None = None) -> property:
    """A path in the store: `parts` under its root."""
    return property(lambda self: self.root.joinpath(*parts), doc=doc)


@dataclass(frozen=True)
class StoreFiles:
    """The immutable data files of a store, under `root`: what a catalog names (relative to
    the root), and the folder where the ingest judges a file's rows before it writes them. A
    catalog knows only these (catalog.store_of); the rest of the store is the `Store`'s."""

    root: Path

    raw_dir = _in_store("raw")
    marts_dir = _in_store("marts")
    ingest_dir = _in_store(
        "work", "ingest", doc="The typed and judged rows of the file being ingested "
        "(ingest/writing.py): one Parquet file at a time, deleted once the file is written.")

    def path(self, relative: str) -> Path:
        """The absolute path of a file the catalog names (relative to the store)."""
        return self.root / relative

    def new_raw_file(self, entity: str, extract_date: date) -> str:
        """A new, unique raw file name (relative) in the delivery's partition."""
        return f"raw/{entity}/extract_date={extract_date.isoformat()}/{uuid.uuid4().hex}.parquet"

    def new_mart_file(self, table: str, partition: str = "") -> str:
        """A new, unique mart file name (relative), in `partition` (e.g. 'month=2026-11')."""
        folder = f"marts/{table}/{partition}/" if partition else f"marts/{table}/"
        return f"{folder}{uuid.uuid4().hex}.parquet"

    def data_files(self) -> list[str]:
        """Every file under raw/ and marts/, relative to the store."""
        found = []
        for top in (self.raw_dir, self.marts_dir):
            if top.is_dir():
                found += [str(p.relative_to(self.root)) for p in top.rglob("*.parquet")]
        return sorted(found)


@dataclass(frozen=True)
class Store(StoreFiles):
    """The warehouse of the published catalog `published`, as the engine `engine_kind`
    (duckdb | spark) builds it: its store folder beside it (`root`), the engine's working
    files, the next catalog, the lock and the log. Built once per load (the runner, the
    Dagster resource) and handed down; the engine kind is always given, never assumed."""

    root: Path = field(init=False)
    published: Path
    engine_kind: str

    def __post_init__(self) -> None:
        if self.engine_kind not in ENGINE_KINDS:
            raise ValueError(f"engine {self.engine_kind!r} is unknown; choose one of "
                             f"{', '.join(ENGINE_KINDS)}")
        published = Path(self.published)
        object.__setattr__(self, "published", published)
        object.__setattr__(self, "root", store_root(published))

    @property
    def work_dir(self) -> Path:
        """The engine's own working folder: work/ on DuckDB, work/spark/ on Spark. Each engine
        has its own, so switching engines rebuilds (its state is not the published one)."""
        return self.spark_dir if self.engine_kind == "spark" else self.root / "work"

    @property
    def engine_database(self) -> Path:
        """The engine's working database: dbt's own on DuckDB; on Spark, the DuckDB mirror of
        Spark's output (spark_engine.py)."""
        return self.work_dir / f"{ENGINE_DATABASE}.duckdb"

    spark_dir = _in_store(
        "work", "spark", doc="Spark's warehouse, Hive metastore (Derby) and Derby log "
        "($CVM_SPARK_DIR of dbt).")

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder for the builds of this store (its partial parse is kept); one
        per engine, as each engine's parse is its own."""
        return self.work_dir / "dbt-target"

    next_catalog = _in_store("next", "catalog.duckdb")
    lock = _in_store("writer.lock")
    log = _in_store("cvm-load.log")
    landing_digests = _in_store(
        "landing-digests.json", doc="The cache of the landing files' sha256 (landing.Digests).")


def write_parquet(con, select_sql: str, target: Path, params: dict | None = None,
                  row_group_size: int | None = None) -> int:
    """Write the rows of `select_sql` to a new Parquet file `target` (row groups of DuckDB's
    default size unless given); the number of rows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    options = f", row_group_size {int(row_group_size)}" if row_group_size else ""
    statement = f"copy ({select_sql}) to {sql_literal(target)} (format parquet{options})"
    rows = con.execute(statement, params) if params else con.execute(statement)
    written = rows.fetchone()
    return int(written[0]) if written else 0


KEPT_LOGS = 4  # earlier loads' logs kept beside the current one


def rotate_log(path: Path, keep: int = KEPT_LOGS) -> None:
    """Start a fresh log at `path`: the current one becomes `<path>.1`, `.1` becomes `.2`, and
    so on; the one past `keep` is deleted."""
    path.with_name(f"{path.name}.{keep}").unlink(missing_ok=True)
    for number in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{number}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{number + 1}"))
    if path.exists():
        path.replace(path.with_name(f"{path.name}.1"))


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
