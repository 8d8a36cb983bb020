"""Great Expectations Data Docs: every validation gets a page in the file-based GX context
beside the warehouse, and the Dagster check links to it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import dagster as dg

from orchestration.defs.ingest import checks
from orchestration.lib import audit
from orchestration.lib.ingest import expectations as gxe
from orchestration.lib.ingest.data_docs import context_root, publish_validation
from orchestration.lib.ingest.loader import LoadResult, load_file
from orchestration.lib.ingest.spec import SPECS

D1 = dt.date(2026, 11, 20)
HEADER = ("customer_id,customer_name,industry,region,account_manager,country_code,"
          "customer_since,annual_potential_eur,status,updated_at\n")


def _page(url: str) -> Path:
    assert url.startswith("file://")
    return Path(unquote(urlparse(url).path))


def _text(page: Path) -> str:
    """The words of an HTML page, without tags, blanks collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")).split())


def test_context_lives_beside_the_warehouse():
    # the context itself is <folder of the warehouse>/gx/
    assert context_root(Path("/srv/cvm/warehouse.duckdb")) == Path("/srv/cvm")


def test_every_validation_gets_a_page_and_the_check_links_to_it(tmp_path, con):
    landing = tmp_path / "landing"
    (landing / D1.isoformat()).mkdir(parents=True)
    (landing / D1.isoformat() / "customers.csv").write_text(
        HEADER + "C1,Alpha GmbH,,,,DE,2015-03-01,1000,active,\n"
                 "C2,Beta KG,,,,DE,2016-03-01,2000,active,\n", encoding="utf-8")
    result = load_file(con, landing, D1, "customers")
    suite = result.expectation_results["customers"]
    # a suite that fails one expectation: both customers' potential is below 5000
    broken = gxe.load_suite_json("customers", D1)
    broken["expectations"].append({
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "annual_potential_eur", "min_value": 5000},
    })
    failed = gxe.validate_rows(con, SPECS["customers"], gxe._select_sql(SPECS["customers"]),
                               {"d": D1, "f": f"{D1}/customers.csv"}, broken)

    root = tmp_path
    passed_page = _page(publish_validation(root, D1, result.source_file, suite))
    failed_page = _page(publish_validation(root, D1, result.source_file, failed))
    assert passed_page != failed_page
    for page in (passed_page, failed_page):
        assert page.is_file() and root in page.parents
    shown = _text(failed_page)
    assert "Run Name 2026-11-20 customers.csv" in shown
    # the stored suite's expectations and the broken one; one of them failed
    assert f"Evaluated Expectations {len(broken['expectations'])}" in shown
    assert "Unsuccessful Expectations 1" in shown
    assert "Unsuccessful Expectations 0" in _text(passed_page)
    index = root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert index.is_file()

    loaded = LoadResult(source_file=result.source_file, sha256=result.sha256, rows_read=2,
                        rows_loaded=2, rows_rejected=0, expectation_results={"customers": suite})
    by_name = {r.check_name: r for r in checks.check_results(
        dg.AssetKey(["raw", "customers"]), loaded, 0, audit.Recount(2, 2, 0),
        data_docs=passed_page.as_uri())}
    link = by_name["great_expectations"].metadata["data_docs"]
    assert isinstance(link, dg.UrlMetadataValue)
    assert _page(link.value) == passed_page


def test_the_index_lists_the_latest_validations_and_every_page_stays(tmp_path, monkeypatch):
    """GX reads every stored result for the index whenever it builds a page: the index lists
    the latest INDEX_LIMIT; every result and every page is kept."""
    from orchestration.lib.ingest import data_docs

    monkeypatch.setattr(data_docs, "INDEX_LIMIT", 2)
    summary = {"suite": "customers", "success": True, "evaluated_expectations": 1,
               "successful_expectations": 1, "rows_validated": 1,
               "results": [{"expectation": "expect_column_values_to_not_be_null",
                            "success": True, "element_count": 1, "unexpected_count": 0,
                            "partial_unexpected": [], "kwargs": {"column": "customer_id"}}]}
    days = [D1 + dt.timedelta(days=n) for n in range(4)]
    pages = [_page(publish_validation(tmp_path, day, f"{day}/customers.csv", summary))
             for day in days]
    uncommitted = tmp_path / "gx" / "uncommitted"
    assert len(list((uncommitted / "validations").rglob("*.json"))) == len(days)
    assert all(page.is_file() for page in pages)
    index = _text(uncommitted / "data_docs" / "local_site" / "index.html")
    assert [day for day in days if f"{day} customers.csv" in index] == days[2:]
