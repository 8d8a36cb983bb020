"""Great Expectations Data Docs: a page for every validation of a landed file.

A file-based GX context lives beside the published warehouse (`<its folder>/gx/`, so
`data/gx` by default and `data/demo/gx` for the demo). After a file's suite ran, its result
(the counts and first unexpected values of every expectation, see `expectations.py`) is stored
there as a validation result, and the Data Docs site is rebuilt for it. The page's address goes
into the metadata of the Dagster check, so the check links to what GX saw.

The site's index lists the latest `INDEX_LIMIT` validations. GX reads every stored result
again for the index whenever it builds a page: with no limit, each file's page cost about
0.8 ms more for every result stored before it (0.16 s with 100, 0.56 s with 600), so a year of
nightlies (three files each) would add about a second per file. With the limit, what still
grows is GX listing the stored results and pages (about 0.37 ms per result). Every result and
page is kept; an older page is linked from its Dagster check and lies in
`uncommitted/data_docs/local_site/validations/`.

great_expectations is imported inside the functions (it costs seconds to import); the context
is opened once per process and folder.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

from orchestration import settings


def context_root(published: Path) -> Path:
    """The project folder of the file-based GX context that belongs to a warehouse: the
    warehouse's folder; GX keeps the context in its `gx/` subfolder."""
    return Path(published).parent


INDEX_LIMIT = 100  # validations listed on the index page: a month of nightlies, three files each
_CONTEXTS: dict[Path, object] = {}  # the file-based GX context of each root, once opened
_LOCK = threading.Lock()


def _context(root: Path):
    """The file-based GX context under `root`, opened once per process."""
    import great_expectations as gx

    with _LOCK:
        context = _CONTEXTS.get(root)
        if context is None or not (root / "gx").is_dir():
            root.mkdir(parents=True, exist_ok=True)
            context = gx.get_context(mode="file", project_root_dir=str(root))
            _limit_index(context)
            _CONTEXTS[root] = context
        return context


def _limit_index(context) -> None:
    """The index of every Data Docs site lists the latest INDEX_LIMIT validations (kept in
    the context's great_expectations.yml, so that GX's own `build_data_docs` keeps it)."""
    sites = context.variables.data_docs_sites or {}
    changed = False
    for site in sites.values():
        index = site.setdefault("site_index_builder", {"class_name": "DefaultSiteIndexBuilder"})
        if index.get("validation_results_limit") != INDEX_LIMIT:
            index["validation_results_limit"] = INDEX_LIMIT
            changed = True
    if changed:
        context.variables.data_docs_sites = sites
        context.variables.save()


def publish_validation(root: Path, extract_date: dt.date, source_file: str,
                       summary: dict) -> str:
    """Store one suite's result (`validate_rows`' summary) in the GX context under `root`
    (`root/gx/`), build its Data Docs page and return the page's address (a file:// URL).
    In a load, the load's suite server does it (suite_server.py)."""
    from orchestration.lib.ingest import suite_server

    server = suite_server.active()
    if server is not None:
        answered, page = server.ask("publish", root=str(root), extract_date=extract_date,
                                    source_file=source_file, summary=summary)
        if answered:
            return page
    return publish_here(root, extract_date, source_file, summary)


def publish_here(root: Path, extract_date: dt.date, source_file: str, summary: dict) -> str:
    """publish_validation in this process."""
    page, build = store_validation(root, extract_date, source_file, summary)
    build()
    return page


def store_validation(root: Path, extract_date: dt.date, source_file: str,
                     summary: dict) -> tuple[str, Callable[[], None]]:
    """Store one suite's result in the GX context under `root`: the address its page will
    have, and the function that builds the page (the suite server builds it after it has
    answered)."""
    settings.telemetry_off()
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    context = _context(root)
    results = []
    for entry in summary.get("results", []):
        elements = entry["element_count"]
        results.append(ExpectationValidationResult(
            success=entry["success"],
            expectation_config=ExpectationConfiguration(type=entry["expectation"],
                                                        kwargs=entry["kwargs"]),
            result={
                "element_count": elements,
                "unexpected_count": entry["unexpected_count"],
                "unexpected_percent": (100.0 * entry["unexpected_count"] / elements
                                       if elements else 0.0),
                "partial_unexpected_list": entry["partial_unexpected"],
            },
        ))
    evaluated = summary["evaluated_expectations"]
    # a run per file: its name says which delivery and file were validated (no slashes: GX
    # keeps results in folders named after the run)
    run_id = RunIdentifier(run_name=source_file.replace("/", " "),
                           run_time=dt.datetime.now(dt.UTC))
    result = ExpectationSuiteValidationResult(
        success=summary["success"],
        results=results,
        suite_name=summary["suite"],
        statistics={
            "evaluated_expectations": evaluated,
            "successful_expectations": summary["successful_expectations"],
            "unsuccessful_expectations": evaluated - summary["successful_expectations"],
            "success_percent": (100.0 * summary["successful_expectations"] / evaluated
                                if evaluated else 100.0),
        },
        meta={"run_id": run_id, "extract_date": extract_date.isoformat(),
              "source_file": source_file, "rows_validated": summary["rows_validated"],
              "rows_rejected_by_rules": summary.get("rows_rejected_by_rules", 0)},
    )
    identifier = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=summary["suite"]),
        run_id=run_id,
        batch_identifier=source_file.replace("/", "__"),
    )
    context.validation_results_store.set(identifier, result)
    page = context.get_docs_sites_urls(resource_identifier=identifier,
                                       only_if_exists=False)[0]["site_url"]
    return page, lambda: context.build_data_docs(resource_identifiers=[identifier])
