"""Landing file -> a typed Parquet file of the raw zone, in one transaction per file.

`load_file(con, landing_root, extract_date, entity)` loads `<landing_root>/<date>/<entity>.csv`
into the raw zone that `con`'s catalog names, seen as `raw.<entity>` (architecture.md, "Python
API of the ingest"), in these steps:

1. refuse what cannot be read: no file, 0 bytes, undecodable bytes (dialect.scan_file, which
   also gives the sha256, unless the landing's digests know it: landing.Digests), a required
   column missing -> FileRefused, nothing written;
2. skip bytes already loaded: the same sha256 for the same folder and file, unless its
   Great Expectations suite failed;
3. read every record with its physical line: a plain UTF-8 file as it is
   (reading.plain_records), any other through reading.normalise; an unclosed quote or an
   unreadable header -> FileRefused;
4. in one transaction of the catalog: forget the file's earlier load (retire its raw files,
   delete its audit rows), release held rows whose customer is now known, judge the rows and
   write the accepted ones to a new raw file (writing.write_rows), log the load
   (audit.log_load). The rows DuckDB judged must be the records read, or the file is refused
   and the transaction rolled back; a file written by a load that is rolled back is named by
   no catalog. DuckDB's memory limit is lowered meanwhile, so that big files spill instead of
   growing in RAM, and its hash joins build on the side the SQL puts on the right (the small
   one: DuckDB misjudges the size of a CSV file, writing.joins_as_written);
5. after the commit, run the Great Expectations suite on the rows that landed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration import settings
from orchestration.lib import audit
from orchestration.lib.ingest import dialect as dl
from orchestration.lib.ingest import expectations, reading, writing
from orchestration.lib.ingest.catalogue import read_catalogue
from orchestration.lib.ingest.spec import UNKNOWN_CUSTOMER, EntitySpec, get_spec
from orchestration.lib.warehouse import catalog
from orchestration.lib.warehouse.connection import memory_budget, transaction

if TYPE_CHECKING:
    from orchestration.lib.landing import Digests

# a share of rejected rows refuses only a file of at least this many rows: in a small nightly
# delta a handful of faults is a large share and says nothing of how the file was read (the
# summary names such a file all the same)
MIN_ROWS_FOR_SHARE = 100


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
    identical_to: str | None = None  # skipped: these bytes are loaded as that file already
    ends_with_line_break: bool = True
    reloaded_copies: list[str] = field(default_factory=list)  # files that held no rows of
    # their own (skipped as identical to this one), loaded on their own after this one changed


def ensure_schemas(con) -> None:
    """Create schemas meta, raw and audit, their tables and views, when missing
    (architecture.md). The catalog must name its store (catalog.ensure_meta)."""
    catalog.ensure_meta(con)
    writing.ensure_raw_views(con)
    audit.ensure_schema(con)


def release_pending(con, extract_date, entity: str) -> int:
    """Release held rows of `entity` whose customer is now known, for a delivery that has no
    file of this entity. Returns the number of rows released."""
    ensure_schemas(con)
    with transaction(con):
        return writing.release_pending(con, _as_date(extract_date), entity, dt.datetime.now())


def load_file(
    con,
    landing_root,
    extract_date,
    entity: str,
    *,
    run_expectations: bool = True,
    force: bool = False,
    catalogue: frozenset[str] | None = None,
    digests: Digests | None = None,
) -> LoadResult:
    """Load one landing file into raw.<entity>; see the module docstring.

    `force=True` reloads even when the sha256 is unchanged or another file holds the same
    bytes. `digests`: the landing's known sha256 (landing.Digests); a file it knows as it is
    now is not hashed again.
    """
    spec = get_spec(entity)
    date = _as_date(extract_date)
    source_file = f"{date.isoformat()}/{entity}.csv"
    policy = _Policy.read(entity)
    path = Path(landing_root) / source_file
    scan = _scan(path, source_file, digests)
    ensure_schemas(con)
    previous = audit.logged_load(con, date, source_file)
    if _unchanged(previous, scan, force):
        return _skipped(con, date, source_file, entity, scan, previous)
    holder = None if force else audit.holding_copy(con, entity, scan.sha256, source_file)
    if holder is not None:
        return _skipped_identical(con, date, source_file, entity, scan, holder)

    ends = _ends_with_line_break(path)
    if not ends and policy.line_break == "refuse":
        raise FileRefused(
            f"{source_file}: the file does not end with a line break, so its last record "
            f"may be cut short (it ends '…{_tail(path, scan.encoding)}'); refused by "
            "CVM_MISSING_FINAL_LINE_BREAK=refuse (set it to warn to load such a file)"
        )
    copies = audit.identical_copies(con, source_file) if previous is not None else []
    dialect = dl.detect_dialect(path, scan.encoding)
    with tempfile.TemporaryDirectory(prefix="cvm_ingest_") as tmp:
        try:
            records = (reading.plain_records(path, dialect) if scan.clean_utf8 else None) or \
                reading.normalise(path, dialect, Path(tmp) / "records.csv")
        except reading.UnreadableFile as error:
            raise FileRefused(f"{source_file}: {error}") from None
        positions, extra = _check_header(source_file, spec, records.header)
        result = _write(
            con, spec, date, source_file, scan, dialect, records, positions, extra,
            catalogue if catalogue is not None else read_catalogue(), policy, ends,
        )
    if run_expectations:
        _validate(con, spec, date, source_file, result)
    for copy_date, copy_file in copies:
        # a file skipped as identical to this one held its rows here: it loads on its own now
        if (Path(landing_root) / copy_file).is_file():
            audit.forget_file(con, copy_date, copy_file, entity)
            load_file(con, landing_root, copy_date, entity, run_expectations=run_expectations,
                      catalogue=catalogue, digests=digests)
            result.reloaded_copies.append(copy_file)
    return result


def _validate(con, spec: EntitySpec, date: dt.date, source_file: str, result) -> None:
    """Run the entity's Great Expectations suite on the rows this load accepted, and log its
    verdict: an extract's and a native file's alike."""
    try:
        result.expectation_results = expectations.validate_load(
            con, spec, date, source_file, result
        )
    except BaseException:
        # a suite that could not run has not passed: the file is loaded and validated
        # again next time instead of being skipped as unchanged
        audit.record_expectations(con, date, source_file, False)
        raise
    passed = all(suite.get("success") for suite in result.expectation_results.values())
    audit.record_expectations(con, date, source_file, passed)


def load_records(
    con,
    extract_date,
    entity: str,
    source_file: str,
    sha256: str,
    write_records,
    *,
    force: bool = False,
    catalogue: frozenset[str] | None = None,
    run_expectations: bool = True,
) -> LoadResult:
    """Load rows that a source adapter translated from a system's native file (adapters/)
    into raw.<entity>, as `load_file` loads an extract: the same rules, rejections, held rows
    and load log, under the native file's name (`source_file`, '<date>/<system>/<name>').

    `sha256` stands for everything the rows were made from (the native files and the
    mapping); unchanged, the load is skipped. `write_records(path)` writes the records in the
    layout of `reading.normalise` (the extract's columns as text with a '.' decimal point,
    then the native line, the field count, and a reason and detail for a record the adapter
    rejected) and returns them as `reading.Records`. The extract's Great Expectations suite
    then runs on the rows it accepted, as on an extract's, and its verdict is logged.
    """
    spec = get_spec(entity)
    date = _as_date(extract_date)
    scan = dl.FileScan(sha256=sha256, encoding="utf-8")
    ensure_schemas(con)
    previous = audit.logged_load(con, date, source_file)
    if _unchanged(previous, scan, force):
        return _skipped(con, date, source_file, entity, scan, previous)
    policy = dataclasses.replace(_Policy.read(entity), number_format="point")
    with tempfile.TemporaryDirectory(prefix="cvm_adapter_") as tmp:
        records = write_records(Path(tmp) / "records.csv")
        positions, _ = _check_header(source_file, spec, records.header)
        result = _write(
            con, spec, date, source_file, scan, dl.Dialect("utf-8", ","), records, positions,
            [], catalogue if catalogue is not None else read_catalogue(), policy, True,
        )
    if run_expectations:
        _validate(con, spec, date, source_file, result)
    return result


@dataclass(frozen=True)
class _Policy:
    """The settings a load follows, read (and checked) before anything is done."""

    number_format: str | None  # "point" | "comma" | None: decided from the values
    number_setting: str  # the setting's name for this extract
    max_rejected_share: float  # percent
    line_break: str  # "refuse" | "warn"

    @classmethod
    def read(cls, entity: str) -> _Policy:
        try:
            return cls(settings.number_format(entity), f"CVM_NUMBER_FORMAT_{entity.upper()}",
                       settings.max_rejected_share(), settings.missing_final_line_break())
        except ValueError as error:
            raise SettingError(str(error)) from None


class SettingError(ValueError):
    """A setting of the ingest holds a value it does not know; the message names it."""


def _ends_with_line_break(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) in (b"\n", b"\r")


def _tail(path: Path, encoding: str, size: int = 40) -> str:
    """The last characters of a file, for a message."""
    with open(path, "rb") as handle:
        handle.seek(max(path.stat().st_size - size, 0))
        return handle.read().decode(encoding, "replace").splitlines()[-1]


def _as_date(extract_date) -> dt.date:
    if isinstance(extract_date, dt.date):
        return extract_date
    return dt.date.fromisoformat(str(extract_date))


def _scan(path: Path, source_file: str, digests: Digests | None = None) -> dl.FileScan:
    """The file's sha256 and encoding, or FileRefused for a file that cannot be read; the
    sha256 from `digests` when they know the file as it is now."""
    if not path.is_file():
        raise FileRefused(f"{source_file}: file not found")
    if path.stat().st_size == 0:
        raise FileRefused(f"{source_file}: empty file (0 bytes)")
    try:
        return dl.scan_file(path, digests.known(path) if digests is not None else None)
    except dl.UndecodableFile as error:
        raise FileRefused(f"{source_file}: {error}") from None


def _check_header(source_file: str, spec: EntitySpec, header: list[str]):
    positions, extra = reading.match_columns(header, spec.column_names)
    missing = [name for name in spec.required_columns if name not in positions]
    if missing:
        raise FileRefused(
            f"{source_file}: required column {', '.join(missing)} missing "
            f"(header: {', '.join(h.strip() for h in header)})"
        )
    return positions, extra


def _unchanged(previous: audit.LoggedLoad | None, scan: dl.FileScan, force: bool) -> bool:
    """Unchanged bytes are skipped, unless the suite failed on them: then they are loaded and
    validated again, so that a failed blocking check keeps blocking."""
    return (
        previous is not None and previous.sha256 == scan.sha256
        and previous.expectations_passed is not False and not force
    )


def _skipped(con, date, source_file, entity, scan, previous: audit.LoggedLoad) -> LoadResult:
    released = release_pending(con, date, entity)
    return LoadResult(
        source_file=source_file, sha256=scan.sha256, rows_read=previous.rows_read,
        rows_loaded=previous.rows_loaded, rows_rejected=previous.rows_rejected,
        rejected_by_reason=audit.rejected_by_reason(con, date, source_file),
        skipped_unchanged=True, extra_columns=previous.extra_columns,
        dialect=previous.dialect, released_pending=released,
    )


def _skipped_identical(con, date, source_file, entity, scan, holder) -> LoadResult:
    """A file with the same bytes as another file of the extract whose rows are loaded: its
    rows are not stored again. What an earlier load of this file stored goes; the file is
    logged with no rows of its own, identical to the other, with the other's suite verdict."""
    other, passed = holder
    now = dt.datetime.now()
    with transaction(con):
        writing.retire_delivery(con, entity, date, source_file)
        audit.forget_file(con, date, source_file, entity)
        released = writing.release_pending(con, date, entity, now)
        audit.log_load(
            con, extract_date=date, source_file=source_file, entity=entity,
            sha256=scan.sha256, rows_read=0, rows_loaded=0, loaded_at=now,
            dialect="", extra_columns=[], identical_to=other,
            skipped_as_identical=True, expectations_passed=passed,
        )
    return LoadResult(
        source_file=source_file, sha256=scan.sha256, rows_read=0, rows_loaded=0,
        rows_rejected=0, released_pending=released, identical_to=other,
    )


