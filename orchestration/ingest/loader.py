"""Landing file -> typed raw table, with row rules, rejected rows, pending rows and load log.

`load_file(con, landing_root, extract_date, entity)` loads `<landing_root>/<date>/<entity>.csv`
into `raw.<entity>` in one transaction (architecture.md, "Python API of the ingest"):

1. one pass over the bytes for sha256, encoding and line layout (dialect.scan_file; a cp1252
   file is transcoded to a temp UTF-8 file); unchanged sha256 for the same folder and file
   -> skipped; 0 bytes, undecodable bytes, a required column missing -> FileRefused;
2. pick how DuckDB reads the records (dialect.py): the fast path reads the UTF-8 file itself
   and numbers the records (record n starts on line n + 1) when a counting read proves every
   record is one line with the header's field count; else the exact path streams the file
   through Python's csv reader into a normalised file with line numbers and field counts;
3. in one transaction: delete this folder's rows of the entity (raw, rejected, pending,
   load_log), release pending rows whose customer is now known, stage + type + judge every
   row set-based in SQL (rules.py), insert accepted rows, rejected rows, pending rows and the
   load_log row. Only the typed rows are materialised (`_typed`); raw texts are read back
   from the file for the rejected rows alone. DuckDB's memory limit is lowered for the load
   of a database file (`_memory_budget`), so big files spill instead of growing in RAM;
4. after the commit, run the Great Expectations suite on the rows that landed.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.ingest import dialect as dl
from orchestration.ingest.rules import (
    quote_ident,
    quote_literal,
    raw_record_sql,
    rejections_sql,
    staging_sql,
)
from orchestration.ingest.spec import LINEAGE_COLUMNS, SPECS, EntitySpec, get_spec

PENDING_ENTITIES = ("orders", "service_activities")


class FileRefused(Exception):
    """A whole landing file refused: its message names the file (and the column)."""


@dataclass
class LoadResult:
    source_file: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    skipped_unchanged: bool = False
    extra_columns: list[str] = field(default_factory=list)
    dialect: str = ""
    expectation_results: dict = field(default_factory=dict)
    released_pending: int = 0


@dataclass(frozen=True)
class Source:
    """What the `_src` view reads: the UTF-8 landing file itself (fast) or the normalised file
    of the exact path (dialect.py)."""

    path: Path
    header: list[str]
    dialect: dl.Dialect
    fast: bool
    rows: int | None = None


# --- schemas ------------------------------------------------------------------------------

def _columns_ddl(spec: EntitySpec) -> str:
    cols = [f"{quote_ident(c.name)} {c.sql_type}" for c in spec.columns]
    cols += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
    return ", ".join(cols)


AUDIT_DDL = (
    """create table if not exists audit.load_log (
        extract_date DATE, source_file VARCHAR, entity VARCHAR, sha256 VARCHAR,
        rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, loaded_at TIMESTAMP,
        dialect VARCHAR, extra_columns VARCHAR, identical_to VARCHAR,
        expectations_passed BOOLEAN)""",
    """create table if not exists audit.rejected_rows (
        extract_date DATE, source_file VARCHAR, entity VARCHAR, line_number BIGINT,
        reason VARCHAR, detail VARCHAR, raw_record VARCHAR, is_open BOOLEAN,
        resolved_at TIMESTAMP, resolved_extract_date DATE)""",
)


def ensure_schemas(con) -> None:
    """Create schemas raw and audit and their tables when missing (architecture.md)."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists audit")
    for spec in SPECS.values():
        con.execute(f"create table if not exists raw.{spec.name} ({_columns_ddl(spec)})")
    for entity in PENDING_ENTITIES:
        con.execute(
            f"create table if not exists audit.pending_{entity} ({_columns_ddl(SPECS[entity])})"
        )
    for ddl in AUDIT_DDL:
        con.execute(ddl)


# --- helpers ------------------------------------------------------------------------------

