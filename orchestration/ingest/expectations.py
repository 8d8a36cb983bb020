"""Great Expectations suites (expectations/<entity>.json) run on the rows a load landed.

What is validated: the ACCEPTED rows of this load (raw.<entity> rows of this folder and
file), so a failing suite means the row rules let something bad through; the rows the rules
rejected are reported beside the suite result, by reason, and do not fail it.

Memory stays bounded: the rows are fetched from DuckDB in chunks of at most CHUNK_ROWS rows
(decimals as DOUBLE), each chunk is validated on its own, and the per-expectation results
are summed over the chunks (element and unexpected counts; an expectation succeeds when it
succeeds on every chunk). Every accepted row is validated; no sampling.

great_expectations is imported inside the functions (it costs seconds to import); its
progress bars are switched off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestration import settings
from orchestration.ingest.spec import EntitySpec

CHUNK_ROWS = 200_000
CATALOGUE_PLACEHOLDER = "$catalogue"


def suite_path(entity: str, directory: Path = settings.EXPECTATIONS_DIR) -> Path:
    return Path(directory) / f"{entity}.json"


def load_suite_json(entity: str, directory: Path = settings.EXPECTATIONS_DIR) -> dict:
    """The stored suite with the catalogue placeholder filled from the dbt seed."""
    from orchestration.ingest.loader import read_catalogue

    suite = json.loads(suite_path(entity, directory).read_text(encoding="utf-8"))
    for expectation in suite.get("expectations", []):
        kwargs = expectation.get("kwargs", {})
        if kwargs.get("value_set") == CATALOGUE_PLACEHOLDER:
            kwargs["value_set"] = sorted(read_catalogue())
    return suite


def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _build_suite(context, suite_json: dict):
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    suite = gx.ExpectationSuite(name=suite_json["name"], meta=suite_json.get("meta"))
    suite = context.suites.add(suite)
    for config in suite_json.get("expectations", []):
        configuration = ExpectationConfiguration(
            type=config["type"], kwargs=config["kwargs"], meta=config.get("meta")
        )
        suite.add_expectation(configuration.to_domain_obj())
    return suite


def _select_sql(spec: EntitySpec) -> str:
    cols = [
        f'cast("{c.name}" as double) as "{c.name}"' if c.kind == "decimal" else f'"{c.name}"'
        for c in spec.columns
    ]
    return (
        f"select {', '.join(cols)} from raw.{spec.name} "
        "where extract_date = $d and source_file = $f order by line_number"
    )


def _merge(total: dict, result) -> None:
    """Add one chunk's validation result to the running per-expectation totals."""
    for item in result.results:
        config = item.expectation_config
        column = config.kwargs.get("column") or config.kwargs.get("column_list")
        key = f"{config.type}({column})"
        entry = total.setdefault(
            key, {"expectation": config.type, "column": column, "success": True,
                  "element_count": 0, "unexpected_count": 0, "partial_unexpected": []},
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
    context = _context()
    suite = _build_suite(context, suite_json)
    asset = context.data_sources.add_pandas("ingest").add_dataframe_asset(spec.name)
    batch_definition = asset.add_batch_definition_whole_dataframe("chunk")
    totals: dict = {}
    rows = 0
    cursor = con.cursor()
    cursor.execute(sql, params)
    vectors = max(1, CHUNK_ROWS // 2048)
    while True:
        frame = cursor.fetch_df_chunk(vectors)
        if rows and frame.empty:
            break
        rows += len(frame)
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        _merge(totals, batch.validate(suite, result_format="SUMMARY"))
        if frame.empty:
            break
    cursor.close()
    failed = [entry for entry in totals.values() if not entry["success"]]
    return {
        "suite": suite_json["name"],
        "success": not failed,
        "rows_validated": rows,
        "evaluated_expectations": len(totals),
        "successful_expectations": len(totals) - len(failed),
        "unsuccessful_expectations": failed,
    }


def validate_load(con, spec: EntitySpec, extract_date, source_file: str, load_result) -> dict:
    """The suite result for one load: accepted rows validated, rejected rows counted."""
    result = validate_rows(
        con, spec, _select_sql(spec), {"d": extract_date, "f": source_file},
        load_suite_json(spec.name),
    )
    result["rows_rejected_by_rules"] = load_result.rows_rejected
    result["rejected_by_reason"] = dict(load_result.rejected_by_reason)
    return {spec.name: result}
