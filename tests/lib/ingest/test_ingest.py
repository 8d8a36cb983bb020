"""Landing file -> raw: row rules, file refusals, audit tables, idempotency, GX results.

Every expected value below is worked out by hand from docs/reference.md (sections 1, 2, 5).
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from orchestration.lib.ingest.loader import FileRefused, load_file, release_pending
from orchestration.lib.ingest.spec import SERVICE_ACTIVITIES
from tests.ingest_fixtures import (
    ALL_TABLES,
    PRINT_GX_IMPORTED,
    add_expectation,
    extract,
    header,
    record,
    run_python,
    table_checksum,
    write_file,
)

D1, D2 = "2025-03-31", "2025-04-01"


def _customer(cid="C1", name="Alpha", country="DE", since="2020-01-01"):
    return record("customers", customer_id=cid, customer_name=name, country_code=country,
                  customer_since=since)


CUSTOMER_C1 = _customer()


def _customers(root, date=D1, *rows):
    write_file(root, date, "customers", extract("customers", *(rows or (CUSTOMER_C1,))))


def _order(oid="O1", line="1", customer="C1", date="2025-03-01", revenue="100", updated=""):
    return record("orders", order_id=oid, line_no=line, customer_id=customer, order_date=date,
                  net_revenue_eur=revenue, updated_at=updated)


def _orders(root, date, *rows):
    write_file(root, date, "orders", extract("orders", *rows))


def _load(con, root, entity, date=D1):
    result = load_file(con, root, date, entity, run_expectations=False)
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    return result


def _rejections(con):
    return con.execute(
        "select line_number, reason from audit.rejected_rows order by source_file, line_number"
    ).fetchall()


def _activity(aid="A1", customer="C1", code="HOTLINE", date="2025-03-01", minutes="30",
              participants="", billed="", status="", updated="", description="x", channel="phone"):
    return record("service_activities", activity_id=aid, customer_id=customer,
                  service_type_code=code, activity_date=date, duration_minutes=minutes,
                  participants=participants, employee_id="E1", department="Sales",
                  channel=channel, billed_amount_eur=billed, description=description,
                  status=status, updated_at=updated)


def _activities(root, date, *rows):
    write_file(root, date, "service_activities", extract("service_activities", *rows))


# --- row-level reasons, one test each -------------------------------------------------------

@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (_activity(code=""), "missing_required_field"),
        (_activity(minutes="abc"), "invalid_number"),
        (_activity(participants="1.5"), "invalid_number"),
        (_activity(date="2025-02-30"), "invalid_date"),
        (_activity(updated="yesterday"), "invalid_date"),
        (_activity(status="open"), "invalid_value"),
        (_activity(minutes="-1"), "negative_value"),
        (_activity(billed="-0.01"), "negative_value"),
        (_activity(participants="0"), "negative_value"),
        (_activity(code="COFFEE"), "unknown_service_type"),
        (_activity(customer="C9"), "unknown_customer"),
    ],
)
def test_activity_row_reason(tmp_path, con, row, reason):
    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    _activities(tmp_path, D1, _activity(aid="A0"), row)
    result = _load(con, tmp_path, "service_activities")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert result.rejected_by_reason == {reason: 1}
    assert _rejections(con) == [(3, reason)]


def test_first_reason_wins(tmp_path, con):
    """Missing customer_id and a bad number: missing_required_field comes first."""
    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    _activities(tmp_path, D1, _activity(customer="", minutes="x", code="COFFEE"))
    _load(con, tmp_path, "service_activities")
    assert _rejections(con) == [(2, "missing_required_field")]


def test_customer_invalid_country_code(tmp_path, con):
    _customers(tmp_path, D1, CUSTOMER_C1, _customer("C2", "Beta", country="DEU"))
    _load(con, tmp_path, "customers")
    assert _rejections(con) == [(3, "invalid_value")]
    detail = con.execute("select detail from audit.rejected_rows").fetchone()[0]
    assert "country_code" in detail and "DEU" in detail


def test_duplicate_key_rejects_all_differing_copies_but_not_identical_ones(tmp_path, con):
    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    _orders(
        tmp_path, D1,
        _order("O1", revenue="100", updated="2025-03-01 10:00:00"),  # line 2: differs from 3
        _order("O1", revenue="200", updated="2025-03-01 10:00:00"),  # line 3
        _order("O2", revenue="50"),  # line 4: identical to line 5
        _order("O2", revenue="50"),  # line 5
        _order("O1", revenue="300", updated="2025-03-02 10:00:00"),  # line 6: later, loads
    )
    result = _load(con, tmp_path, "orders")
    assert (result.rows_loaded, result.rows_rejected) == (3, 2)
    assert _rejections(con) == [(2, "duplicate_key"), (3, "duplicate_key")]


def test_customers_duplicate_id_with_different_content(tmp_path, con):
    _customers(tmp_path, D1, CUSTOMER_C1, _customer(name="Alpha GmbH"))
    result = _load(con, tmp_path, "customers")
    assert result.rejected_by_reason == {"duplicate_key": 2}


def test_orders_reasons_and_negative_revenue_allowed(tmp_path, con):
    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    _orders(
        tmp_path, D1,
        _order("O1", revenue="-100"),  # credit note: loads
        _order("O2", line="x"),  # invalid_number (line_no)
        _order("O3", date=""),  # missing_required_field (order_date)
        _order("O4", revenue=""),  # missing_required_field (net_revenue_eur)
    )
    result = _load(con, tmp_path, "orders")
    assert result.rows_loaded == 1
    assert _rejections(con) == [
        (3, "invalid_number"), (4, "missing_required_field"), (5, "missing_required_field")
    ]


def test_rejected_row_has_detail_and_raw_record(tmp_path, con):
    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    _activities(tmp_path, D1, _activity(minutes="12x"))
    _load(con, tmp_path, "service_activities")
    row = con.execute(
        "select extract_date, source_file, entity, detail, raw_record, is_open "
        "from audit.rejected_rows"
    ).fetchone()
    assert str(row[0]) == D1
    assert row[1] == f"{D1}/service_activities.csv"
    assert row[2] == "service_activities"
    assert row[3] == "duration_minutes: '12x' is not a number"
    assert json.loads(row[4])["duration_minutes"] == "12x"
    assert json.loads(row[4])["activity_id"] == "A1"
    assert row[5] is False


def test_line_numbers_count_embedded_newlines(tmp_path, con):
    _customers(tmp_path, D1, _customer(name='"Alpha\nGmbH\nNord"', country=""),
               _customer("C2", name="", country=""))
    _load(con, tmp_path, "customers")
    assert con.execute("select line_number, customer_name from raw.customers").fetchall() == [
        (2, "Alpha\nGmbH\nNord")
    ]
    assert _rejections(con) == [(5, "missing_required_field")]


# --- file-level refusals --------------------------------------------------------------------

def test_missing_required_column_names_file_and_column(tmp_path, con):
    write_file(tmp_path, D1, "customers", "customer_id,customer_since\nC1,2020-01-01\n")
    with pytest.raises(FileRefused, match=r"2025-03-31/customers\.csv.*customer_name"):
        load_file(con, tmp_path, D1, "customers", run_expectations=False)
    assert con.execute("select count(*) from audit.load_log").fetchone() == (0,)


def test_empty_file_refused(tmp_path, con):
    write_file(tmp_path, D1, "orders", b"")
    with pytest.raises(FileRefused, match=r"2025-03-31/orders\.csv.*0 bytes"):
        load_file(con, tmp_path, D1, "orders", run_expectations=False)


def test_undecodable_file_refused_and_nothing_written(tmp_path, con):
    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    data = extract("orders", _order(revenue="1\x81\x8d")).encode("latin-1")
    write_file(tmp_path, D1, "orders", data)
    with pytest.raises(FileRefused, match=r"2025-03-31/orders\.csv"):
        load_file(con, tmp_path, D1, "orders", run_expectations=False)
    assert con.execute("select count(*) from raw.orders").fetchone() == (0,)
    assert con.execute("select count(*) from audit.load_log").fetchone() == (1,)


def test_header_only_file_is_valid(tmp_path, con):
    write_file(tmp_path, D1, "customers", header("customers") + "\n")
    result = _load(con, tmp_path, "customers")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (0, 0, 0)
    assert con.execute("select rows_read from audit.load_log").fetchone() == (0,)


# --- columns -------------------------------------------------------------------------------

def test_column_order_case_free_and_extra_columns_reported(tmp_path, con):
    text = "STATUS, Customer_Since ,Customer_Name,CUSTOMER_ID,Notes\nActive,2020-01-01,Alpha,C1,x\n"
    write_file(tmp_path, D1, "customers", text)
    result = _load(con, tmp_path, "customers")
    assert result.extra_columns == ["Notes"]
    assert con.execute("select extra_columns from audit.load_log").fetchone() == ('["Notes"]',)
    assert con.execute(
        "select customer_id, customer_name, customer_since::varchar, status, industry "
        "from raw.customers"
    ).fetchall() == [("C1", "Alpha", "2020-01-01", "active", None)]


# --- load log, idempotency, re-delivery ----------------------------------------------------

def _folder(root, date, order_rows):
    _customers(root, date)
    _orders(root, date, *order_rows)


def test_reload_gives_identical_tables(tmp_path, con):
    _folder(tmp_path, D1, [_order("O1", revenue="10"), _order("O2", customer="C9", revenue="10"),
                           _order("O3", date="bad", revenue="10")])
    for entity in ("customers", "orders"):
        _load(con, tmp_path, entity)
    before = {t: table_checksum(con, t) for t in ALL_TABLES}
    for entity in ("customers", "orders"):
        result = load_file(con, tmp_path, D1, entity, run_expectations=False, force=True)
        assert not result.skipped_unchanged
    assert {t: table_checksum(con, t) for t in ALL_TABLES} == before
    again = load_file(con, tmp_path, D1, "orders", run_expectations=False)
    assert again.skipped_unchanged
    assert (again.rows_read, again.rows_loaded, again.rows_rejected) == (3, 1, 2)
    assert {t: table_checksum(con, t) for t in ALL_TABLES} == before


def test_changed_file_replaces_the_folder_rows(tmp_path, con):
    _folder(tmp_path, D1, [_order("O1", revenue="10"), _order("O2", revenue="10")])
    _load(con, tmp_path, "customers")
    _load(con, tmp_path, "orders")
    _orders(tmp_path, D1, _order("O3", revenue="10"))
    _load(con, tmp_path, "orders")
    assert con.execute("select order_id from raw.orders").fetchall() == [("O3",)]
    assert con.execute("select count(*) from audit.load_log where entity = 'orders'").fetchone() \
        == (1,)


def test_byte_identical_file_from_another_folder(tmp_path, con):
    """The same bytes under a new date are recognised and kept once: the second file holds no
    rows of its own, and says which file holds them."""
    rows = [_order("O1", revenue="10")]
    _folder(tmp_path, D1, rows)
    _folder(tmp_path, D2, rows)
    results = {}
    for date in (D1, D2):
        _load(con, tmp_path, "customers", date)
        results[date] = _load(con, tmp_path, "orders", date)
        assert not results[date].skipped_unchanged
    assert results[D1].identical_to is None and results[D1].rows_loaded == 1
    assert results[D2].identical_to == f"{D1}/orders.csv"
    assert (results[D2].rows_read, results[D2].rows_loaded) == (0, 0)
    assert con.execute(
        "select identical_to, skipped_as_identical, rows_read from audit.load_log "
        "where entity = 'orders' order by extract_date"
    ).fetchall() == [(None, False, 1), (f"{D1}/orders.csv", True, 0)]
    assert con.execute("select extract_date::varchar, order_id from raw.orders").fetchall() \
        == [(D1, "O1")]
    # the copy counts as loaded: loading it again skips it as unchanged
    assert _load(con, tmp_path, "orders", D2).skipped_unchanged


def test_a_copy_loads_on_its_own_when_the_file_it_copied_changes(tmp_path, con):
    """D2's orders were skipped as identical to D1's; D1 is corrected: D2's rows (the old
    bytes) now load under D2, and D1 holds the corrected row."""
    rows = [_order("O1", revenue="10")]
    _folder(tmp_path, D1, rows)
    _folder(tmp_path, D2, rows)
    for date in (D1, D2):
        _load(con, tmp_path, "customers", date)
        _load(con, tmp_path, "orders", date)
    _orders(tmp_path, D1, _order("O1", revenue="12"))
    result = _load(con, tmp_path, "orders", D1)
    assert result.reloaded_copies == [f"{D2}/orders.csv"]
    assert sorted(con.execute(
        "select extract_date::varchar, net_revenue_eur::varchar from raw.orders").fetchall()) \
        == [(D1, "12.0000"), (D2, "10.0000")]
    assert con.execute(
        "select source_file, skipped_as_identical, rows_loaded from audit.load_log "
        "where entity = 'orders' order by all").fetchall() == [
            (f"{D1}/orders.csv", False, 1), (f"{D2}/orders.csv", False, 1)]


def test_unknown_customer_released_by_later_snapshot(tmp_path, con):
    _folder(tmp_path, D1, [_order("O1", revenue="10"), _order("O2", customer="C2", revenue="20")])
    _load(con, tmp_path, "customers")
    _load(con, tmp_path, "orders")
    assert con.execute("select order_id from audit.pending_orders").fetchall() == [("O2",)]
    assert con.execute("select is_open from audit.rejected_rows").fetchall() == [(True,)]

    _customers(tmp_path, D2, CUSTOMER_C1, _customer("C2", "Beta", country="", since="2021-01-01"))
    _load(con, tmp_path, "customers", D2)
    assert release_pending(con, D2, "orders") == 1
    assert con.execute(
        "select order_id, extract_date::varchar, line_number from raw.orders order by order_id"
    ).fetchall() == [("O1", D1, 2), ("O2", D1, 3)]
    assert con.execute("select count(*) from audit.pending_orders").fetchone() == (0,)
    assert con.execute(
        "select is_open, resolved_extract_date::varchar, resolved_at is not null "
        "from audit.rejected_rows"
    ).fetchall() == [(False, D2, True)]


def test_release_happens_on_next_orders_load(tmp_path, con):
    _folder(tmp_path, D1, [_order("O2", customer="C2", revenue="20")])
    _load(con, tmp_path, "customers")
    _load(con, tmp_path, "orders")
    _customers(tmp_path, D2, _customer("C2", "Beta", country="", since="2021-01-01"))
    write_file(tmp_path, D2, "orders", header("orders") + "\n")
    _load(con, tmp_path, "customers", D2)
    result = _load(con, tmp_path, "orders", D2)
    assert result.released_pending == 1
    assert con.execute("select count(*) from raw.orders").fetchone() == (1,)


# --- Great Expectations --------------------------------------------------------------------

def test_expectations_surface_and_can_fail(tmp_path, con):
    """One GX run on the landed rows, then a broken suite on the same rows fails."""
    from orchestration.lib.ingest import expectations as gxe

    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    _activities(tmp_path, D1, _activity(aid="A1", participants="3"),
                _activity(aid="A2", minutes="-5"))
    result = load_file(con, tmp_path, D1, "service_activities")
    suite = result.expectation_results["service_activities"]
    assert suite["success"] is True
    assert suite["rows_validated"] == 1
    # every expectation of the stored suite was evaluated
    assert suite["evaluated_expectations"] == len(
        gxe.load_suite_json("service_activities", D1)["expectations"])
    assert suite["rejected_by_reason"] == {"negative_value": 1}
    json.dumps(result.expectation_results)

    broken = gxe.load_suite_json("service_activities", D1)
    broken["expectations"].append({
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "participants", "min_value": 5},
    })
    failed = gxe.validate_rows(
        con, SERVICE_ACTIVITIES, gxe._select_sql(SERVICE_ACTIVITIES),
        {"d": D1, "f": f"{D1}/service_activities.csv"}, broken,
    )
    assert failed["success"] is False
    assert [(e["column"], e["unexpected_count"]) for e in failed["unsuccessful_expectations"]] \
        == [("participants", 1)]


def test_expectations_run_as_sql_over_every_row(tmp_path, con):
    """5000 landed rows, participants 1 + i % 7: a suite asking for 3..7 finds the 1s and 2s
    (i % 7 in (0, 1): 715 rows each) among all 5000 rows, computed in DuckDB: the examples are
    the values as DuckDB holds them (the integer 1, not a float 1.0). No GX data source stays
    behind."""
    from orchestration.lib.ingest import expectations as gxe

    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    rows = [_activity(aid=f"A{i}", participants=str(1 + i % 7), billed="1.50")
            for i in range(5000)]
    _activities(tmp_path, D1, *rows)
    _load(con, tmp_path, "service_activities")

    suite = gxe.load_suite_json("service_activities", D1)
    suite["expectations"].append({
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "participants", "value_set": [3, 4, 5, 6, 7]},
    })
    result = gxe.validate_rows(con, SERVICE_ACTIVITIES, gxe._select_sql(SERVICE_ACTIVITIES),
                               {"d": D1, "f": f"{D1}/service_activities.csv"}, suite)
    assert result["rows_validated"] == 5000
    stored = len(gxe.load_suite_json("service_activities", D1)["expectations"])
    assert (result["evaluated_expectations"], result["successful_expectations"]) \
        == (stored + 1, stored)
    (failed,) = result["unsuccessful_expectations"]
    assert (failed["column"], failed["element_count"], failed["unexpected_count"]) \
        == ("participants", 5000, 1430)
    assert set(failed["partial_unexpected"]) <= {"1", "2"}
    assert len(failed["partial_unexpected"]) == gxe.EXAMPLES_KEPT
    assert not [name for name in gxe._context().data_sources.all() if name.startswith("ingest")]


def test_a_failing_expectation_blocks_and_names_what_failed(tmp_path, con, monkeypatch):
    """A load whose landed rows break its suite: the suite (run as SQL in DuckDB) fails, the
    load log records it (so an unchanged file is not skipped later), and the blocking check
    fails naming the expectation, the column, the count and the values. Two of three accepted
    activities last 5 and 10 minutes, below a suite's minimum of 15; a third is rejected by the
    rules (negative minutes) and counted beside the suite."""
    import dagster as dg

    from orchestration.defs.ingest import checks
    from orchestration.lib import audit

    add_expectation(monkeypatch, {"type": "expect_column_values_to_be_between",
                                  "kwargs": {"column": "duration_minutes", "min_value": 15}})
    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    _activities(tmp_path, D1, _activity(aid="A1", minutes="5"), _activity(aid="A2", minutes="10"),
                _activity(aid="A3", minutes="30"), _activity(aid="A4", minutes="-5"))
    result = load_file(con, tmp_path, D1, "service_activities")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    suite = result.expectation_results["service_activities"]
    assert suite["success"] is False and suite["rows_validated"] == 3
    (failed,) = suite["unsuccessful_expectations"]
    assert (failed["expectation"], failed["column"], failed["element_count"],
            failed["unexpected_count"]) \
        == ("expect_column_values_to_be_between", "duration_minutes", 3, 2)
    assert sorted(float(v) for v in failed["partial_unexpected"]) == [5.0, 10.0]
    logged = audit.logged_load(con, dt.date.fromisoformat(D1), result.source_file)
    assert logged.expectations_passed is False

    key = dg.AssetKey(["raw", "service_activities"])
    by_name = {r.check_name: r for r in checks.check_results(
        key, result, 0, audit.recount(con, "service_activities", result.source_file))}
    check = by_name["great_expectations"]
    assert check.passed is False and check.severity == dg.AssetCheckSeverity.ERROR
    named = check.metadata["unsuccessful_expectations"].value
    assert [(e["expectation"], e["column"], e["unexpected_count"]) for e in named] \
        == [("expect_column_values_to_be_between", "duration_minutes", 2)]
    assert by_name["load_reconciles"].passed
    assert {s.name: s.blocking for s in checks.check_specs(key)}["great_expectations"]


def test_a_load_that_runs_no_suite_does_not_import_gx(tmp_path):
    """Great Expectations costs seconds to import: a process whose load runs no suite (a file
    unchanged since its suite passed) imports neither it nor the SQL dialect it uses, although
    it imports the raw assets and their checks."""
    _customers(tmp_path)
    script = (
        "import sys, duckdb\n"
        "import orchestration.defs.ingest.assets, orchestration.defs.ingest.checks\n"
        "from orchestration.lib.ingest.loader import load_file\n"
        "from orchestration.lib.warehouse.catalog import ensure_meta\n"
        "from orchestration.lib.warehouse.store import StoreFiles\n"
        "from pathlib import Path\n"
        "con = duckdb.connect()\n"
        "ensure_meta(con, StoreFiles(Path(sys.argv[1]) / 'store'))\n"
        "load_file(con, sys.argv[1], sys.argv[2], 'customers', run_expectations=False)\n"
        "again = load_file(con, sys.argv[1], sys.argv[2], 'customers')\n"
        "assert again.skipped_unchanged and not again.expectation_results\n"
        + PRINT_GX_IMPORTED
    )
    out = run_python(script, str(tmp_path), D1)
    assert "imported: []" in out, out


def test_a_suite_that_cannot_run_has_not_passed(tmp_path, con, monkeypatch):
    """A suite that stops with an error leaves the file's verdict failed, not open: the next
    load validates the same bytes again instead of skipping them as unchanged."""
    from orchestration.lib import audit
    from orchestration.lib.ingest import expectations as gxe

    _customers(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("the suite stopped")

    monkeypatch.setattr(gxe, "validate_rows", broken)
    with pytest.raises(RuntimeError, match="the suite stopped"):
        load_file(con, tmp_path, D1, "customers")
    source_file = f"{D1}/customers.csv"
    assert audit.logged_load(con, dt.date.fromisoformat(D1), source_file) \
        .expectations_passed is False
    monkeypatch.undo()
    again = load_file(con, tmp_path, D1, "customers")
    assert not again.skipped_unchanged
    assert again.expectation_results["customers"]["success"] is True
    assert audit.logged_load(con, dt.date.fromisoformat(D1), source_file) \
        .expectations_passed is True


def test_an_unanchored_pattern_is_refused():
    """DuckDB matches a pattern against the whole value, GX searches in it: they agree only
    on a pattern anchored at both ends, so another one is refused, by name."""
    from orchestration.lib.ingest import expectations as gxe

    gxe._context()
    suite = {"name": "customers", "expectations": [{
        "type": "expect_column_values_to_match_regex",
        "kwargs": {"column": "country_code", "regex": "[A-Z]{2}"}}]}
    with pytest.raises(ValueError, match="country_code: the pattern '\\[A-Z\\]\\{2\\}' must"):
        gxe._build_suite(suite)


# --- reading: quotes, records over several lines, ragged records -----------------------------

ROWS = (
    _activity(aid='"A1"', description='"Rückfrage; Gebühr 5 €"'),  # line 2
    _activity(aid="A2", minutes="abc"),  # line 3: invalid_number
    _activity(aid="A3", customer="C9", description='"sagt ""ja"""'),  # line 4: unknown_customer
    _activity(aid="A4", code="TRAINING", minutes="60", participants="3", channel="",
              description="", status="done"),  # line 5
)
WIDTH = len(SERVICE_ACTIVITIES.columns)  # fields of the header: 13