def _write(
    con, spec: EntitySpec, date: dt.date, source_file: str, scan: dl.FileScan,
    dialect: dl.Dialect, records: reading.Records, positions: dict[str, int],
    extra: list[str], catalogue: frozenset[str], policy: _Policy, ends: bool,
) -> LoadResult:
    """Step 4 of the module docstring: everything the file changes, in one transaction."""
    now = dt.datetime.now()
    with memory_budget(con), writing.joins_as_written(con), transaction(con):
        writing.retire_delivery(con, spec.name, date, source_file)
        audit.forget_file(con, date, source_file, spec.name)
        released = writing.release_pending(con, date, spec.name, now)
        con.execute("create or replace temp view _src as " + reading.records_sql(records))
        dialect = _number_formats(con, spec, source_file, dialect, positions, policy)
        counts = writing.write_rows(
            con, spec, records.header, positions, dialect.decimal_comma, catalogue,
            {"d": date, "f": source_file, "at": now},
        )
        con.execute("drop view _src")
        rows_loaded = counts.pop("", 0)
        rows_read = rows_loaded + sum(counts.values())
        if rows_read != records.rows:
            raise FileRefused(
                f"{source_file}: the loader read {records.rows} records, but DuckDB returned "
                f"{rows_read} rows of them; nothing of the file is loaded"
            )
        _refuse_mostly_rejected(con, date, source_file, rows_read, counts, policy)
        audit.log_load(
            con, extract_date=date, source_file=source_file, entity=spec.name,
            sha256=scan.sha256, rows_read=rows_read, rows_loaded=rows_loaded, loaded_at=now,
            dialect=dialect.describe(), extra_columns=extra,
            identical_to=audit.identical_file(con, scan.sha256), ends_with_line_break=ends,
        )
    return LoadResult(
        source_file=source_file, sha256=scan.sha256, rows_read=rows_read,
        rows_loaded=rows_loaded, rows_rejected=rows_read - rows_loaded,
        rejected_by_reason=dict(sorted(counts.items())), extra_columns=extra,
        dialect=dialect.describe(), released_pending=released, ends_with_line_break=ends,
    )


