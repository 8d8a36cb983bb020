"""The Great Expectations suites, generated from the spec: expectations/<entity>.json.

Each suite checks the spec's rules on the rows that landed: required columns exist and are
filled, lower bounds, event dates from EARLIEST_EVENT_DATE to the extract date, allowed
values, patterns, and service types in the catalogue (the catalogue and the extract date are
filled in at run time, see expectations.py). The suites in expectations/ are written by

    .venv/bin/python -m orchestration.lib.ingest.suites

and a test fails when a stored suite and the spec disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from orchestration import settings
from orchestration.lib.ingest.spec import EARLIEST_EVENT_DATE, SPECS, EntitySpec

CATALOGUE_PLACEHOLDER = "$catalogue"
EXTRACT_DATE_PLACEHOLDER = "$extract_date"


def _expectation(kind: str, column: str, **kwargs) -> dict:
    return {"type": f"expect_{kind}", "kwargs": {"column": column, **kwargs}}


def build_suite(spec: EntitySpec) -> dict:
    """The suite of one extract, in a fixed order: column presence, not null, lower bounds,
    event dates, allowed values, patterns, catalogue."""
    required = [c for c in spec.columns if c.required]
    expectations = [_expectation("column_to_exist", c.name) for c in required]
    expectations += [_expectation("column_values_to_not_be_null", c.name) for c in required]
    expectations += [
        _expectation("column_values_to_be_between", c.name, min_value=c.min_value)
        for c in spec.columns if c.min_value is not None
    ]
    for c in spec.columns:
        if c.event_date:
            dates = _expectation("column_values_to_be_between", c.name,
                                 min_value=EARLIEST_EVENT_DATE.isoformat(),
                                 max_value=EXTRACT_DATE_PLACEHOLDER)
            dates["meta"] = {"max_value": "the load's extract date, filled in at run time"}
            expectations.append(dates)
    expectations += [
        _expectation("column_values_to_be_in_set", c.name, value_set=list(c.allowed))
        for c in spec.columns if c.allowed
    ]
    expectations += [
        _expectation("column_values_to_match_regex", c.name, regex=c.pattern)
        for c in spec.columns if c.pattern
    ]
    if spec.checks_service_type:
        catalogue = _expectation(
            "column_values_to_be_in_set", "service_type_code", value_set=CATALOGUE_PLACEHOLDER
        )
        catalogue["meta"] = {
            "value_set": "filled from dbt_project/seeds/service_catalogue.csv at run time"
        }
        expectations.append(catalogue)
    return {"name": spec.name, "expectations": expectations, "meta": {"extract": spec.name}}


def suite_text(spec: EntitySpec) -> str:
    """The suite's file content."""
    return json.dumps(build_suite(spec), indent=2, ensure_ascii=False) + "\n"


def write_suites(directory: Path = settings.EXPECTATIONS_DIR) -> list[Path]:
    """Write every extract's suite into `directory`; returns the files written."""
    written = []
    for spec in SPECS.values():
        path = Path(directory) / f"{spec.name}.json"
        path.write_text(suite_text(spec), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_suites(Path(sys.argv[1]) if len(sys.argv) > 1 else settings.EXPECTATIONS_DIR):
        print(f"wrote {path}")