def _load_activities(tmp_path, con, rows):
    _customers(tmp_path)
    _activities(tmp_path, D1, *rows)
    _load(con, tmp_path, "customers")
    return _load(con, tmp_path, "service_activities")


def _activity_table(con):
    return con.execute(
        "select line_number, activity_id, description, duration_minutes::varchar, participants "
        "from raw.service_activities order by line_number"
    ).fetchall()


def _rejected_table(con):
    return con.execute(
        "select line_number, reason, detail, raw_record from audit.rejected_rows "
        "where entity = 'service_activities' order by line_number"
    ).fetchall()


def test_rows_line_numbers_and_rejections(tmp_path, con):
    result = _load_activities(tmp_path, con, ROWS)
    assert (result.rows_read, result.rows_loaded, result.rejected_by_reason) == (
        4, 2, {"invalid_number": 1, "unknown_customer": 1}
    )
    assert _activity_table(con) == [
        (2, "A1", "Rückfrage; Gebühr 5 €", "30.0000", None),
        (5, "A4", None, "60.0000", 3),
    ]
    rejected = _rejected_table(con)
    assert [(r[0], r[1]) for r in rejected] == [(3, "invalid_number"), (4, "unknown_customer")]
    assert json.loads(rejected[0][3])["duration_minutes"] == "abc"
    assert json.loads(rejected[1][3])["description"] == 'sagt "ja"'
    assert json.loads(rejected[1][3])["channel"] == "phone"
    assert json.loads(rejected[1][3])["status"] is None


