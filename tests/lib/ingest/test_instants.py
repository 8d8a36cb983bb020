"""Time zones and dates are not guessed: `updated_at` is an instant, kept as UTC; a naive one
is local time in CVM_SOURCE_TIMEZONE (Europe/Berlin by default); event dates lie between
1900-01-01 and their delivery's extract date. Expected values worked out by hand from
docs/reference.md (sections 1 and 2). Europe/Berlin is UTC+1 in winter and UTC+2 in summer;
in 2025 the clocks went from 02:00 to 03:00 on 30 March and from 03:00 back to 02:00 on
26 October."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.lib.ingest.loader import load_file
from tests.ingest_fixtures import extract, header, record, write_file

DATE = "2025-10-31"


def _customers(root):
    write_file(root, DATE, "customers", extract("customers", record(
        "customers", customer_id="C1", customer_name="Alpha", customer_since="2020-01-01")))


def _order(oid: str, updated: str, revenue: str = "100", date: str = "2025-03-01") -> str:
    return record("orders", order_id=oid, line_no="1", customer_id="C1", order_date=date,
                  net_revenue_eur=revenue, updated_at=updated)


def _load_orders(con, root, *rows: str, delimiter: str = ","):
    _customers(root)
    load_file(con, root, DATE, "customers", run_expectations=False)
    text = "\n".join([header("orders", delimiter), *rows]) + "\n"
    write_file(root, DATE, "orders", text, encoding="cp1252" if delimiter == ";" else "utf-8")
    result = load_file(con, root, DATE, "orders", run_expectations=False)
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    return result


def _stored(con):
    return dict(con.execute("select order_id, updated_at from raw.orders").fetchall())


def _rejected(con):
    return con.execute(
        "select line_number, reason, detail from audit.rejected_rows order by line_number"
    ).fetchall()


def test_an_offset_makes_an_instant(tmp_path, con):
    """The autumn hour with its offsets: 02:10+01:00 is 01:10 UTC, 02:50+02:00 is 00:50 UTC,
    so the 02:10 version is the later instant. Z and +0100 forms too."""
    _load_orders(con, tmp_path,
                 _order("O1", "2025-10-26T02:10:00+01:00"),
                 _order("O2", "2025-10-26T02:50:00+02:00"),
                 _order("O3", "2025-03-31T12:00:00Z"),
                 _order("O4", "2025-03-31 14:00:00+0200"),
                 _order("O5", "2025-01-15T10:00:00-05:00"))
    assert _stored(con) == {
        "O1": dt.datetime(2025, 10, 26, 1, 10), "O2": dt.datetime(2025, 10, 26, 0, 50),
        "O3": dt.datetime(2025, 3, 31, 12, 0), "O4": dt.datetime(2025, 3, 31, 12, 0),
        "O5": dt.datetime(2025, 1, 15, 15, 0),  # 10:00 at UTC-5
    }


def test_the_same_wall_time_with_two_offsets_is_no_duplicate(tmp_path, con):
    """O1/1 twice, different revenue, at 02:30+01:00 (01:30 UTC) and 02:30+02:00 (00:30 UTC):
    two instants, so no duplicate_key; both versions load and the re-delivery rule can order
    them."""
    result = _load_orders(con, tmp_path,
                          _order("O1", "2025-10-26T02:30:00+01:00", "100"),
                          _order("O1", "2025-10-26T02:30:00+02:00", "200"))
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    rows = con.execute(
        "select net_revenue_eur, updated_at from raw.orders order by updated_at desc").fetchall()
    assert [(int(r), t) for r, t in rows] == [
        (100, dt.datetime(2025, 10, 26, 1, 30)), (200, dt.datetime(2025, 10, 26, 0, 30))]


def test_a_naive_time_is_local_time_in_berlin(tmp_path, con):
    """Winter 10:00 (UTC+1) is 09:00 UTC; summer 10:00 (UTC+2) 08:00; German 15.07.2025 10:00
    too; a date alone is local midnight: 2025-07-15 00:00 is 2025-07-14 22:00 UTC. Around the
    changes: 30 March 01:59:59 (+1) is 00:59:59, 03:00 (+2) is 01:00; 26 October 01:59:59 (+2)
    is 25 October 23:59:59, 03:00 (+1) is 02:00."""
    _load_orders(con, tmp_path,
                 _order("O1", "2025-01-15 10:00:00"), _order("O2", "2025-07-15T10:00:00"),
                 _order("O3", "2025-07-15"), _order("O4", "2025-03-30 01:59:59"),
                 _order("O5", "2025-03-30 03:00:00"), _order("O6", "2025-10-26 01:59:59"),
                 _order("O7", "2025-10-26 03:00:00"))
    assert _stored(con) == {
        "O1": dt.datetime(2025, 1, 15, 9), "O2": dt.datetime(2025, 7, 15, 8),
        "O3": dt.datetime(2025, 7, 14, 22), "O4": dt.datetime(2025, 3, 30, 0, 59, 59),
        "O5": dt.datetime(2025, 3, 30, 1), "O6": dt.datetime(2025, 10, 25, 23, 59, 59),
        "O7": dt.datetime(2025, 10, 26, 2),
    }


def test_german_naive_times_are_local_too(tmp_path, con):
    _load_orders(con, tmp_path,
                 record("orders", ";", order_id="O1", line_no="1", customer_id="C1",
                        order_date="01.03.2025", net_revenue_eur="1.234,50",
                        updated_at="15.07.2025 10:00"),
                 delimiter=";")
    assert _stored(con) == {"O1": dt.datetime(2025, 7, 15, 8)}


def test_the_spring_gap_and_the_autumn_hour_are_rejected_saying_which(tmp_path, con):
    """02:30 on 30 March does not exist; 02:00 and 02:30 on 26 October happen twice. German
    '26.10.2025 02:30:00' likewise. 02:59:59 on 30 March does not exist either."""
    result = _load_orders(con, tmp_path,
                          _order("O1", "2025-03-30 02:30:00"), _order("O2", "2025-10-26 02:30"),
                          _order("O3", "2025-10-26T02:00:00"),
                          _order("O4", "26.10.2025 02:30:00"),
                          _order("O5", "2025-03-30 02:59:59"), _order("O6", "2025-03-30 02:00"))
    assert result.rejected_by_reason == {"invalid_date": 6}
    zone = "Europe/Berlin"
    skip = f"does not exist in {zone} (the clocks skip that hour)"
    repeat = f"is ambiguous in {zone} (the clocks repeat that hour); give it with its offset"
    assert _rejected(con) == [
        (2, "invalid_date", f"updated_at: '2025-03-30 02:30:00' {skip}"),
        (3, "invalid_date", f"updated_at: '2025-10-26 02:30' {repeat}"),
        (4, "invalid_date", f"updated_at: '2025-10-26T02:00:00' {repeat}"),
        (5, "invalid_date", f"updated_at: '26.10.2025 02:30:00' {repeat}"),
        (6, "invalid_date", f"updated_at: '2025-03-30 02:59:59' {skip}"),
        (7, "invalid_date", f"updated_at: '2025-03-30 02:00' {skip}"),
    ]


def test_naive_times_far_from_the_extract_date_convert_alike(tmp_path, con):
    """The offsets of a date from 1900-01-01 to the day after the extract date (2025-11-01)
    come from a table; those of any other date are worked out on the row, with the same rules.
    1899-07-01 12:00 is CET (Berlin since 1893, no summer time then): 11:00 UTC;
    2025-11-02 12:00 (winter, +1) 11:00; 2030-07-01 12:00 (summer, +2) 10:00. In 2030 the
    clocks change on the last Sundays of March and October: 1 January 2030 is a Tuesday, so
    31 March (day 90, 89 days later, 89 = 12 * 7 + 5) and 27 October (day 300, 299 = 42 * 7 +
    5) are Sundays: 02:30 on 31 March does not exist, 02:30 on 27 October is ambiguous."""
    result = _load_orders(con, tmp_path,
                          _order("O1", "1899-07-01 12:00:00"), _order("O2", "2025-11-02 12:00"),
                          _order("O3", "2030-07-01T12:00:00"), _order("O4", "2030-03-31 02:30"),
                          _order("O5", "2030-10-27 02:30"))
    assert _stored(con) == {
        "O1": dt.datetime(1899, 7, 1, 11), "O2": dt.datetime(2025, 11, 2, 11),
        "O3": dt.datetime(2030, 7, 1, 10),
    }
    assert result.rejected_by_reason == {"invalid_date": 2}
    zone = "Europe/Berlin"
    assert _rejected(con) == [
        (5, "invalid_date",
         f"updated_at: '2030-03-31 02:30' does not exist in {zone} (the clocks skip that hour)"),
        (6, "invalid_date",
         f"updated_at: '2030-10-27 02:30' is ambiguous in {zone} (the clocks repeat that "
         "hour); give it with its offset"),
    ]


def test_another_source_time_zone(tmp_path, con, monkeypatch):
    """America/New_York: UTC-5 in winter; in 2025 its clocks skipped 02:00-03:00 on 9 March."""
    monkeypatch.setenv("CVM_SOURCE_TIMEZONE", "America/New_York")
    _load_orders(con, tmp_path, _order("O1", "2025-01-15 10:00:00"),
                 _order("O2", "2025-03-09 02:30:00"), _order("O3", "2025-03-30 02:30:00"))
    assert _stored(con) == {
        "O1": dt.datetime(2025, 1, 15, 15), "O3": dt.datetime(2025, 3, 30, 6, 30)}
    assert [r[:2] for r in _rejected(con)] == [(3, "invalid_date")]
    assert "does not exist in America/New_York" in _rejected(con)[0][2]


def test_an_unknown_source_time_zone_is_an_error_naming_the_setting(tmp_path, con, monkeypatch):
    monkeypatch.setenv("CVM_SOURCE_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="CVM_SOURCE_TIMEZONE='Mars/Olympus_Mons'"):
        _load_orders(con, tmp_path, _order("O1", "2025-01-15 10:00:00"))


def test_text_with_a_zone_name_is_not_read_as_naive(tmp_path, con):
    """'… UTC' or an offset after a blank is no documented form: rejected, never guessed."""
    _load_orders(con, tmp_path, _order("O1", "2025-01-15 10:00:00 UTC"),
                 _order("O2", "2025-01-15 10:00:00 +01:00"))
    assert [r[1:] for r in _rejected(con)] == [
        ("invalid_date", "updated_at: '2025-01-15 10:00:00 UTC' is not a timestamp"),
        ("invalid_date", "updated_at: '2025-01-15 10:00:00 +01:00' is not a timestamp"),
    ]


# --- event dates ----------------------------------------------------------------------------

def test_order_dates_between_1900_and_the_extract_date(tmp_path, con):
    """Delivery 2025-10-31: the extract date itself and 1900-01-01 load; the day after, a date
    in 2999 (which would become 'the latest period') and 1899-12-31 are invalid_date."""
    result = _load_orders(con, tmp_path,
                          _order("O1", "", date="2025-10-31"), _order("O2", "", date="2025-11-01"),
                          _order("O3", "", date="2999-06-01"), _order("O4", "", date="1900-01-01"),
                          _order("O5", "", date="1899-12-31"))
    assert sorted(_stored(con)) == ["O1", "O4"]
    assert result.rejected_by_reason == {"invalid_date": 3}
    assert [r[0::2] for r in _rejected(con)] == [
        (3, "order_date: '2025-11-01' is after the extract date 2025-10-31"),
        (4, "order_date: '2999-06-01' is after the extract date 2025-10-31"),
        (6, "order_date: '1899-12-31' is before 1900-01-01"),
    ]


def test_activity_dates_between_1900_and_the_extract_date(tmp_path, con):
    """German dates in a cp1252 file: 01.11.2025 is after the delivery 2025-10-31."""
    _customers(tmp_path)
    load_file(con, tmp_path, DATE, "customers", run_expectations=False)
    rows = [
        record("service_activities", ";", activity_id=aid, customer_id="C1",
               service_type_code="HOTLINE", activity_date=day, duration_minutes="15")
        for aid, day in (("A1", "31.10.2025"), ("A2", "01.11.2025"), ("A3", "31.12.1899"))
    ]
    text = "\n".join([header("service_activities", ";"), *rows]) + "\n"
    write_file(tmp_path, DATE, "service_activities", text, encoding="cp1252")
    result = load_file(con, tmp_path, DATE, "service_activities", run_expectations=False)
    assert (result.rows_loaded, result.rejected_by_reason) == (1, {"invalid_date": 2})
    assert [r[0::2] for r in _rejected(con)] == [
        (3, "activity_date: '01.11.2025' is after the extract date 2025-10-31"),
        (4, "activity_date: '31.12.1899' is before 1900-01-01"),
    ]


def test_the_suite_checks_event_dates_of_the_rows_that_landed(tmp_path, con):
    """The orders suite bounds order_date by 1900-01-01 and the extract date: rows the rules
    let through pass; two rows slipped into raw behind the rules' back (2999-06-01 and
    1899-12-31) fail that expectation, and only it: 2 unexpected of 3 rows."""
    from orchestration.lib.ingest import expectations as gxe
    from orchestration.lib.ingest.spec import ORDERS

    result = _load_orders(con, tmp_path, _order("O1", "", date="2025-10-31"))
    source = f"{DATE}/orders.csv"
    assert gxe.validate_load(con, ORDERS, DATE, source, result)["orders"]["success"]
    # an extra raw file of the delivery, written behind the rules' back
    from orchestration.lib.warehouse import catalog
    from orchestration.lib.warehouse.store import write_parquet

    store = catalog.store_of(con)
    relative = store.new_raw_file("orders", dt.date.fromisoformat(DATE))
    columns = ", ".join(f'"{c}"' for c in ORDERS.table_columns)
    rows = write_parquet(
        con, f"select {columns} from raw.orders where false union all by name "
        "select * from (values ('O2', 1, 'C1', DATE '2999-06-01', 1::decimal(18, 4), "
        "$d::date, $f, 3::bigint), ('O3', 1, 'C1', DATE '1899-12-31', 1::decimal(18, 4), "
        "$d::date, $f, 4::bigint)) as t(order_id, line_no, customer_id, order_date, "
        "net_revenue_eur, extract_date, source_file, line_number)",
        store.path(relative), {"d": DATE, "f": source})
    catalog.register_raw_file(con, "orders", dt.date.fromisoformat(DATE), source, relative, rows,
                              "delivered")
    catalog.refresh_raw_views(con, ("orders",))
    suite = gxe.validate_load(con, ORDERS, DATE, source, result)["orders"]
    (failed,) = suite["unsuccessful_expectations"]
    assert (failed["expectation"], failed["column"]) == (
        "expect_column_values_to_be_between", "order_date")
    assert (failed["element_count"], failed["unexpected_count"]) == (3, 2)
