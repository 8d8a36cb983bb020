"""The audit schema: its tables and every query of them.

- `audit.load_log`: one row per file loaded (sha256, rows read = loaded + rejected, dialect,
  extra columns, an identical earlier file, whether its Great Expectations suite passed,
  whether it ends with a line break, whether it was skipped as identical to an earlier file:
  then its rows are that file's, and it holds none of its own).
- `audit.rejected_rows`: one row per rejected input row (file, line, reason, detail, the raw
  record as JSON); `is_open` while the row waits for its customer.
- `audit.pending_<entity>`: the typed rows of orders and activities whose customer is in no
  snapshot yet (the raw table's columns). They move into raw once a snapshot brings the
  customer, and their rejection is then resolved.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb

from orchestration.lib.ingest.spec import HELD_ENTITIES, SPECS, UNKNOWN_CUSTOMER
from orchestration.lib.sql import has_table, read_only, records, sql_literal

LOAD_LOG_DDL = """create table if not exists audit.load_log (
    extract_date DATE, source_file VARCHAR, entity VARCHAR, sha256 VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, loaded_at TIMESTAMP,
    dialect VARCHAR, extra_columns VARCHAR, identical_to VARCHAR,
    expectations_passed BOOLEAN, ends_with_line_break BOOLEAN, skipped_as_identical BOOLEAN)"""
# columns added since the table's first form: a warehouse of an earlier version gains them
LOAD_LOG_ADDED = (("ends_with_line_break", "BOOLEAN"), ("skipped_as_identical", "BOOLEAN"))

REJECTED_ROWS_DDL = """create table if not exists audit.rejected_rows (
    extract_date DATE, source_file VARCHAR, entity VARCHAR, line_number BIGINT,
    reason VARCHAR, detail VARCHAR, raw_record VARCHAR, is_open BOOLEAN,
    resolved_at TIMESTAMP, resolved_extract_date DATE)"""

_FILE = "extract_date = $d and source_file = $f"


def ensure_schema(con) -> None:
    """Create schema audit and its tables when missing."""
    con.execute("create schema if not exists audit")
    con.execute(LOAD_LOG_DDL)
    for name, kind in LOAD_LOG_ADDED:
        con.execute(f"alter table audit.load_log add column if not exists {name} {kind}")
    con.execute(REJECTED_ROWS_DDL)
    for entity in HELD_ENTITIES:
        con.execute(
            f"create table if not exists audit.pending_{entity} ({SPECS[entity].table_ddl})"
        )


# --- one file's load ------------------------------------------------------------------------

@dataclass(frozen=True)
class LoggedLoad:
    """What audit.load_log holds of one file's last load."""

    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    dialect: str
    extra_columns: list[str]
    expectations_passed: bool | None


def logged_load(con, extract_date: dt.date, source_file: str) -> LoggedLoad | None:
    row = con.execute(
        "select sha256, rows_read, rows_loaded, rows_rejected, dialect, extra_columns, "
        f"expectations_passed from audit.load_log where {_FILE}",
        {"d": extract_date, "f": source_file},
    ).fetchone()
    if row is None:
        return None
    return LoggedLoad(row[0], row[1], row[2], row[3], row[4], json.loads(row[5] or "[]"), row[6])


def rejected_by_reason(con, extract_date: dt.date, source_file: str) -> dict[str, int]:
    rows = con.execute(
        f"select reason, count(*) from audit.rejected_rows where {_FILE} "
        "group by reason order by reason",
        {"d": extract_date, "f": source_file},
    ).fetchall()
    return dict(rows)


def identical_file(con, sha256: str) -> str | None:
    """The earliest file loaded with the same bytes, if any."""
    row = con.execute(
        "select source_file from audit.load_log where sha256 = $s "
        "order by extract_date, source_file limit 1",
        {"s": sha256},
    ).fetchone()
    return row[0] if row else None