def read_catalogue(path: Path = settings.SERVICE_CATALOGUE_CSV) -> frozenset[str]:
    """The service_type_code values of the dbt seed (the one source of truth)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return frozenset(row["service_type_code"].strip() for row in csv.DictReader(handle))


def _as_date(extract_date) -> dt.date:
    if isinstance(extract_date, dt.date):
        return extract_date
    return dt.date.fromisoformat(str(extract_date))


def _all_columns(spec: EntitySpec) -> str:
    return ", ".join([quote_ident(c) for c in spec.column_names] + [n for n, _ in LINEAGE_COLUMNS])


def _transaction(con):
    """Begin a transaction unless one is open; returns whether we own it."""
    try:
        con.execute("begin transaction")
        return True
    except Exception as error:  # already inside a transaction
        if "transaction" in str(error).lower():
            return False
        raise


# --- pending rows -------------------------------------------------------------------------

def _release(con, extract_date: dt.date, entity: str, now: dt.datetime) -> int:
    """Move pending rows whose customer is now in any snapshot into raw (same lineage);
    `extract_date` is the delivery that resolves them."""
    if entity not in PENDING_ENTITIES:
        return 0
    spec = get_spec(entity)
    cols = _all_columns(spec)
    con.execute(
        f"""create or replace temp table _released as
            select {cols} from audit.pending_{entity} as p
            where exists (select 1 from raw.customers as c
                          where c.customer_id = p.customer_id)"""
    )
    released = con.execute("select count(*) from _released").fetchone()[0]
    if released:
        con.execute(f"insert into raw.{entity} ({cols}) select {cols} from _released")
        con.execute(
            """update audit.rejected_rows as r
               set is_open = false, resolved_at = $now, resolved_extract_date = $d
               from _released as x
               where r.entity = $entity and r.reason = 'unknown_customer' and r.is_open
                 and r.extract_date = x.extract_date and r.source_file = x.source_file
                 and r.line_number = x.line_number""",
            {"now": now, "d": extract_date, "entity": entity},
        )
        con.execute(
            f"""delete from audit.pending_{entity} as p using _released as x
                where p.extract_date = x.extract_date and p.source_file = x.source_file
                  and p.line_number = x.line_number"""
        )
    con.execute("drop table _released")
    return released


def release_pending(con, extract_date, entity: str) -> int:
    """Release pending rows of `entity` whose customer is now known.

    For a folder that has no file of this entity. Returns the number of rows released.
    """
    ensure_schemas(con)
    owned = _transaction(con)
    try:
        released = _release(con, _as_date(extract_date), entity, dt.datetime.now())
        if owned:
            con.execute("commit")
    except Exception:
        if owned:
            con.execute("rollback")
        raise
    return released


# --- load ---------------------------------------------------------------------------------

def _previous(con, extract_date: dt.date, source_file: str):
    return con.execute(
        """select sha256, rows_read, rows_loaded, rows_rejected, dialect, extra_columns,
                  expectations_passed
           from audit.load_log where extract_date = $d and source_file = $f""",
        {"d": extract_date, "f": source_file},
    ).fetchone()


def _reasons(con, extract_date: dt.date, source_file: str) -> dict[str, int]:
    rows = con.execute(
        """select reason, count(*) from audit.rejected_rows
           where extract_date = $d and source_file = $f group by reason order by reason""",
        {"d": extract_date, "f": source_file},
    ).fetchall()
    return dict(rows)


def _src_sql(source: Source, numbered: bool = True) -> str:
    """The SELECT behind the `_src` view: c0.., n_fields, line_number (unless not `numbered`,
    which only the fast path's `_rows` view uses: its records come in file order)."""
    width = len(source.header)
    if source.fast:
        values = ", ".join(f"c{i}" for i in range(width))
        number = ", row_number() over () + 1 as line_number" if numbered else ""
        return (
            f"select {values}, {width} as n_fields{number} "
            f"from {dl.read_csv_sql(source.path, source.dialect, width)}"
        )
    if source.rows == 0:
        cols = ", ".join(f"NULL::VARCHAR as c{i}" for i in range(width))
        return f"select {cols}, NULL::BIGINT as line_number, NULL::INTEGER as n_fields limit 0"
    types = {f"c{i}": "VARCHAR" for i in range(width)}
    types |= {"line_number": "BIGINT", "n_fields": "INTEGER"}
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    return (
        f"select * from read_csv({quote_literal(str(source.path))}, header = false, "
        f"delim = ',', quote = '\"', escape = '\"', columns = {columns}, auto_detect = false)"
    )


def _fast_records(con, scan: dl.FileScan, dialect: dl.Dialect, header: list[str]) -> bool:
    """Whether DuckDB's own read of the file gives the records the exact path would.

    It does when the scan found nothing odd, the header is one line, the read succeeds in
    strict mode (quotes are well formed), every record has the header's field count, and
    the record count + 1 equals the physical line count: then no record spans lines and no
    line was skipped, so record n starts on line n + 1.
    """
    width = len(header)
    if width < 2 or not scan.layout.simple:
        return False
    cursor = con.cursor()  # its own connection: a read error cannot touch a transaction of con
    try:
        count, ragged = cursor.execute(
            dl.fast_check_sql(scan.utf8_path, dialect, width)
        ).fetchone()
    except duckdb.Error:
        return False
    finally:
        cursor.close()
    return ragged == 0 and count + 1 == scan.layout.lines


def _prepare_source(con, scan: dl.FileScan, dialect: dl.Dialect, tmp: Path) -> Source:
    """The fast source when `_fast_records` allows it, else the exact path's normalised file."""
    header, header_lines = dl.read_header(scan.utf8_path, dialect)
    if header_lines == 1 and _fast_records(con, scan, dialect, header):
        return Source(scan.utf8_path, header, dialect, fast=True)
    normalised = dl.normalise(
        scan.utf8_path, dl.Dialect("utf-8", dialect.delimiter), tmp / "normalised.csv"
    )
    return Source(normalised.path, normalised.header, dialect, fast=False, rows=normalised.rows)


def _write(con, spec, source: Source, lineage: dict, catalogue, positions) -> dict[str, int]:
    """Stage the rows of the `_src` view, write raw, rejected and pending rows.

    Only one full-size table is materialised: `_typed` (line_number, typed values, reason1),
    without the raw texts. `_rej` holds the rejected rows (line_number, reason, detail); their
    raw texts are read back from `_src`. Returns the row count per reason ('' = loaded).
    """
    entity = spec.name
    header = source.header
    con.execute(
        "create or replace temp table _typed as "
        + staging_sql(
            spec, positions, catalogue, len(header), source.dialect.decimal_comma,
            source="_rows" if source.fast else "_src", number_rows=source.fast,
        )
    )
    con.execute(
        "create or replace temp table _rej as " + rejections_sql(spec)
    )
    counts = dict(
        con.execute("select reason, count(*) from _rej group by reason").fetchall()
    )
    total = con.execute("select count(*) from _typed").fetchone()[0]
    counts[""] = total - sum(counts.values())
    values = ", ".join(quote_ident(c) for c in spec.column_names)
    cols = _all_columns(spec)
    select = f"select {values}, $d, $f, t.line_number, $at from _typed as t"
    con.execute(
        f"insert into raw.{entity} ({cols}) {select} "
        "where not exists (select 1 from _rej as r where r.line_number = t.line_number)",
        lineage,
    )
    if len(counts) > 1:
        con.execute(
            f"""insert into audit.rejected_rows
                select $d, $f, $entity, r.line_number, r.reason, r.detail,
                       {raw_record_sql(header)}, r.reason = 'unknown_customer', NULL, NULL
                from _rej as r join _src as s on s.line_number = r.line_number
                order by r.line_number""",
            {"d": lineage["d"], "f": lineage["f"], "entity": entity},
        )
        if entity in PENDING_ENTITIES and counts.get("unknown_customer"):
            con.execute(
                f"insert into audit.pending_{entity} ({cols}) {select} "
                "where exists (select 1 from _rej as r where r.line_number = t.line_number "
                "and r.reason = 'unknown_customer')",
                lineage,
            )
    for table in ("_typed", "_rej"):
        con.execute(f"drop table {table}")
    return counts


MEMORY_LIMIT_BYTES = 512 << 20  # DuckDB memory during a load of a file-backed database
_UNITS = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


@contextlib.contextmanager
def _memory_budget(con):
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


def _delete_folder(con, extract_date: dt.date, source_file: str, entity: str) -> None:
    params = {"d": extract_date, "f": source_file}
    con.execute(f"delete from raw.{entity} where extract_date = $d and source_file = $f", params)
    if entity in PENDING_ENTITIES:
        con.execute(
            f"delete from audit.pending_{entity} where extract_date = $d and source_file = $f",
            params,
        )
    for table in ("rejected_rows", "load_log"):
        con.execute(
            f"delete from audit.{table} where extract_date = $d and source_file = $f", params
        )


def _check_header(source_file: str, spec: EntitySpec, header: list[str]):
    positions, extra = dl.match_columns(header, spec.column_names)
    missing = [name for name in spec.required_columns if name not in positions]
    if missing:
        raise FileRefused(
            f"{source_file}: required column {', '.join(missing)} missing "
            f"(header: {', '.join(h.strip() for h in header)})"
        )
    return positions, extra


def load_file(
    con,
    landing_root,
    extract_date,
    entity: str,
    *,
    run_expectations: bool = True,
    force: bool = False,
    catalogue: frozenset[str] | None = None,
) -> LoadResult:
    """Load one landing file into raw.<entity>; see the module docstring.

    `force=True` reloads even when the sha256 is unchanged.
    """
    spec = get_spec(entity)
    date = _as_date(extract_date)
    source_file = f"{date.isoformat()}/{entity}.csv"
    path = Path(landing_root) / date.isoformat() / f"{entity}.csv"
    if not path.is_file():
        raise FileRefused(f"{source_file}: file not found")
    if path.stat().st_size == 0:
        raise FileRefused(f"{source_file}: empty file (0 bytes)")

    with tempfile.TemporaryDirectory(prefix="cvm_ingest_") as tmp:
        try:
            scan = dl.scan_file(path, transcode_to=Path(tmp) / "utf8.csv")
        except dl.UndecodableFile as error:
            raise FileRefused(f"{source_file}: {error}") from None

        ensure_schemas(con)
        previous = _previous(con, date, source_file)
        # unchanged bytes are skipped, unless the suite failed on them: then they are loaded
        # and validated again, so that a failed blocking check keeps blocking
        if previous and previous[0] == scan.sha256 and previous[6] is not False and not force:
            released = release_pending(con, date, entity)
            return LoadResult(
                source_file=source_file, sha256=scan.sha256, rows_read=previous[1],
                rows_loaded=previous[2], rows_rejected=previous[3],
                rejected_by_reason=_reasons(con, date, source_file), skipped_unchanged=True,
                extra_columns=json.loads(previous[5] or "[]"), dialect=previous[4],
                released_pending=released,
            )

        dialect = dl.detect_dialect(path, scan.encoding)
        source = _prepare_source(con, scan, dialect, Path(tmp))
        positions, extra = _check_header(source_file, spec, source.header)
        now = dt.datetime.now()
        lineage = {"d": date, "f": source_file, "at": now}
        with _memory_budget(con):
            owned = _transaction(con)
            try:
                _delete_folder(con, date, source_file, entity)
                released = _release(con, date, entity, now)
                con.execute("create or replace temp view _src as " + _src_sql(source))
                if source.fast:
                    con.execute("create or replace temp view _rows as " + _src_sql(source, False))
                counts = _write(
                    con, spec, source, lineage,
                    catalogue if catalogue is not None else read_catalogue(), positions,
                )
                con.execute("drop view if exists _rows")
                con.execute("drop view _src")
                rows_read = sum(counts.values())
                rows_loaded = counts.pop("", 0)
                identical = con.execute(
                    """select source_file from audit.load_log where sha256 = $s
                       order by extract_date, source_file limit 1""",
                    {"s": scan.sha256},
                ).fetchone()
                con.execute(
                    "insert into audit.load_log values ($d, $f, $entity, $sha, $read, $loaded, "
                    "$rejected, $at, $dialect, $extra, $identical, null)",
                    lineage | {
                        "entity": entity, "sha": scan.sha256, "read": rows_read,
                        "loaded": rows_loaded, "rejected": rows_read - rows_loaded,
                        "dialect": dialect.describe(), "extra": json.dumps(extra),
                        "identical": identical[0] if identical else None,
                    },
                )
                if owned:
                    con.execute("commit")
            except Exception:
                if owned:
                    con.execute("rollback")
                raise

    result = LoadResult(
        source_file=source_file, sha256=scan.sha256, rows_read=rows_read,
        rows_loaded=rows_loaded, rows_rejected=rows_read - rows_loaded,
        rejected_by_reason=dict(sorted(counts.items())), extra_columns=extra,
        dialect=dialect.describe(), released_pending=released,
    )
    if run_expectations:
        from orchestration.ingest.expectations import validate_load

        result.expectation_results = validate_load(con, spec, date, source_file, result)
        passed = all(suite.get("success") for suite in result.expectation_results.values())
        con.execute(
            "update audit.load_log set expectations_passed = $p "
            "where extract_date = $d and source_file = $f",
            {"p": passed, "d": date, "f": source_file},
        )
    return result
