"""No record vanishes: over-long records, unclosed quotes, and the loader's count against
DuckDB's. Expected values are worked out by hand from docs/reference.md (sections 2 and 5):
every physical record is loaded, rejected with a reason and its line, or the file is refused.
"""

from __future__ import annotations

import tracemalloc

import pytest

from orchestration.lib.ingest import reading
from orchestration.lib.ingest.loader import FileRefused, load_file
from orchestration.lib.ingest.spec import MAX_RECORD_BYTES
from tests.ingest_fixtures import extract, header, record, write_file

DATE = "2025-03-31"
LIMIT = 1_048_576  # MAX_RECORD_BYTES: 1 MiB


def _customer(cid: str, name: str = "Alpha") -> str:
    return record("customers", customer_id=cid, customer_name=name,
                  customer_since="2020-01-01")


def _load(con, root, entity="customers"):
    result = load_file(con, root, DATE, entity, run_expectations=False)
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    return result


def _rejections(con):
    return con.execute(
        "select line_number, reason, detail from audit.rejected_rows order by line_number"
    ).fetchall()


def _loaded_ids(con):
    return [r[0] for r in con.execute(
        "select customer_id from raw.customers order by line_number").fetchall()]


def test_the_limit_is_one_mebibyte():
    assert MAX_RECORD_BYTES == LIMIT