def holding_copy(con, entity: str, sha256: str, source_file: str) -> tuple[str, bool | None]:
    """The earliest other file of `entity` with the same bytes whose rows are in the raw zone
    (loaded, not itself skipped as identical, its suite not failed), and its suite's verdict;
    None when there is none."""
    return con.execute(
        "select source_file, expectations_passed from audit.load_log "
        "where entity = $e and sha256 = $s and source_file <> $f "
        "and not coalesce(skipped_as_identical, false) "
        "and coalesce(expectations_passed, true) "
        "order by extract_date, source_file limit 1",
        {"e": entity, "s": sha256, "f": source_file},
    ).fetchone()


def identical_copies(con, source_file: str) -> list[tuple[dt.date, str]]:
    """(extract date, file) of the files skipped as identical to `source_file`: they hold no
    rows of their own, so they must be loaded again when `source_file` changes."""
    return con.execute(
        "select extract_date, source_file from audit.load_log "
        "where identical_to = $f and skipped_as_identical order by all",
        {"f": source_file},
    ).fetchall()


def forget_file(con, extract_date: dt.date, source_file: str, entity: str) -> None:
    """Delete what the audit tables hold of one file (before it is loaded again)."""
    params = {"d": extract_date, "f": source_file}
    if entity in HELD_ENTITIES:
        con.execute(f"delete from audit.pending_{entity} where {_FILE}", params)
    for table in ("rejected_rows", "load_log"):
        con.execute(f"delete from audit.{table} where {_FILE}", params)


def log_load(
    con, *, extract_date: dt.date, source_file: str, entity: str, sha256: str,
    rows_read: int, rows_loaded: int, loaded_at: dt.datetime, dialect: str,
    extra_columns: list[str], identical_to: str | None, ends_with_line_break: bool = True,
    skipped_as_identical: bool = False, expectations_passed: bool | None = None,
) -> None:
    """The file's audit.load_log row; its suite's verdict follows (`record_expectations`),
    except for a file skipped as identical, which takes the verdict of its identical file."""
    con.execute(
        "insert into audit.load_log (extract_date, source_file, entity, sha256, rows_read, "
        "rows_loaded, rows_rejected, loaded_at, dialect, extra_columns, identical_to, "
        "expectations_passed, ends_with_line_break, skipped_as_identical) "
        "values ($d, $f, $entity, $sha, $read, $loaded, $rejected, $at, $dialect, $extra, "
        "$identical, $passed, $ends, $skipped)",
        {
            "d": extract_date, "f": source_file, "entity": entity, "sha": sha256,
            "read": rows_read, "loaded": rows_loaded, "rejected": rows_read - rows_loaded,
            "at": loaded_at, "dialect": dialect, "extra": json.dumps(extra_columns),
            "identical": identical_to, "passed": expectations_passed,
            "ends": ends_with_line_break, "skipped": skipped_as_identical,
        },
    )


def record_expectations(con, extract_date: dt.date, source_file: str, passed: bool) -> None:
    con.execute(
        f"update audit.load_log set expectations_passed = $p where {_FILE}",
        {"p": passed, "d": extract_date, "f": source_file},
    )


def record_rejections(
    con, extract_date: dt.date, source_file: str, entity: str, raw_record_sql: str
) -> None:
    """Insert the rejected rows of `_rej` (line_number, reason, detail) with their raw record
    (`raw_record_sql` over the `_src` row `s`); only an unknown customer's row is open."""
    con.execute(
        f"""insert into audit.rejected_rows
            select $d, $f, $entity, r.line_number, r.reason, r.detail, {raw_record_sql},
                   r.reason = '{UNKNOWN_CUSTOMER}', NULL, NULL
            from _src as s join _rej as r on r.line_number = s.line_number
            order by r.line_number""",
        {"d": extract_date, "f": source_file, "entity": entity},
    )


