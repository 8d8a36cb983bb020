"""Great Expectations suites (expectations/<entity>.json) run on the rows a load landed.

What is validated: the ACCEPTED rows of this load (raw.<entity> rows of this folder and
file), so a failing suite means the row rules let something bad through; the rows the rules
rejected are reported beside the suite result, by reason, and do not fail it.

Memory stays bounded: the rows are streamed from DuckDB in chunks of at most CHUNK_ROWS rows,
under the load's DuckDB memory limit, each chunk is validated on its own, and the per-
expectation results are summed over the chunks (element and unexpected counts; an expectation
succeeds when it succeeds on every chunk). Every accepted row is validated; no sampling. A
chunk is validated with GX's BASIC result format: the counts and the first unexpected values,
all that is summed (SUMMARY would also list the index of every unexpected row, filtering each
chunk twice more per expectation); GX's fingerprint of each chunk (a hash of every value,
read by nothing here) is turned off. Only the columns the suite names are fetched (all of
them when an expectation is not about named columns), and the expectations about the same
columns are validated on a frame of those columns alone (`suite_parts`): before most checks GX
drops the column's NULLs by copying the frame it has, all its columns. Most of GX's cost is
per expectation and chunk, not per row, hence chunks of half a million rows (a chunk of the
suite's columns of service_activities is some 150 MB in pandas). Numbers come as DOUBLE
(exact for the integers of the extracts, and a NULL is NaN, where a nullable integer column
would be compared value by value) and dates as nanosecond timestamps, so that GX compares them
vectorised (it compares any other date type value by value, in Python); a date beyond what a
nanosecond timestamp holds (before 1677 or after 2262) arrives as that range's edge, so it
fails the same bounds, and its example value shows the edge. The rows come in table (storage)
order, not sorted by line number: the totals do not depend on the order; the example values
of a failed expectation are the first ones in storage order, the same on every run over the
same table (a parallel insert may place some row groups out of line order, so they need not
be the lowest line numbers).

great_expectations is imported inside the functions (it costs seconds to import). The GX
context (ephemeral, progress bars off) is built once per process and built suites are kept,
so a second load in the same process pays neither again.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from orchestration import settings
from orchestration.lib.ingest.catalogue import read_catalogue
from orchestration.lib.ingest.spec import EntitySpec, get_spec
from orchestration.lib.ingest.suites import CATALOGUE_PLACEHOLDER, EXTRACT_DATE_PLACEHOLDER
from orchestration.lib.warehouse.connection import memory_budget

CHUNK_ROWS = 500_000
NS_DATES = ("DATE '1677-09-22'", "DATE '2262-04-11'")  # the dates a timestamp_ns can hold


def suite_path(entity: str, directory: Path = settings.EXPECTATIONS_DIR) -> Path:
    return Path(directory) / f"{entity}.json"


def load_suite_json(entity: str, extract_date: dt.date | str,
                    directory: Path = settings.EXPECTATIONS_DIR) -> dict:
    """The stored suite, its placeholders filled: the catalogue from the dbt seed, the extract
    date of the load. A date column's bounds become datetimes, as its values arrive."""
    suite = json.loads(suite_path(entity, directory).read_text(encoding="utf-8"))
    dates = {c.name for c in get_spec(entity).columns if c.kind == "date"}
    for expectation in suite.get("expectations", []):
        kwargs = expectation.get("kwargs", {})
        if kwargs.get("value_set") == CATALOGUE_PLACEHOLDER:
            kwargs["value_set"] = sorted(read_catalogue())
        if kwargs.get("max_value") == EXTRACT_DATE_PLACEHOLDER:
            kwargs["max_value"] = str(extract_date)
        if kwargs.get("column") in dates:
            for bound in ("min_value", "max_value"):
                if isinstance(kwargs.get(bound), str):
                    kwargs[bound] = dt.datetime.fromisoformat(kwargs[bound])
    return suite


_LOCK = threading.Lock()
_CONTEXT: list = []  # the process's GX context, once built
_SUITES: dict[str, tuple] = {}  # built suites (their parts) by their JSON text, the most
# recent last
# a suite's JSON holds its delivery's extract date, so a long-lived process (the Dagster
# daemon, `dagster dev`) would keep one suite per delivery: keep the few in use
_SUITES_KEPT = 12