def test_multi_line_record_moves_the_later_lines(tmp_path, con):
    """A quoted description over lines 3-5 moves the later rows (A2, A3, A4) by two lines."""
    rows = (ROWS[0], _activity(aid="A9", minutes="15", description='"Zeile 1\nZeile 2\nZeile 3"'),
            *ROWS[1:])
    result = _load_activities(tmp_path, con, rows)
    assert (result.rows_read, result.rows_loaded) == (5, 3)
    assert _activity_table(con) == [
        (2, "A1", "Rückfrage; Gebühr 5 €", "30.0000", None),
        (3, "A9", "Zeile 1\nZeile 2\nZeile 3", "15.0000", None),
        (8, "A4", None, "60.0000", 3),
    ]
    assert [(r[0], r[1]) for r in _rejected_table(con)] == [
        (6, "invalid_number"), (7, "unknown_customer")
    ]


@pytest.mark.parametrize(
    ("row", "fields"),
    [(_activity(aid="A5").rsplit(",", 1)[0], WIDTH - 1),  # one field short
     (_activity(aid="A5") + ",", WIDTH + 1)],  # one field too many
)
def test_ragged_record_rejected_with_its_line(tmp_path, con, row, fields):
    result = _load_activities(tmp_path, con, (*ROWS[:2], row, ROWS[3]))
    assert result.rejected_by_reason == {"invalid_number": 1, "invalid_value": 1}
    assert [(r[0], r[1], r[2]) for r in _rejected_table(con)] == [
        (3, "invalid_number", "duration_minutes: 'abc' is not a number"),
        (4, "invalid_value", f"record has {fields} fields, the header {WIDTH}"),
    ]
    assert [r[0] for r in _activity_table(con)] == [2, 5]