def hold_pending(con, entity: str, rows_sql: str, params: dict) -> None:
    """Keep the typed rows of `rows_sql` (the raw table's columns) that `_rej` rejected for an
    unknown customer, until a snapshot brings the customer."""
    columns = ", ".join(f'"{c}"' for c in SPECS[entity].table_columns)
    con.execute(
        f"insert into audit.pending_{entity} ({columns}) {rows_sql} "
        "where exists (select 1 from _rej as r where r.line_number = t.line_number "
        f"and r.reason = '{UNKNOWN_CUSTOMER}')",
        params,
    )


def select_releasable(con, entity: str) -> int:
    """Put the held rows of `entity` whose customer is now in any snapshot (raw.customers)
    into the temp table `_released` (the raw table's columns); returns how many."""
    cols = ", ".join(f'"{c}"' for c in SPECS[entity].table_columns)
    con.execute(
        f"""create or replace temp table _released as
            select {cols} from audit.pending_{entity} as p
            where exists (select 1 from raw.customers as c
                          where c.customer_id = p.customer_id)"""
    )
    return con.execute("select count(*) from _released").fetchone()[0]


def resolve_released(con, extract_date: dt.date, entity: str, now: dt.datetime) -> None:
    """Once the rows of `_released` are in the raw zone: resolve their rejections (by the
    delivery `extract_date`) and stop holding them."""
    con.execute(
        f"""update audit.rejected_rows as r
           set is_open = false, resolved_at = $now, resolved_extract_date = $d
           from _released as x
           where r.entity = $entity and r.reason = '{UNKNOWN_CUSTOMER}' and r.is_open
             and r.extract_date = x.extract_date and r.source_file = x.source_file
             and r.line_number = x.line_number""",
        {"now": now, "d": extract_date, "entity": entity},
    )
    con.execute(
        f"""delete from audit.pending_{entity} as p using _released as x
            where p.extract_date = x.extract_date and p.source_file = x.source_file
              and p.line_number = x.line_number"""
    )


# --- what the checks read -------------------------------------------------------------------

def open_rejections(con, extract_date: dt.date, entity: str) -> int:
    """Rejected rows of one delivery and entity still waiting for their customer."""
    row = con.execute(
        "select count(*) from audit.rejected_rows where extract_date = ? and entity = ? "
        "and is_open",
        [extract_date, entity],
    ).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class Recount:
    """A file's rows counted again in the tables, independently of the loader's arithmetic."""

    rows_read: int  # as audit.load_log recorded it
    in_raw: int  # rows of the file in the raw table (held rows released later included)
    rejected: int  # rows of the file in audit.rejected_rows, less those released later

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.in_raw + self.rejected


def recount(con, entity: str, source_file: str) -> Recount | None:
    logged = con.execute(
        "select rows_read from audit.load_log where source_file = ?", [source_file]
    ).fetchone()
    if logged is None:
        return None
    in_raw = con.execute(
        f"select count(*) from raw.{entity} where source_file = ?", [source_file]
    ).fetchone()[0]
    rejected = con.execute(
        "select count(*) from audit.rejected_rows where source_file = ? "
        f"and not (reason = '{UNKNOWN_CUSTOMER}' and not is_open)",
        [source_file],
    ).fetchone()[0]
    return Recount(int(logged[0]), int(in_raw), int(rejected))


# --- what `cvm load`, the schedule and the summary read -------------------------------------

class LoadLogEntry(NamedTuple):
    source_file: str
    sha256: str
    loaded_at: dt.datetime
    expectations_passed: bool | None


def read_load_log(path: Path) -> list[LoadLogEntry]:
    """Every file in a warehouse's audit.load_log, or [] when the file or the table does not
    exist yet. Read-only."""
    if not path.exists():
        return []
    with read_only(path) as con:
        if not has_table(con, "audit", "load_log"):
            return []
        return records(con, LoadLogEntry,
                       "select source_file, sha256, loaded_at, expectations_passed "
                       "from audit.load_log order by all")