def _context():
    """The process's ephemeral GX context, progress bars off (built on first use)."""
    with _LOCK:
        if not _CONTEXT:
            settings.telemetry_off()
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

            # GX fingerprints every in-memory batch below this size (a hash of every value,
            # a fifth of the validation's time); nothing here reads the fingerprint
            pandas_execution_engine.HASH_THRESHOLD = 0
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            _CONTEXT.append(context)
        return _CONTEXT[0]


@dataclass(frozen=True)
class _Part:
    """Expectations of a suite that read the same columns, as a GX suite of their own."""

    columns: tuple[str, ...] | None  # None: the whole frame
    suite: object  # the GX ExpectationSuite
    positions: tuple[int, ...]  # of its expectations in the whole suite


def _build_suite(suite_json: dict) -> tuple[_Part, ...]:
    """The GX suite of `suite_json` in its parts (`suite_parts`), built once per distinct
    suite and kept.

    The suites are not stored in the context: validation needs only their expectations, and
    two suites of the same name (a stored one and an edited copy) can then live side by side.
    """
    key = json.dumps(suite_json, sort_keys=True, default=str)
    with _LOCK:
        parts = _SUITES.get(key)
    if parts is not None:
        return parts
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    configs = suite_json.get("expectations", [])
    built = []
    for columns, positions in suite_parts(suite_json):
        suite = gx.ExpectationSuite(name=suite_json["name"], meta=suite_json.get("meta"))
        for position in positions:
            config = configs[position]
            configuration = ExpectationConfiguration(
                type=config["type"], kwargs=config["kwargs"], meta=config.get("meta")
            )
            suite.add_expectation(configuration.to_domain_obj())
        built.append(_Part(columns, suite, positions))
    with _LOCK:
        parts = _SUITES.setdefault(key, tuple(built))
        while len(_SUITES) > _SUITES_KEPT:
            del _SUITES[next(iter(_SUITES))]
        return parts


_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")


def _named_columns(config: dict) -> tuple[str, ...] | None:
    """The columns a column-level expectation names in its kwargs, sorted; None for any
    other expectation (table level, or naming no column): it may look at every column."""
    if not str(config.get("type", "")).startswith(("expect_column_", "expect_multicolumn_")):
        return None
    kwargs = config.get("kwargs", {})
    named: set[str] = set()
    for key in _COLUMN_KWARGS:
        value = kwargs.get(key)
        if isinstance(value, str):
            named.add(value)
        elif isinstance(value, (list, tuple)):
            named.update(str(v) for v in value)
    return tuple(sorted(named)) or None


def suite_columns(spec: EntitySpec, suite_json: dict) -> list[str] | None:
    """The spec columns the suite reads, in spec order; None when it may need them all: an
    expectation names no column (`_named_columns`), or the suite none of the spec's."""
    named: set[str] = set()
    for config in suite_json.get("expectations", []):
        columns = _named_columns(config)
        if columns is None:
            return None
        named.update(columns)
    return [c.name for c in spec.columns if c.name in named] or None


def suite_parts(suite_json: dict) -> list[tuple[tuple[str, ...] | None, tuple[int, ...]]]:
    """The suite's expectations grouped by the columns they name: (columns, positions in
    the suite), in the order of each group's first expectation. One group (None, all) when an
    expectation names no column.

    Each group is validated on a frame of its columns alone: GX drops the NULLs of a column
    before most checks of it by copying the frame it is given, every column of it.
    """
    configs = suite_json.get("expectations", [])
    groups: dict[tuple[str, ...], list[int]] = {}
    for position, config in enumerate(configs):
        columns = _named_columns(config)
        if columns is None:
            return [(None, tuple(range(len(configs))))]
        groups.setdefault(columns, []).append(position)
    return [(columns, tuple(positions)) for columns, positions in groups.items()]


def _select_sql(spec: EntitySpec, columns: list[str] | None = None) -> str:
    """The accepted rows of one load ($d, $f): `columns` (default all), unsorted."""
    wanted = None if columns is None else set(columns)
    cols = []
    for c in spec.columns:
        if wanted is not None and c.name not in wanted:
            continue
        if c.kind in ("decimal", "int"):
            cols.append(f'cast("{c.name}" as double) as "{c.name}"')
        elif c.kind == "date":
            # clamped into the nanosecond range (1677..2262), where a date outside it stays
            # outside every bound the suites set (1900 .. the extract date)
            cols.append(f'cast(least(greatest("{c.name}", {NS_DATES[0]}), {NS_DATES[1]}) '
                        f'as timestamp_ns) as "{c.name}"')
        else:
            cols.append(f'"{c.name}"')
    return (
        f"select {', '.join(cols)} from raw.{spec.name} "
        "where extract_date = $d and source_file = $f"
    )