@pytest.mark.parametrize(
    ("text", "records"),
    [('h1,h2\r\n1,"a b"\r\n', [("1", "a b", 2)]),
     ("h1,h2\n1,2\n\n3,4\n", [("1", "2", 2), ("3", "4", 4)]),  # blank line 3: skipped
     ("h1,h2\n1,2\r3,4\n", [("1", "2", 2), ("3", "4", 3)]),  # a lone CR ends a line
     ('"h1\nx",h2\n1,2\n', [("1", "2", 3)])],  # the header spans lines 1-2
)
def test_records_start_on_their_physical_line(tmp_path, con, text, records):
    from orchestration.lib.ingest import dialect as dl
    from orchestration.lib.ingest import reading

    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    read = reading.normalise(path, dl.detect_dialect(path, "utf-8"), tmp_path / "records.csv")
    assert con.execute(
        f"select c0, c1, line_number from ({reading.records_sql(read)}) order by line_number"
    ).fetchall() == records


def test_scan_reads_utf8_across_chunk_borders(tmp_path, monkeypatch):
    """'ü' is two bytes in UTF-8: split by a chunk border it is still UTF-8, and the sha256
    is the whole file's."""
    import hashlib

    from orchestration.lib.ingest import dialect as dl

    monkeypatch.setattr(dl, "SCAN_BYTES", 3)
    data = "ab,ü\n1,2\n".encode()  # 'ü' = bytes 3 and 4 (0-based): across the border
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert dl.scan_file(path) == dl.FileScan(hashlib.sha256(data).hexdigest(), "utf-8")


