"""Great Expectations suites (expectations/<entity>.json) run on the rows a load landed.

What is validated: the ACCEPTED rows of this load (raw.<entity> rows of this folder and
file), so a failing suite means the row rules let something bad through; the rows the rules
rejected are reported beside the suite result, by reason, and do not fail it.

Where: GX runs the suite as SQL in DuckDB, where the rows are. A GX SQL data source (the
DuckDB dialect of SQLAlchemy, duckdb_engine) reads a query asset, the SELECT of the load's
rows (`_select_sql`, its parameters written in as literals), through a cursor of the load's
own connection: it sees the committed catalog of the load, in memory or in a file, without a
second connection to the database file. GX computes each expectation's metrics with a few
aggregate queries (counts of rows, NULLs, unexpected values, the first unexpected values);
only those come back to Python. Every accepted row is validated; no sampling. Numbers and dates
keep their types (DECIMAL, DATE), and a date bound of a suite is compared as a timestamp.

Two adaptations to DuckDB (`_duckdb_connection`, `validate_rows`): GX reads a query's
result after it gave its connection back, which rolls the DuckDB transaction back and with it
the pending result, so the cursor takes no part in transactions (it only reads, each
statement on its own); and GX writes a regular expression match only for dialects it knows,
so the DuckDB dialect (a PostgreSQL one underneath) is given PostgreSQL's `~`. DuckDB's `~`
matches the whole value and GX's pandas and PostgreSQL `~` search in it: the two agree on a
pattern anchored at both ends (^...$), as every pattern of the spec is; a suite with an
unanchored pattern is refused.

In `cvm load` the load's suite server runs the suite instead (suite_server.py): the same
`validate_rows`, on a view raw.<entity> over the delivery's raw files in its own in-memory
DuckDB; the load checks that it validated as many rows as its own raw.<entity> holds.

great_expectations is imported inside the functions (it costs seconds to import). The GX
context (ephemeral, progress bars off) is built once per process and built suites are kept,
so a second load in the same process pays neither again. A data source is added per run and
deleted after it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from pathlib import Path

from orchestration import settings
from orchestration.lib.ingest.catalogue import read_catalogue
from orchestration.lib.ingest.spec import EntitySpec, get_spec
from orchestration.lib.ingest.suites import CATALOGUE_PLACEHOLDER, EXTRACT_DATE_PLACEHOLDER
from orchestration.lib.warehouse.connection import memory_budget

EXAMPLES_KEPT = 5  # unexpected values kept per expectation in the summary


def suite_path(entity: str, directory: Path = settings.EXPECTATIONS_DIR) -> Path:
    return Path(directory) / f"{entity}.json"


def load_suite_json(entity: str, extract_date: dt.date | str,
                    directory: Path = settings.EXPECTATIONS_DIR) -> dict:
    """The stored suite, its placeholders filled: the catalogue from the dbt seed, the extract
    date of the load. A date column's bounds become datetimes (DuckDB compares a DATE with
    them as timestamps of midnight)."""
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
_SUITES: dict[str, object] = {}  # built GX suites by their JSON text, the most recent last
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

            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            _CONTEXT.append(context)
        return _CONTEXT[0]


_REGEX_TYPES = ("expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex")


def _check_anchored(config: dict) -> None:
    """A regular expression must be anchored at both ends: DuckDB's `~` matches the whole
    value, GX's search in it (see the module docstring)."""
    if config.get("type") in _REGEX_TYPES:
        regex = str(config.get("kwargs", {}).get("regex", ""))
        if not (regex.startswith("^") and regex.endswith("$")):
            raise ValueError(
                f"{config['type']} on {config['kwargs'].get('column')}: the pattern {regex!r} "
                "must start with ^ and end with $ (DuckDB matches a pattern against the whole "
                "value)")


def _build_suite(suite_json: dict):
    """The GX suite of `suite_json`, built once per distinct suite and kept.

    The suites are not stored in the context: validation needs only their expectations, and
    two suites of the same name (a stored one and an edited copy) can then live side by side.
    """
    key = json.dumps(suite_json, sort_keys=True, default=str)
    with _LOCK:
        suite = _SUITES.get(key)
    if suite is not None:
        return suite
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    suite = gx.ExpectationSuite(name=suite_json["name"], meta=suite_json.get("meta"))
    for config in suite_json.get("expectations", []):
        _check_anchored(config)
        configuration = ExpectationConfiguration(
            type=config["type"], kwargs=config["kwargs"], meta=config.get("meta")
        )
        suite.add_expectation(configuration.to_domain_obj())
    with _LOCK:
        suite = _SUITES.setdefault(key, suite)
        while len(_SUITES) > _SUITES_KEPT:
            del _SUITES[next(iter(_SUITES))]
        return suite


def _select_sql(spec: EntitySpec) -> str:
    """The accepted rows of one load ($d, $f): the spec's columns, unsorted."""
    cols = ", ".join(f'"{c.name}"' for c in spec.columns)
    return (f"select {cols} from raw.{spec.name} "
            "where extract_date = $d and source_file = $f")