def test_a_50_mb_record_without_newline_is_rejected_not_lost(tmp_path, con, monkeypatch):
    """Line 1 header, line 2 C1, line 3 a record of 50 * 2**20 = 52,428,800 bytes (no line
    break at the end of the file, which the setting lets load): read 2, loaded 1 (C1),
    rejected 1 (line 3)."""
    monkeypatch.setenv("CVM_MISSING_FINAL_LINE_BREAK", "warn")
    folder = tmp_path / DATE
    folder.mkdir()
    with open(folder / "customers.csv", "wb") as handle:
        handle.write((header("customers") + "\n" + _customer("C1") + "\n").encode())
        handle.write(b"C2," + b"x" * ((1 << 20) - 3))  # 1 MiB, then 49 MiB more
        for _ in range(49):
            handle.write(b"x" * (1 << 20))
    tracemalloc.start()
    try:
        result = _load(con, tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert _loaded_ids(con) == ["C1"]
    [(line, reason, detail)] = _rejections(con)
    assert (line, reason) == (3, "record_too_long")
    assert "52,428,800 bytes" in detail and "1,048,576" in detail
    assert detail.endswith("starts '" + "C2," + "x" * 57 + "…'")  # its first 60 characters
    # the record is never held whole: Python's peak (the sha256 scan's 8 MiB chunks, lines
    # read 1 MiB at a time) stays below half of the record's 50 MiB
    assert peak < 25 << 20


def test_a_2_2_mb_field_is_rejected_and_the_rest_of_the_file_loads(tmp_path, con):
    """Line 2: C1; line 3: C2 whose name is 2.2 million bytes (over 1 MiB); line 4: C3.
    read 3, loaded 2, rejected 1 (line 3)."""
    content = extract("customers", _customer("C1"), _customer("C2", "B" * 2_200_000),
                      _customer("C3"))
    write_file(tmp_path, DATE, "customers", content)
    result = _load(con, tmp_path)
    assert (result.rows_read, result.rows_loaded, result.rejected_by_reason) == (
        3, 2, {"record_too_long": 1})
    assert _loaded_ids(con) == ["C1", "C3"]
    assert [r[:2] for r in _rejections(con)] == [(3, "record_too_long")]


def _record_of(length: int, cid: str) -> str:
    """A customers record (without its line break) of exactly `length` bytes."""
    bare = _customer(cid, "")
    name_at = bare.index(",") + 1
    return bare[:name_at] + "n" * (length - len(bare)) + bare[name_at:]


def test_a_record_of_exactly_the_limit_loads_one_byte_more_is_rejected(tmp_path, con):
    """A record's length counts its line break: line 2 is LIMIT - 1 bytes + '\\n' = LIMIT
    (loads, its name intact); line 3 is LIMIT bytes + '\\n' = LIMIT + 1 (rejected)."""
    at_limit, over = _record_of(LIMIT - 1, "C1"), _record_of(LIMIT, "C2")
    assert len(at_limit) + 1 == LIMIT and len(over) + 1 == LIMIT + 1
    write_file(tmp_path, DATE, "customers", extract("customers", at_limit, over, _customer("C3")))
    result = _load(con, tmp_path)
    assert (result.rows_loaded, result.rejected_by_reason) == (2, {"record_too_long": 1})
    assert [r[:2] for r in _rejections(con)] == [(3, "record_too_long")]
    name = con.execute("select customer_name from raw.customers where customer_id = 'C1'")
    assert name.fetchone()[0] == "n" * (LIMIT - len(_customer("C1", "")) - 1)


def test_a_record_within_the_limit_that_grows_in_utf_8_loads(tmp_path, con):
    """cp1252: 900,000 euro signs are 900,000 bytes (under 1 MiB), but 2.7 MB in UTF-8, and
    doubled quotes grow again: the temp file's long line still reads."""
    name = "€" * 900_000
    quoted = '"' + '""' * 40_000 + '"'  # a field of 40,000 quotes: 80,002 bytes
    text = "\n".join([
        header("customers", ";"),
        record("customers", ";", customer_id="C1", customer_name=name,
               customer_since="31.03.2020"),
        record("customers", ";", customer_id="C2", customer_name=quoted,
               customer_since="31.03.2020"),
    ]) + "\n"
    write_file(tmp_path, DATE, "customers", text, encoding="cp1252")
    result = _load(con, tmp_path)
    assert (result.rows_read, result.rows_loaded) == (2, 2)
    names = con.execute("select customer_name from raw.customers order by line_number")
    assert [r[0] for r in names.fetchall()] == [name, '"' * 40_000]


def test_an_over_long_record_inside_quotes_ends_where_its_quote_closes(tmp_path, con):
    """Line 3 opens a quoted name that runs over 1.1 MB of lines ('y' * 99 + '\\n', 11,000
    of them: lines 4 to 11,003) and closes on line 11,004; line 11,005 is C3. The record of
    lines 3-11,004 is rejected at line 3; C1 and C3 load."""
    long_name = '"start\n' + "y" * 99 + "\n"
    body = long_name + ("y" * 99 + "\n") * 10_999 + 'end"'
    text = extract("customers", _customer("C1"), _customer("C2", body), _customer("C3"))
    write_file(tmp_path, DATE, "customers", text)
    result = _load(con, tmp_path)
    assert (result.rows_read, result.rows_loaded) == (3, 2)
    assert _loaded_ids(con) == ["C1", "C3"]
    rows = con.execute("select customer_id, line_number from raw.customers order by 2")
    assert rows.fetchall() == [("C1", 2), ("C3", 11_005)]
    [(line, reason, detail)] = _rejections(con)
    assert (line, reason) == (3, "record_too_long")
    assert "lines 3 to 11004" in detail


# --- unclosed quotes ------------------------------------------------------------------------

def test_an_unclosed_quote_refuses_the_file_naming_its_line(tmp_path, con):
    """A 6-line file (header + 5 records) whose line 3 opens a quote that never closes:
    before, 'read 2' and lines 4-6 hidden in one rejected row. Now the file is refused."""
    text = extract("customers", _customer("C1"), _customer("C2", '"Beta, open'),
                   _customer("C3"), _customer("C4"), _customer("C5"))
    assert text.count("\n") == 6
    write_file(tmp_path, DATE, "customers", text)
    with pytest.raises(FileRefused) as refused:
        _load(con, tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{DATE}/customers.csv: ")
    assert "unclosed quote" in message and "line 3" in message
    # nothing of the refused file is written
    assert con.execute("select count(*) from audit.load_log").fetchone() == (0,)
    assert con.execute("select count(*) from raw.customers").fetchone() == (0,)


def test_the_unclosed_quote_is_the_last_one_opened(tmp_path, con):
    """Line 3 starts a record whose quoted name spans lines 3-4 and closes; on line 4 its
    status field opens a quote that never closes: the error names line 4, not line 3."""
    text = extract("customers", _customer("C1"),
                   record("customers", customer_id="C2", customer_name='"two\nlines"',
                          customer_since="2020-01-01", status='"active'),
                   _customer("C3"))
    write_file(tmp_path, DATE, "customers", text)
    with pytest.raises(FileRefused, match=r"unclosed quote.* line 4\b"):
        _load(con, tmp_path)


def test_an_unclosed_quote_before_more_than_a_mebibyte_still_refuses(tmp_path, con):
    """The open quote of line 3 swallows 1.2 MB of records: the record grows past the limit,
    but end of file inside the quote still refuses the file, naming line 3."""
    rest = [_customer(f"C{i:06d}", "x" * 100) for i in range(12_000)]
    text = extract("customers", _customer("C1"), _customer("C2", '"open'), *rest)
    write_file(tmp_path, DATE, "customers", text)
    with pytest.raises(FileRefused, match=r"unclosed quote.* line 3\b"):
        _load(con, tmp_path)


# --- the loader's count against DuckDB's ----------------------------------------------------

def test_a_record_duckdb_does_not_return_fails_the_load(tmp_path, con, monkeypatch):
    """The loader wrote 3 records; DuckDB is made to return 2 of them. The load must fail,
    naming the file and both counts, and write nothing."""
    write_file(tmp_path, DATE, "customers",
               extract("customers", _customer("C1"), _customer("C2"), _customer("C3")))
    original = reading.records_sql
    monkeypatch.setattr(
        reading, "records_sql",
        lambda records: f"select * from ({original(records)}) where line_number <> 3",
    )
    with pytest.raises(FileRefused) as refused:
        _load(con, tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{DATE}/customers.csv: ")
    assert "3 records" in message and "2 rows" in message
    assert con.execute("select count(*) from raw.customers").fetchone() == (0,)
    assert con.execute("select count(*) from audit.load_log").fetchone() == (0,)
