"""What the ingest judges of a file as a whole: the number format of each decimal column,
decided from all its values; the share of rejected rows that refuses a file; a file that does
not end with a line break; and what the load summary says of the files of a run."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from orchestration.lib.ingest.loader import FileRefused, SettingError, load_file
from orchestration.lib.reports.summary import print_summary
from tests.ingest_fixtures import csv_text, extract, header, record, write_file

D = "2026-04-06"
ORDERS = f"{D}/orders.csv"


def _customers(root, *ids: str) -> None:
    write_file(root, D, "customers", extract("customers", *(
        record("customers", customer_id=cid, customer_name=f"Kunde {cid}",
               customer_since="2020-01-01") for cid in ids)))


def _order(oid: str, revenue: str, cost: str = "", sep: str = ";", customer: str = "C1",
           group: str = "Gerät") -> str:
    return record("orders", sep, order_id=oid, line_no="1", customer_id=customer,
                  order_date="2026-04-01", product_group=group, net_revenue_eur=revenue,
                  cost_of_goods_eur=cost, updated_at="2026-04-01 10:00:00")


def _semicolon_orders(root, *rows: str) -> None:
    """A ';'-delimited cp1252 file (the umlaut of 'Gerät' is byte 0xE4), ISO dates."""
    write_file(root, D, "orders", csv_text(header("orders", ";"), *rows), encoding="cp1252")


def _load(con, root, entity="orders"):
    return load_file(con, root, D, entity, run_expectations=False)


def _revenues(con) -> list[tuple]:
    return con.execute("select order_id, net_revenue_eur::varchar, cost_of_goods_eur::varchar "
                       "from raw.orders order by order_id").fetchall()


@pytest.fixture()
def landing(tmp_path, con):
    _customers(tmp_path, "C1")
    _load(con, tmp_path, "customers")
    return tmp_path


# --- the number format of each decimal column ----------------------------------------------

def test_a_semicolon_file_with_decimal_points_loads_fully(landing, con):
    """'8000.00' and '1234.56' read only with a decimal point, so net_revenue_eur is in points;
    cost_of_goods_eur holds only '1.500' and '12.345', which read both ways, and takes the
    format of the file's other decimal column: 1.5 and 12.345, not 1500 and 12345."""
    _semicolon_orders(landing, _order("O1", "8000.00", "1.500"),
                      _order("O2", "1234.56", "12.345"), _order("O3", "12.345"))
    result = _load(con, landing)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 3, 0)
    assert result.dialect == "mixed (delimiter ';', decimal '.', cp1252)"
    assert _revenues(con) == [("O1", "8000.0000", "1.5000"), ("O2", "1234.5600", "12.3450"),
                              ("O3", "12.3450", None)]
    assert con.execute("select distinct product_group from raw.orders").fetchall() == [
        ("Gerät",)]


def test_a_column_that_nothing_in_the_file_decides_refuses_the_file(landing, con):
    _semicolon_orders(landing, _order("O1", "1.500"), _order("O2", "12.345"))
    with pytest.raises(FileRefused) as refused:
        _load(con, landing)
    assert str(refused.value) == (
        f"{ORDERS}: column net_revenue_eur: '1.500' (line 2) reads as 1.5 with a decimal "
        "point or as 1500 with a decimal comma, and no value in the file decides which; state "
        "the format with CVM_NUMBER_FORMAT_ORDERS=point or =comma")
    assert con.execute("select count(*) from raw.orders").fetchone() == (0,)
    assert con.execute(
        "select count(*) from audit.load_log where entity = 'orders'").fetchone() == (0,)


def test_a_comma_delimited_file_is_not_taken_as_deciding_either(landing, con):
    write_file(landing, D, "orders", extract("orders", _order("O1", "1.500", sep=",")))
    with pytest.raises(FileRefused, match="column net_revenue_eur: '1.500' .line 2."):
        _load(con, landing)


def test_a_german_column_decides_a_column_of_the_same_file(landing, con):
    _semicolon_orders(landing, _order("O1", "1.234,56", "1.500"), _order("O2", "7,5", "2.000"))
    result = _load(con, landing)
    assert result.dialect == "german (delimiter ';', decimal ',', cp1252)"
    assert _revenues(con) == [("O1", "1234.5600", "1500.0000"), ("O2", "7.5000", "2000.0000")]


@pytest.mark.parametrize(("settings", "expected"), [
    ({"CVM_NUMBER_FORMAT_ORDERS": "comma"}, ["1500.0000", "12345.0000"]),
    ({"CVM_NUMBER_FORMAT": "point"}, ["1.5000", "12.3450"]),
    ({"CVM_NUMBER_FORMAT": "point", "CVM_NUMBER_FORMAT_ORDERS": "comma"},
     ["1500.0000", "12345.0000"]),
    ({"CVM_NUMBER_FORMAT_CUSTOMERS": "point"}, None),  # another extract's: still undecided
])
def test_a_stated_format_decides(landing, con, monkeypatch, settings, expected):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    _semicolon_orders(landing, _order("O1", "1.500"), _order("O2", "12.345"))
    if expected is None:
        with pytest.raises(FileRefused, match="no value in the file decides"):
            _load(con, landing)
        return
    _load(con, landing)
    assert [row[1] for row in _revenues(con)] == expected


