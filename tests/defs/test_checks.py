"""The raw assets' checks: what a load result turns into, and that a failure blocks."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingest import checks
from orchestration.lib import audit
from orchestration.lib.ingest.loader import LoadResult

KEY = dg.AssetKey(["raw", "orders"])


def _result(**overrides) -> LoadResult:
    values = dict(
        source_file="2026-11-20/orders.csv", sha256="0" * 64, rows_read=10, rows_loaded=8,
        rows_rejected=2, rejected_by_reason={"invalid_number": 2},
        expectation_results={"orders": {"suite": "orders", "success": True,
                                        "evaluated_expectations": 5,
                                        "successful_expectations": 5,
                                        "unsuccessful_expectations": []}},
    )
    values.update(overrides)
    return LoadResult(**values)


def _by_name(results):
    return {r.check_name: r for r in results}


# what the tables hold of the file: 8 rows in raw, 2 rejected, 10 read
COUNTED = audit.Recount(rows_read=10, in_raw=8, rejected=2)


def test_a_clean_load_passes_and_reports_counts():
    results = _by_name(checks.check_results(KEY, _result(), open_rejections=0, counted=COUNTED))
    assert results["great_expectations"].passed
    assert results["great_expectations"].metadata["evaluated_expectations"].value == 5
    assert results["load_reconciles"].passed
    assert results["load_reconciles"].metadata["rows_read"].value == 10
    assert results["no_open_rejections"].passed


def test_a_failing_suite_fails_the_blocking_check():
    failing = {"orders": {"suite": "orders", "success": False, "evaluated_expectations": 5,
                          "successful_expectations": 4,
                          "unsuccessful_expectations": [{"type": "x", "unexpected_count": 3}]}}
    results = _by_name(checks.check_results(KEY, _result(expectation_results=failing), 0))
    assert not results["great_expectations"].passed
    assert results["great_expectations"].severity == dg.AssetCheckSeverity.ERROR


def test_a_missing_suite_result_does_not_pass():
    results = _by_name(checks.check_results(KEY, _result(expectation_results={}), 0))
    assert not results["great_expectations"].passed


def test_counts_that_do_not_add_up_fail_reconciliation():
    results = _by_name(checks.check_results(KEY, _result(rows_read=11), 0, COUNTED))
    assert not results["load_reconciles"].passed


def test_tables_that_lost_a_row_fail_reconciliation(tmp_path):
    """The recount reads the tables: a row gone from raw makes the check fail."""
    import duckdb

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw; create schema audit")
    con.execute("create table raw.orders (order_id varchar, source_file varchar)")
    con.execute("create table audit.rejected_rows (source_file varchar, reason varchar, "
                "is_open boolean)")
    con.execute("create table audit.load_log (source_file varchar, rows_read bigint)")
    f = "2026-11-20/orders.csv"
    con.execute("insert into audit.load_log values (?, 4)", [f])
    con.execute("insert into raw.orders values ('O1', ?), ('O2', ?), ('O3', ?)", [f, f, f])
    # O4: held for an unknown customer, then released into raw: counted once, in raw
    con.execute("insert into raw.orders values ('O4', ?)", [f])
    con.execute("insert into audit.rejected_rows values (?, 'unknown_customer', false)", [f])
    assert audit.recount(con, "orders", f) == audit.Recount(4, 4, 0)
    result = _result(rows_read=4, rows_loaded=3, rows_rejected=1)
    passed = _by_name(checks.check_results(KEY, result, 0, audit.recount(con, "orders", f)))
    assert passed["load_reconciles"].passed
    con.execute("delete from raw.orders where order_id = 'O2'")  # 3 in raw + 0 rejected != 4
    failed = _by_name(checks.check_results(KEY, result, 0, audit.recount(con, "orders", f)))
    assert not failed["load_reconciles"].passed


def test_open_rejections_warn_without_blocking():
    results = _by_name(checks.check_results(KEY, _result(), open_rejections=3))
    assert not results["no_open_rejections"].passed
    assert results["no_open_rejections"].severity == dg.AssetCheckSeverity.WARN
    specs = {spec.name: spec.blocking for spec in checks.check_specs(KEY)}
    assert specs == {"great_expectations": True, "load_reconciles": True,
                     "no_open_rejections": False}


def test_no_file_in_the_delivery_passes():
    results = _by_name(checks.check_results(KEY, None, open_rejections=0))
    assert all(r.passed for r in results.values())


def test_a_long_lived_process_keeps_only_the_recent_suites():
    """Each delivery's suite differs (its extract date is a bound): 20 deliveries' suites
    built one after the other leave at most the 12 most recent in memory; a suite asked for
    again while kept is the same object."""
    from orchestration.lib.ingest import expectations

    def suite(day: int) -> dict:
        return {"name": "orders", "expectations": [{
            "type": "expect_column_values_to_not_be_null", "kwargs": {"column": f"c{day}"}}]}

    expectations._context()  # GX builds suites inside a context
    expectations._SUITES.clear()
    built = [expectations._build_suite(suite(day)) for day in range(20)]
    assert len(expectations._SUITES) == 12
    assert expectations._build_suite(suite(19)) is built[19]
    assert expectations._build_suite(suite(0)) is not built[0]  # dropped, built anew
