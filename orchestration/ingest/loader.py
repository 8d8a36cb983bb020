"""Landing file -> typed raw table, with row rules, rejected rows, pending rows and load log.

`load_file(con, landing_root, extract_date, entity)` loads `<landing_root>/<date>/<entity>.csv`
into `raw.<entity>` in one transaction (architecture.md, "Python API of the ingest"):

1. stream the file once for sha256 + encoding; unchanged sha256 for the same folder and
   file -> skipped; 0 bytes, undecodable bytes, a required column missing -> FileRefused;
2. stream it through the normaliser (dialect.py) into a temp UTF-8 file with physical line
   numbers, read that with DuckDB's read_csv (all VARCHAR);
3. in one transaction: delete this folder's rows of the entity (raw, rejected, pending,
   load_log), release pending rows whose customer is now known, stage + type + judge every
   row set-based in SQL (rules.py), insert accepted rows, rejected rows, pending rows and the
   load_log row;
4. after the commit, run the Great Expectations suite on the rows that landed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from orchestration import settings
from orchestration.ingest import dialect as dl
from orchestration.ingest.rules import final_sql, quote_ident, quote_literal, staging_sql
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


# --- schemas ------------------------------------------------------------------------------

def _columns_ddl(spec: EntitySpec) -> str:
    cols = [f"{quote_ident(c.name)} {c.sql_type}" for c in spec.columns]
    cols += [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
    return ", ".join(cols)


AUDIT_DDL = (
    """create table if not exists audit.load_log (
        extract_date DATE, source_file VARCHAR, entity VARCHAR, sha256 VARCHAR,
        rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT, loaded_at TIMESTAMP,
        dialect VARCHAR, extra_columns VARCHAR, identical_to VARCHAR)""",
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
    """Move pending rows whose customer is known by `extract_date` into raw (same lineage)."""
    if entity not in PENDING_ENTITIES:
        return 0
    spec = get_spec(entity)
    cols = _all_columns(spec)
    con.execute(
        f"""create or replace temp table _released as
            select {cols} from audit.pending_{entity} as p
            where exists (select 1 from raw.customers as c
                          where c.customer_id = p.customer_id and c.extract_date <= $d)""",
        {"d": extract_date},
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
    """Release pending rows of `entity` whose customer is known up to `extract_date`.

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
        """select sha256, rows_read, rows_loaded, rows_rejected, dialect, extra_columns
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


def _read_source(con, normalised: dl.Normalised) -> None:
    """Create temp table _src (c0.., line_number, n_fields) from the normalised file."""
    width = len(normalised.header)
    names = [f"c{i}" for i in range(width)]
    if normalised.rows == 0:
        cols = ", ".join(f"{n} VARCHAR" for n in names)
        con.execute(
            f"create or replace temp table _src ({cols}, line_number BIGINT, n_fields INTEGER)"
        )
        return
    types = {n: "VARCHAR" for n in names} | {"line_number": "BIGINT", "n_fields": "INTEGER"}
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    con.execute(
        f"""create or replace temp table _src as
            select * from read_csv({quote_literal(str(normalised.path))}, header = false,
                delim = ',', quote = '"', escape = '"', columns = {columns},
                auto_detect = false)"""
    )


def _raw_record_sql(header: list[str]) -> str:
    pairs = ", ".join(f"{quote_literal(name)}, c{i}" for i, name in enumerate(header))
    return f"cast(json_object({pairs}) as varchar)" if pairs else "'{}'"


def _write(con, spec, header, lineage: dict, catalogue, positions, decimal_comma) -> None:
    """Stage the rows of _src and write raw, rejected and pending rows."""
    entity = spec.name
    width = len(header)
    con.execute(
        "create or replace temp table _typed as "
        + staging_sql(spec, positions, catalogue, width, decimal_comma)
    )
    con.execute(
        "create or replace temp table _staged as " + final_sql(spec),
        {"extract_date": lineage["d"]} if spec.checks_customer else {},
    )
    con.execute("drop table _typed")
    values = ", ".join(quote_ident(c) for c in spec.column_names)
    cols = _all_columns(spec)
    select = f"select {values}, $d, $f, line_number, $at from _staged"
    con.execute(f"insert into raw.{entity} ({cols}) {select} where reason is null", lineage)
    con.execute(
        f"""insert into audit.rejected_rows
            select $d, $f, $entity, line_number, reason, detail, {_raw_record_sql(header)},
                   reason = 'unknown_customer', NULL, NULL
            from _staged where reason is not null order by line_number""",
        {"d": lineage["d"], "f": lineage["f"], "entity": entity},
    )
    if entity in PENDING_ENTITIES:
        con.execute(
            f"insert into audit.pending_{entity} ({cols}) {select} "
            "where reason = 'unknown_customer'",
            lineage,
        )


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
    try:
        sha256, encoding = dl.file_digest_and_encoding(path)
    except dl.UndecodableFile as error:
        raise FileRefused(f"{source_file}: {error}") from None

    ensure_schemas(con)
    previous = _previous(con, date, source_file)
    if previous and previous[0] == sha256 and not force:
        released = release_pending(con, date, entity)
        return LoadResult(
            source_file=source_file, sha256=sha256, rows_read=previous[1],
            rows_loaded=previous[2], rows_rejected=previous[3],
            rejected_by_reason=_reasons(con, date, source_file), skipped_unchanged=True,
            extra_columns=json.loads(previous[5] or "[]"), dialect=previous[4],
            released_pending=released,
        )

    dialect = dl.detect_dialect(path, encoding)
    with tempfile.TemporaryDirectory(prefix="cvm_ingest_") as tmp:
        normalised = dl.normalise(path, dialect, Path(tmp) / "normalised.csv")
        positions, extra = _check_header(source_file, spec, normalised.header)
        now = dt.datetime.now()
        lineage = {"d": date, "f": source_file, "at": now}
        owned = _transaction(con)
        try:
            _delete_folder(con, date, source_file, entity)
            released = _release(con, date, entity, now)
            _read_source(con, normalised)
            _write(
                con, spec, normalised.header, lineage,
                catalogue if catalogue is not None else read_catalogue(),
                positions, dialect.decimal_comma,
            )
            counts = dict(
                con.execute(
                    "select coalesce(reason, ''), count(*) from _staged group by all"
                ).fetchall()
            )
            rows_read = sum(counts.values())
            rows_loaded = counts.pop("", 0)
            identical = con.execute(
                """select source_file from audit.load_log where sha256 = $s
                   order by extract_date, source_file limit 1""",
                {"s": sha256},
            ).fetchone()
            con.execute(
                "insert into audit.load_log values ($d, $f, $entity, $sha, $read, $loaded, "
                "$rejected, $at, $dialect, $extra, $identical)",
                lineage | {
                    "entity": entity, "sha": sha256, "read": rows_read, "loaded": rows_loaded,
                    "rejected": rows_read - rows_loaded, "dialect": dialect.describe(),
                    "extra": json.dumps(extra), "identical": identical[0] if identical else None,
                },
            )
            for table in ("_src", "_staged"):
                con.execute(f"drop table {table}")
            if owned:
                con.execute("commit")
        except Exception:
            if owned:
                con.execute("rollback")
            raise

    result = LoadResult(
        source_file=source_file, sha256=sha256, rows_read=rows_read, rows_loaded=rows_loaded,
        rows_rejected=rows_read - rows_loaded, rejected_by_reason=dict(sorted(counts.items())),
        extra_columns=extra, dialect=dialect.describe(), released_pending=released,
    )
    if run_expectations:
        from orchestration.ingest.expectations import validate_load

        result.expectation_results = validate_load(con, spec, date, source_file, result)
    return result