def test_a_column_of_both_formats_is_refused_unless_one_is_stated(landing, con, monkeypatch):
    rows = [_order("O1", "8000.00"), _order("O2", "7,5"), _order("O3", "1000")]
    _semicolon_orders(landing, *rows)
    with pytest.raises(FileRefused) as refused:
        _load(con, landing)
    assert str(refused.value) == (
        f"{ORDERS}: column net_revenue_eur holds numbers with a decimal point ('8000.00', "
        "line 2) and with a decimal comma ('7,5', line 3); state its format with "
        "CVM_NUMBER_FORMAT_ORDERS=point or =comma (values of the other format are then "
        "rejected as invalid_number)")
    monkeypatch.setenv("CVM_NUMBER_FORMAT_ORDERS", "point")
    monkeypatch.setenv("CVM_MAX_REJECTED_SHARE", "50")
    result = _load(con, landing)
    assert result.rejected_by_reason == {"invalid_number": 1}
    assert [row[:2] for row in _revenues(con)] == [("O1", "8000.0000"), ("O3", "1000.0000")]


def test_the_formats_are_decided_without_line_numbers_and_read_again_for_a_refusal(
        landing, con, monkeypatch):
    """The decision needs only which kinds of value a column holds: that pass reads no line
    number (DuckDB numbers a file's records in one thread). The lines and values of a refusal
    come from a second pass, made only for a refused file; a file that loads is read once."""
    from orchestration.lib.ingest import dialect as dl

    passes = []
    real = dl.column_numbers
    monkeypatch.setattr(dl, "column_numbers", lambda *a, **k: passes.append(
        k.get("lines", True)) or real(*a, **k))
    _semicolon_orders(landing, _order("O1", "8000.00", "1.500"), _order("O2", "12.345"))
    assert _load(con, landing).rows_loaded == 2
    assert passes == [False]
    passes.clear()
    _semicolon_orders(landing, _order("O1", "8000.00"), _order("O2", "7,5"))
    with pytest.raises(FileRefused, match=r"decimal point \('8000.00', line 2\) and with a "
                                          r"decimal comma \('7,5', line 3\)"):
        _load(con, landing)
    assert passes == [False, True]


def test_an_unknown_setting_value_names_the_setting(landing, con, monkeypatch):
    monkeypatch.setenv("CVM_NUMBER_FORMAT_ORDERS", "german")
    _semicolon_orders(landing, _order("O1", "1,5"))
    with pytest.raises(SettingError, match="CVM_NUMBER_FORMAT_ORDERS='german' is no number"):
        _load(con, landing)


# --- the share of rejected rows ------------------------------------------------------------

def _orders(root, bad: int, unknown: int = 0, rows: int = 100) -> None:
    """`rows` order lines: the first `bad` with revenue 'x' (invalid_number), the next
    `unknown` of customer C9 (in no snapshot: held, not lost)."""
    lines = [_order(f"O{i}", "x" if i < bad else "10.00", sep=",",
                    customer="C9" if bad <= i < bad + unknown else "C1") for i in range(rows)]
    write_file(root, D, "orders", extract("orders", *lines))


def test_a_file_with_more_rejected_rows_than_the_setting_allows_is_refused(landing, con):
    _orders(landing, bad=30)
    with pytest.raises(FileRefused) as refused:
        _load(con, landing)
    assert str(refused.value) == (
        f"{ORDERS}: 30 of 100 rows rejected (30 %), more than the 20 % that "
        "CVM_MAX_REJECTED_SHARE allows; most of them invalid_number (30), the first in line 2: "
        "net_revenue_eur: 'x' is not a number")
    for table in ("raw.orders", "audit.rejected_rows", "audit.load_log where entity = 'orders'"):
        assert con.execute(f"select count(*) from {table}").fetchone() == (0,)


def test_the_share_allowed_is_a_setting_and_held_rows_do_not_count(landing, con, monkeypatch):
    _orders(landing, bad=20, unknown=50)  # 20 % rejected: not more than 20 %
    result = _load(con, landing)
    assert result.rejected_by_reason == {"invalid_number": 20, "unknown_customer": 50}
    _orders(landing, bad=30)
    monkeypatch.setenv("CVM_MAX_REJECTED_SHARE", "30")
    assert _load(con, landing).rows_rejected == 30
    _orders(landing, bad=1)
    monkeypatch.setenv("CVM_MAX_REJECTED_SHARE", "0")
    with pytest.raises(FileRefused, match="1 of 100 rows rejected .1 %., more than the 0 %"):
        _load(con, landing)