def published_digests(path: Path) -> dict[str, str]:
    """source_file -> sha256 of every file in the load log of the catalog file at `path` as it
    is on disk now. Read through an attachment of its own: a connection this process opened
    earlier (an analyst's, a report's) keeps the file it opened, even after a publish replaced
    it, and DuckDB hands that one out again to a plain read-only connect of the same path."""
    if not path.exists():
        return {}
    con = duckdb.connect()
    try:
        con.execute(f"attach {sql_literal(path)} as published (read_only)")
        if not con.execute(
                "select count(*) from duckdb_tables() where database_name = 'published' "
                "and schema_name = 'audit' and table_name = 'load_log'").fetchone()[0]:
            return {}
        return dict(con.execute(
            "select source_file, sha256 from published.audit.load_log").fetchall())
    finally:
        con.close()


def loaded_files(log: list[LoadLogEntry]) -> dict[str, str]:
    """source_file -> sha256 of the files that count as loaded: a file whose Great
    Expectations suite failed stays pending, so that the next load checks it again."""
    return {e.source_file: e.sha256 for e in log if e.expectations_passed is not False}


class EntityTotals(NamedTuple):
    entity: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int


class ReasonCount(NamedTuple):
    reason: str
    rows: int
    still_open: int


def _over_deliveries(con, record, select_from: str, key: str, extract_dates: list[str],
                     source_files: list[str] | None) -> list:
    """`select_from` (a select over an audit table) over the deliveries `extract_dates`, and
    only their files `source_files` when given, grouped and ordered by `key`, as `record`s."""
    return records(
        con, record,
        f"{select_from} where extract_date in (select unnest(?::date[])) "
        "and (?::varchar[] is null or source_file in (select unnest(?::varchar[]))) "
        f"group by {key} order by {key}",
        [extract_dates, source_files, source_files])


def totals_by_entity(con, extract_dates: list[str],
                     source_files: list[str] | None = None) -> list[EntityTotals]:
    """Rows read, loaded and rejected per entity over the given deliveries; only the files
    `source_files` among them, when given (the files a run loaded, not those it skipped)."""
    return _over_deliveries(
        con, EntityTotals, "select entity, sum(rows_read), sum(rows_loaded), sum(rows_rejected) "
        "from audit.load_log", "entity", extract_dates, source_files)


def rejections_by_reason(con, extract_dates: list[str],
                         source_files: list[str] | None = None) -> list[ReasonCount]:
    """Rejected rows per reason over the given deliveries (and `source_files`, when given),
    and how many are still open."""
    return _over_deliveries(
        con, ReasonCount, "select reason, count(*), count(*) filter (where is_open) "
        "from audit.rejected_rows", "reason", extract_dates, source_files)


class FileState(NamedTuple):
    """What the summary says of one file of a run."""

    source_file: str
    rows_read: int
    rejected: int  # rows rejected for good (those waiting for their customer left out)
    ends_with_line_break: bool
    identical_to: str | None  # set when the file was skipped as identical to this one


def file_states(con, source_files: list[str]) -> list[FileState]:
    """The load_log state of the given files, in their order of `source_files`."""
    rows = con.execute(
        f"""select l.source_file, l.rows_read,
               (select count(*) from audit.rejected_rows as r
                where r.extract_date = l.extract_date and r.source_file = l.source_file
                  and r.reason <> '{UNKNOWN_CUSTOMER}'),
               coalesce(l.ends_with_line_break, true),
               case when l.skipped_as_identical then l.identical_to end
            from audit.load_log as l where l.source_file in (select unnest(?::varchar[]))""",
        [source_files],
    ).fetchall()
    found = {row[0]: FileState(*row) for row in rows}
    return [found[name] for name in source_files if name in found]


def open_rejections_by_entity(con) -> dict[str, int]:
    """Rejected rows of every delivery still waiting for their customer, per entity."""
    rows = con.execute(
        "select entity, count(*) from audit.rejected_rows where is_open "
        "group by entity order by entity"
    ).fetchall()
    return dict(rows)
