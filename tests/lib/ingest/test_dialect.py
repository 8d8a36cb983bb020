"""Dialect and encoding detection, BOM handling and the German value formats."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.ingest import dialect as dl
from orchestration.lib.ingest import values
from orchestration.lib.ingest.loader import load_file
from orchestration.lib.ingest.reading import match_columns
from tests.ingest_fixtures import csv_text, extract, header, record, write_file

DATE = "2025-03-31"


def test_bom_never_in_a_column_name(tmp_path, con):
    write_file(tmp_path, DATE, "customers",
               "\ufeff" + extract("customers", record(
                   "customers", customer_id="C1", customer_name="Alpha",
                   customer_since="2020-01-01")))
    result = load_file(con, tmp_path, DATE, "customers", run_expectations=False)
    assert result.rows_loaded == 1
    assert result.extra_columns == []
    assert result.dialect.startswith("standard")
    assert con.execute("select customer_id from raw.customers").fetchall() == [("C1",)]


def test_cp1252_characters_arrive_intact(tmp_path, con):
    text = csv_text(header("customers", ";"), record(
        "customers", ";", customer_id="C1", customer_name="Müller € Straße", country_code="DE",
        customer_since="31.03.2025", annual_potential_eur="1.234,56",
        updated_at="31.03.2025 14:05:00"))
    write_file(tmp_path, DATE, "customers", text, encoding="cp1252")
    assert b"\x80" in (tmp_path / DATE / "customers.csv").read_bytes()
    result = load_file(con, tmp_path, DATE, "customers", run_expectations=False)
    assert result.dialect == "german (delimiter ';', decimal ',', cp1252)"
    row = con.execute(
        "select customer_name, annual_potential_eur, customer_since, updated_at from raw.customers"
    ).fetchone()
    assert row[0] == "Müller € Straße"
    assert str(row[1]) == "1234.5600"
    assert str(row[2]) == "2025-03-31"
    # a naive time is Europe/Berlin's: 14:05 summer time (UTC+2 since 30 March) is 12:05 UTC
    assert str(row[3]) == "2025-03-31 12:05:00"


@pytest.mark.parametrize(
    ("text", "comma", "expected"),
    [("1.234,56", True, "1234.5600"), ("1234,5", True, "1234.5000"), ("-0,5", True, "-0.5000"),
     ("1234.56", False, "1234.5600"), ("1.234,56", False, None), ("12.34", True, None),
     ("1,234.56", False, None), ("abc", True, None)],
)
def test_decimal_parsing(text, comma, expected):
    value = duckdb.sql(f"select {values.decimal_sql(repr(text), comma)}").fetchall()[0][0]
    assert (str(value) if value is not None else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("31.03.2025", "2025-03-31"), ("2025-03-31", "2025-03-31"), ("31.02.2025", None),
     ("2025-13-01", None), ("31/03/2025", None)],
)
def test_date_parsing(text, expected):
    value = duckdb.sql(f"select {values.date_sql(repr(text))}").fetchall()[0][0]
    assert (str(value) if value is not None else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("31.03.2025 14:05:00", "2025-03-31 14:05:00"), ("2025-03-31T14:05:00", "2025-03-31 14:05:00"),
     ("2025-03-31 14:05:00", "2025-03-31 14:05:00"), ("31.03.2025 25:00:00", None)],
)
def test_timestamp_parsing(text, expected):
    value = duckdb.sql(f"select {values.timestamp_sql(repr(text))}").fetchall()[0][0]
    assert (str(value) if value is not None else None) == expected


def test_delimiter_from_header():
    assert dl.detect_delimiter("a;b;c\r\n") == ";"
    assert dl.detect_delimiter("a,b,c\n") == ","
    assert dl.detect_delimiter('"x;y",b,c\n') == ","


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"a,b\n1,2\n", "utf-8"), (b"\xef\xbb\xbfa,b\n1,\xc3\xbc\n", "utf-8"),
     (b"a;b\n1;\x80\n", "cp1252"), (b"a;b\n1;\xfc\xdf\n", "cp1252")],
)
def test_encoding_detection(tmp_path, data, expected):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert dl.scan_file(path).encoding == expected


def test_undefined_cp1252_bytes_are_undecodable(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a;b\n1;\x80\x81\x8d\n")
    with pytest.raises(dl.UndecodableFile):
        dl.scan_file(path)


def test_dialect_names(tmp_path):
    german = tmp_path / "g.csv"
    german.write_bytes("a;b\n1;€\n".encode("cp1252"))
    assert dl.detect_dialect(german, "cp1252").describe() == (
        "german (delimiter ';', decimal ',', cp1252)"
    )
    standard = tmp_path / "s.csv"
    standard.write_bytes(b"a,b\n1,2\n")
    assert dl.detect_dialect(standard, "utf-8").name == "standard"


def test_match_columns_is_case_and_blank_insensitive():
    positions, extra = match_columns([" Customer_ID ", "X", "NAME"], ["customer_id", "name"])
    assert positions == {"customer_id": 0, "name": 2}
    assert extra == ["X"]