def test_a_file_of_fewer_than_100_rows_is_not_refused_by_its_share(landing, con):
    _orders(landing, bad=99, rows=99)
    assert _load(con, landing).rows_rejected == 99


# --- a file that does not end with a line break --------------------------------------------

CUT = ("A1,C1,HOTLINE,2026-04-01,30,,E1,Sales,phone,,Hotline,done,2026-04-06")


def _activities(root, text: str) -> None:
    write_file(root, D, "service_activities", header("service_activities") + "\n" + text)


def test_a_file_cut_in_its_last_field_is_refused_by_default(landing, con):
    """The message shows the file's last 40 bytes."""
    _activities(landing, CUT)
    with pytest.raises(FileRefused) as refused:
        _load(con, landing, "service_activities")
    assert str(refused.value) == (
        f"{D}/service_activities.csv: the file does not end with a line break, so its last "
        "record may be cut short (it ends '…,E1,Sales,phone,,Hotline,done,2026-04-06'); "
        "refused by CVM_MISSING_FINAL_LINE_BREAK=refuse (set it to warn to load such a file)")
    assert con.execute("select count(*) from raw.service_activities").fetchone() == (0,)


def test_with_warn_it_loads_and_the_load_log_says_so(landing, con, monkeypatch):
    monkeypatch.setenv("CVM_MISSING_FINAL_LINE_BREAK", "warn")
    _activities(landing, CUT)
    result = _load(con, landing, "service_activities")
    assert (result.rows_loaded, result.ends_with_line_break) == (1, False)
    assert con.execute(
        "select source_file, ends_with_line_break from audit.load_log order by all"
    ).fetchall() == [(f"{D}/customers.csv", True), (f"{D}/service_activities.csv", False)]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_every_line_break_ends_a_file(landing, con, end):
    _activities(landing, CUT + " 10:00:00" + end)
    assert _load(con, landing, "service_activities").ends_with_line_break


# --- the load summary -----------------------------------------------------------------------

def test_the_summary_counts_loaded_files_only_and_names_cut_and_copied_files(
        reports_warehouse, tmp_path):
    """The reports warehouse's 2026-11-22 delivery (tests/reports_fixtures.py): customers 6 rows,
    orders 4 read (1 waiting for its customer), service_activities 5. Here its customers file
    was skipped as identical to 2026-03-31's, its activities file has no final line break."""
    warehouse = shutil.copy(reports_warehouse, tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("update audit.load_log set skipped_as_identical = true, rows_read = 0, "
                "rows_loaded = 0, rows_rejected = 0, identical_to = '2026-03-31/customers.csv' "
                "where source_file = '2026-11-22/customers.csv'")
    con.execute("update audit.load_log set ends_with_line_break = false "
                "where source_file = '2026-11-22/service_activities.csv'")
    con.close()
    files = [{"source_file": f"2026-11-22/{name}.csv", "skipped_unchanged": False}
             for name in ("customers", "orders", "service_activities")]
    lines: list[str] = []
    print_summary(warehouse, ["2026-11-22"], echo=lines.append, files=files)
    assert ("  files loaded in this run: 2 (2026-11-22/orders.csv, "
            "2026-11-22/service_activities.csv)") in lines
    assert ("  files identical to an earlier file, skipped: 1 (2026-11-22/customers.csv: "
            "identical to 2026-03-31/customers.csv)") in lines
    assert [line.split() for line in lines if " read " in line] == [
        ["orders", "read", "4", "loaded", "3", "rejected", "1"],
        ["service_activities", "read", "5", "loaded", "5", "rejected", "0"]]
    assert ("    files that do not end with a line break (their last record may be cut short; "
            "check it): 1 (2026-11-22/service_activities.csv)") in lines


def test_the_summary_leaves_files_skipped_as_unchanged_out_of_its_totals(reports_warehouse):
    """2026-03-31: orders 5 read, 1 rejected invalid_number (20 %: named), customers skipped
    as unchanged (6 rows: not counted), activities 7 read (1 waiting, resolved since)."""
    files = [{"source_file": "2026-03-31/customers.csv", "skipped_unchanged": True},
             {"source_file": "2026-03-31/orders.csv", "skipped_unchanged": False},
             {"source_file": "2026-03-31/service_activities.csv", "skipped_unchanged": False}]
    lines: list[str] = []
    print_summary(reports_warehouse, ["2026-03-31"], echo=lines.append, files=files)
    assert [line.split()[:3] for line in lines if " read " in line] == [
        ["orders", "read", "5"], ["service_activities", "read", "7"]]
    assert ("    files with more than 5 % of their rows rejected: 1 "
            "(2026-03-31/orders.csv: 1 of 5)") in lines