def _number_formats(con, spec: EntitySpec, source_file: str, dialect: dl.Dialect,
                    positions: dict[str, int], policy: _Policy) -> dl.Dialect:
    """The dialect with the number format of each decimal column of the file (dialect.py),
    or FileRefused when nothing in the file decides one."""
    columns = {c.name: positions[c.name] for c in spec.columns
               if c.kind == "decimal" and c.name in positions}
    try:
        decimals = dl.number_formats(con, columns, policy.number_format,
                                     policy.number_setting)
    except dl.UndecidedNumbers as error:
        raise FileRefused(f"{source_file}: {error}") from None
    return dataclasses.replace(dialect, decimals=decimals)


def _refuse_mostly_rejected(con, date: dt.date, source_file: str, rows_read: int,
                            counts: dict[str, int], policy: _Policy) -> None:
    """FileRefused when more of the file's rows are rejected than the setting allows, in a file
    of at least MIN_ROWS_FOR_SHARE rows; rows waiting for their customer do not count (they
    are held, not lost)."""
    rejected = {reason: n for reason, n in counts.items() if reason != UNKNOWN_CUSTOMER}
    total = sum(rejected.values())
    if rows_read < MIN_ROWS_FOR_SHARE or total * 100 <= policy.max_rejected_share * rows_read:
        return
    reason = max(sorted(rejected), key=rejected.get)
    line, detail = con.execute(
        "select line_number, detail from audit.rejected_rows where extract_date = $d "
        "and source_file = $f and reason = $r order by line_number limit 1",
        {"d": date, "f": source_file, "r": reason},
    ).fetchone()
    raise FileRefused(
        f"{source_file}: {total:,} of {rows_read:,} rows rejected "
        f"({100 * total / rows_read:.0f} %), more than the {policy.max_rejected_share:g} % "
        f"that CVM_MAX_REJECTED_SHARE allows; most of them {reason} ({rejected[reason]:,}), "
        f"the first in line {line}: {detail}"
    )