def _merge(total: dict, result, positions: tuple[int, ...]) -> None:
    """Add one chunk's validation result of a part (`positions`: its expectations' in the
    suite) to the running per-expectation totals."""
    for item, position in zip(result.results, positions, strict=False):
        config = item.expectation_config
        column = config.kwargs.get("column") or config.kwargs.get("column_list")
        # one entry per expectation: two of one type on one column differ in their kwargs
        # JSON-able kwargs (a date bound as its text): the summary goes into the run's metadata
        kwargs = json.loads(json.dumps(
            {k: v for k, v in config.kwargs.items() if k != "batch_id"}, default=str))
        key = json.dumps([config.type, kwargs], sort_keys=True)
        entry = total.setdefault(
            key, {"expectation": config.type, "column": column, "success": True,
                  "element_count": 0, "unexpected_count": 0, "partial_unexpected": [],
                  "kwargs": kwargs, "position": position},
        )
        entry["success"] = entry["success"] and bool(item.success)
        res = item.result or {}
        entry["element_count"] += int(res.get("element_count") or 0)
        entry["unexpected_count"] += int(res.get("unexpected_count") or 0)
        for value in res.get("partial_unexpected_list") or []:
            if len(entry["partial_unexpected"]) < 5:
                entry["partial_unexpected"].append(str(value))
        if item.exception_info and item.exception_info.get("raised_exception"):
            entry["exception"] = str(item.exception_info.get("exception_message"))


def validate_rows(con, spec: EntitySpec, sql: str, params: dict, suite_json: dict) -> dict:
    """Run a suite over the rows of `sql`, chunk by chunk; a JSON-able summary."""
    from great_expectations.validator.v1_validator import Validator

    context = _context()
    parts = _build_suite(suite_json)
    # A data source of its own per run: its execution engine holds the last chunk, and
    # deleting the data source afterwards lets that chunk go.
    source_name = f"ingest_{uuid.uuid4().hex}"
    asset = context.data_sources.add_pandas(source_name).add_dataframe_asset(spec.name)
    batch_definition = asset.add_batch_definition_whole_dataframe("chunk")
    totals: dict = {}
    rows = 0
    vectors = max(1, CHUNK_ROWS // 2048)
    try:
        with memory_budget(con):
            cursor = con.cursor()
            try:
                cursor.execute(sql, params)
                while True:
                    frame = cursor.fetch_df_chunk(vectors)
                    empty = frame.empty
                    if rows and empty:
                        break
                    rows += len(frame)
                    for part in parts:
                        # one Validator per part of the suite: it builds the batch once
                        validator = Validator(
                            batch_definition=batch_definition, result_format="BASIC",
                            batch_parameters={"dataframe": _columns(frame, part.columns)},
                        )
                        _merge(totals, validator.validate_expectation_suite(part.suite),
                               part.positions)
                        del validator  # the batch holds its frame
                    del frame
                    if empty:
                        break
            finally:
                cursor.close()
    finally:
        context.data_sources.delete(source_name)
    results = sorted(totals.values(), key=lambda entry: entry.pop("position"))
    failed = [entry for entry in results if not entry["success"]]
    return {
        "suite": suite_json["name"],
        "success": not failed,
        "rows_validated": rows,
        "evaluated_expectations": len(results),
        "successful_expectations": len(results) - len(failed),
        "unsuccessful_expectations": failed,
        "results": results,
    }


def _columns(frame, columns: tuple[str, ...] | None):
    """The frame's `columns` (those it has; a missing one fails its expectations), or all."""
    if columns is None:
        return frame
    return frame[[c for c in columns if c in frame.columns]]


def validate_load(con, spec: EntitySpec, extract_date, source_file: str, load_result) -> dict:
    """The suite result for one load: accepted rows validated, rejected rows counted."""
    suite_json = load_suite_json(spec.name, extract_date)
    result = validate_rows(
        con, spec, _select_sql(spec, suite_columns(spec, suite_json)),
        {"d": extract_date, "f": source_file}, suite_json,
    )
    result["rows_rejected_by_rules"] = load_result.rows_rejected
    result["rejected_by_reason"] = dict(load_result.rejected_by_reason)
    return {spec.name: result}