def test_a_file_the_landing_digests_know_is_not_hashed_again(tmp_path, con, monkeypatch):
    """A load hashes the landing before its run (landing.Digests): the loader takes that
    sha256 for a file unchanged since, and hashes a file written again after it, or one
    hashed within 2 s of its last change (it may have changed again in the same tick)."""
    import hashlib
    import os
    import time

    from orchestration.lib import landing
    from orchestration.lib.ingest import dialect as dl

    _customers(tmp_path)
    path = tmp_path / D1 / "customers.csv"
    digests = landing.Digests(tmp_path / "digests.json")
    known = digests.of(path)
    assert known == hashlib.sha256(path.read_bytes()).hexdigest()
    # hashed as soon as it was written: it might change again within the clock's tick, unseen
    assert digests.known(path) is None
    # hashed a while after it was written (the clock moved on 3 s), as a delivery is
    later = time.time_ns
    monkeypatch.setattr(landing.time, "time_ns", lambda: later() + 3_000_000_000)
    digests = landing.Digests(tmp_path / "digests.json")
    assert digests.of(path) == known and digests.known(path) == known
    monkeypatch.setattr(landing.time, "time_ns", later)
    hashed = []
    real = hashlib.sha256
    monkeypatch.setattr(dl.hashlib, "sha256", lambda *a: hashed.append(1) or real(*a))
    result = load_file(con, tmp_path, D1, "customers", run_expectations=False,
                       digests=digests)
    assert (result.sha256, result.rows_loaded, hashed) == (known, 1, [])
    # written again after the landing was hashed: another identity, hashed by the loader
    _customers(tmp_path, D1, _customer(name="Alpha AG"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert digests.known(path) is None
    result = load_file(con, tmp_path, D1, "customers", run_expectations=False,
                       digests=digests)
    assert result.sha256 == real(path.read_bytes()).hexdigest() != known
    assert hashed == [1]
    assert con.execute("select customer_name from raw.customers").fetchall() == [("Alpha AG",)]


def test_a_file_without_rejected_rows_keeps_its_typed_file_as_the_raw_file(
        tmp_path, con, monkeypatch):
    """The typed rows are written once. With every row accepted, that file is the raw file
    (moved, not written again); with a rejected row, the accepted rows are written anew. The
    raw rows, their lineage included, are the same either way, the two kinds of file read
    together, and work/ingest/ is empty."""
    from orchestration.lib.ingest import writing
    from orchestration.lib.warehouse import catalog

    writes = []
    real = writing.write_parquet
    monkeypatch.setattr(writing, "write_parquet",
                        lambda *a, **k: writes.append(a[2]) or real(*a, **k))
    _customers(tmp_path)
    _load(con, tmp_path, "customers")
    _orders(tmp_path, D1, _order("O1"), _order("O2", revenue="12.5"))
    writes.clear()
    assert _load(con, tmp_path, "orders").rows_loaded == 2
    (typed,) = writes
    (raw,) = [f for f in catalog.raw_files(con, "orders")]
    assert not typed.exists() and catalog.store_of(con).path(raw.path).is_file()
    loaded_at = con.execute("select loaded_at from audit.load_log where entity = 'orders'"
                            ).fetchone()[0]
    lineage = [(dt.date(2025, 3, 31), f"{D1}/orders.csv", 2, loaded_at),
               (dt.date(2025, 3, 31), f"{D1}/orders.csv", 3, loaded_at)]
    assert con.execute("select order_id, net_revenue_eur::varchar, extract_date, source_file, "
                       "line_number, loaded_at from raw.orders order by order_id").fetchall() == [
        ("O1", "100.0000", *lineage[0]), ("O2", "12.5000", *lineage[1])]
    # another delivery with a rejected row: its accepted row is written anew, into a file of
    # its own, which raw.orders reads beside the moved one
    _orders(tmp_path, D2, _order("O3"), _order("O4", revenue="zwölf"))
    writes.clear()
    assert _load(con, tmp_path, "orders", D2).rows_loaded == 1
    assert len(writes) == 2 and not writes[0].exists()
    assert con.execute("select order_id, net_revenue_eur::varchar, extract_date, line_number "
                       "from raw.orders order by order_id").fetchall() == [
        ("O1", "100.0000", dt.date(2025, 3, 31), 2), ("O2", "12.5000", dt.date(2025, 3, 31), 3),
        ("O3", "100.0000", dt.date(2025, 4, 1), 2)]
    assert list(catalog.store_of(con).ingest_dir.glob("*")) == []


def test_joins_build_as_written_during_a_load_and_the_setting_is_restored(
        tmp_path, con, monkeypatch):
    """While a file's rows are written, DuckDB may not swap a hash join's sides (it thinks a
    CSV file small and would build on it); after the load, and after one that fails inside its
    transaction, the connection's setting is what it was."""
    from orchestration.lib.ingest import writing

    setting = "select current_setting('disabled_optimizers')"
    seen = []
    write_rows = writing.write_rows

    def spy(con, *args, **kwargs):
        seen.append(con.execute(setting).fetchone()[0])
        return write_rows(con, *args, **kwargs)

    def failing(con, *args, **kwargs):
        con.execute("select error('the statement fails')")

    con.execute("set disabled_optimizers = 'top_n'")
    _customers(tmp_path)
    monkeypatch.setattr(writing, "write_rows", spy)
    _load(con, tmp_path, "customers")
    assert [set(names.split(",")) for names in seen] == [{"top_n", "build_side_probe_side"}]
    assert con.execute(setting).fetchone() == ("top_n",)
    monkeypatch.setattr(writing, "write_rows", failing)
    with pytest.raises(duckdb.Error, match="the statement fails"):
        load_file(con, tmp_path, D1, "customers", run_expectations=False, force=True)
    assert con.execute(setting).fetchone() == ("top_n",)


def test_memory_limit_lowered_for_a_database_file_and_restored(tmp_path):
    from orchestration.lib.warehouse.connection import memory_budget

    seen = []
    _customers(tmp_path)
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        connection.execute("set memory_limit = '2GiB'")
        with memory_budget(connection):
            seen.append(connection.execute("select current_setting('memory_limit')").fetchone())
        _load(connection, tmp_path, "customers")
        assert connection.execute("select current_setting('memory_limit')").fetchone() == (
            "2.0 GiB",
        )
    finally:
        connection.close()
    assert seen == [("512.0 MiB",)]


def test_typed_rows_go_to_one_parquet_file_that_is_gone_after_the_load(
        tmp_path, con, monkeypatch):
    """A file's typed and judged rows are a Parquet file of the store's work/ingest/ while they
    are judged, not a table of the database (a table that size spills uncompressed); the file
    goes after the load, after a load that fails, and a killed load's file goes at the next."""
    from orchestration.lib.ingest import writing
    from orchestration.lib.warehouse.catalog import store_of

    folder = store_of(con).ingest_dir
    seen = []
    judge = writing._judge_and_write

    def spy(con, spec, header, lineage, total, typed):
        files = sorted(folder.glob("*.parquet"))
        seen.append((
            [con.execute(f"select count(*) from read_parquet('{f}')").fetchone()[0]
             for f in files],
            total,
            con.execute("select table_name from duckdb_tables() where temporary").fetchall(),
        ))
        return judge(con, spec, header, lineage, total, typed)

    monkeypatch.setattr(writing, "_judge_and_write", spy)
    _customers(tmp_path)
    folder.mkdir(parents=True)
    (folder / "killed.parquet").write_bytes(b"left by a killed load")
    _load(con, tmp_path, "customers")
    # three order lines: one loads, one has no date, one has an unknown customer (held)
    _orders(tmp_path, D1, _order(), _order(oid="O2", date=""), _order(oid="O3", customer="C9"))
    result = _load(con, tmp_path, "orders")
    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    # one file of the one customer, then one of the three order lines; no table of them
    assert seen == [([1], 1, []), ([3], 3, [])]
    assert list(folder.iterdir()) == []

    def failing(con, *args):
        con.execute("select error('the statement fails')")

    monkeypatch.setattr(writing, "_judge_and_write", failing)
    with pytest.raises(duckdb.Error, match="the statement fails"):
        load_file(con, tmp_path, D1, "orders", run_expectations=False, force=True)
    assert list(folder.iterdir()) == []