def _literal(value) -> str:
    """A parameter's value as a SQL literal: a date, a number or a text."""
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _inline(sql: str, params: dict) -> str:
    """`sql` with its $name parameters written in as literals (a GX query asset is a text)."""
    return re.sub(r"\$(\w+)", lambda m: _literal(params[m.group(1)]), sql)


def _duckdb_connection(cursor):
    """The DB-API connection GX's SQLAlchemy engine gets: `cursor` (a cursor of the load's
    DuckDB connection) outside of transactions (see the module docstring)."""
    import duckdb_engine

    class _DuckDB(duckdb_engine.ConnectionWrapper):
        def begin(self) -> None:
            pass

        def commit(self) -> None:
            pass

        def rollback(self) -> None:
            pass

        def close(self) -> None:
            pass  # the cursor is closed by validate_rows

    return _DuckDB(cursor)


def _summary(result) -> list[dict]:
    """The JSON-able result of each expectation, in suite order."""
    entries = []
    for item in result.results:
        config = item.expectation_config
        column = config.kwargs.get("column") or config.kwargs.get("column_list")
        # JSON-able kwargs (a date bound as its text): the summary goes into the run's metadata
        kwargs = json.loads(json.dumps(
            {k: v for k, v in config.kwargs.items() if k != "batch_id"}, default=str))
        res = item.result or {}
        entry = {"expectation": config.type, "column": column, "success": bool(item.success),
                 "element_count": int(res.get("element_count") or 0),
                 "unexpected_count": int(res.get("unexpected_count") or 0),
                 "partial_unexpected": [str(v) for v in
                                        (res.get("partial_unexpected_list") or [])
                                        ][:EXAMPLES_KEPT],
                 "kwargs": kwargs}
        if item.exception_info and item.exception_info.get("raised_exception"):
            entry["exception"] = str(item.exception_info.get("exception_message"))
        entries.append(entry)
    return entries


def validate_rows(con, spec: EntitySpec, sql: str, params: dict, suite_json: dict) -> dict:
    """Run a suite as SQL over the rows of `sql` ($name parameters from `params`) on `con`'s
    database; a JSON-able summary."""
    import sqlalchemy as sa
    import sqlalchemy.dialects.postgresql as postgresql
    from great_expectations.validator.v1_validator import Validator

    context = _context()
    suite = _build_suite(suite_json)
    query = _inline(sql, params)
    source_name = f"ingest_{uuid.uuid4().hex}"
    with memory_budget(con):
        (rows,) = con.execute(f"select count(*) from ({query})").fetchone()
        cursor = con.cursor()
        try:
            # the URL only names the dialect: every connection is the one cursor
            source = context.data_sources.add_sql(
                source_name, connection_string="duckdb:///:memory:",
                kwargs={"creator": lambda: _duckdb_connection(cursor),
                        "poolclass": sa.pool.StaticPool})
            engine = source.get_execution_engine()
            engine.dialect_module = postgresql  # GX's regex for DuckDB: `~`
            batch_definition = source.add_query_asset(spec.name, query=query) \
                .add_batch_definition_whole_table("load")
            validator = Validator(batch_definition=batch_definition, result_format="BASIC")
            results = _summary(validator.validate_expectation_suite(suite))
        finally:
            try:
                context.data_sources.delete(source_name)
            finally:
                cursor.close()
    seen = {entry["element_count"] for entry in results if entry["element_count"]}
    if seen - {rows}:
        # the cursor sees committed rows only: the load's transaction must be committed
        raise RuntimeError(f"{params}: GX counted {sorted(seen)} rows, the load {rows}")
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


def validate_load(con, spec: EntitySpec, extract_date, source_file: str, load_result) -> dict:
    """The suite result for one load: accepted rows validated, rejected rows counted."""
    suite_json = load_suite_json(spec.name, extract_date)
    params = {"d": extract_date, "f": source_file}
    result = _validate_in_server(con, spec, params, suite_json)
    if result is None:
        result = validate_rows(con, spec, _select_sql(spec), params, suite_json)
    result["rows_rejected_by_rules"] = load_result.rows_rejected
    result["rejected_by_reason"] = dict(load_result.rejected_by_reason)
    return {spec.name: result}


def _validate_in_server(con, spec: EntitySpec, params: dict, suite_json: dict) -> dict | None:
    """validate_rows of the load's rows by the load's suite server (suite_server.py), over
    the delivery's raw files in the catalog; None when there is no server or it could not
    answer."""
    from orchestration.lib.ingest import suite_server
    from orchestration.lib.warehouse import catalog

    server = suite_server.active()
    if server is None:
        return None
    store = catalog.store_of(con)
    paths = [str(store.path(f.path)) for f in catalog.raw_files(con, spec.name)
             if f.extract_date == params["d"]]
    answered, result = server.ask("validate", entity=spec.name, paths=paths, params=params,
                                  suite_json=suite_json, temp_directory=str(store.ingest_dir))
    if not answered:
        return None
    (rows,) = con.execute(f"select count(*) from ({_inline(_select_sql(spec), params)})"
                          ).fetchone()
    if result["rows_validated"] != rows:
        raise RuntimeError(f"{params}: the suite server validated {result['rows_validated']} "
                           f"rows, the load holds {rows}")
    return result
