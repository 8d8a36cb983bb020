"""Encoding per row, not per file: the rule of docs/reference.md (section 1, file formats),
worked out by hand. A file is UTF-8 when it has a byte-order mark, or when its bytes that do
not decode as UTF-8 ("stray bytes") are no more than its non-ASCII characters that do; a row
holding a stray byte is rejected as invalid_encoding."""

from __future__ import annotations

import json

import pytest

from orchestration.lib.ingest import dialect as dl
from orchestration.lib.ingest.loader import FileRefused, load_file
from tests.ingest_fixtures import header, record, write_file

DATE = "2025-03-31"
BOM = b"\xef\xbb\xbf"


def _row(cid: str, name: str) -> bytes:
    return (record("customers", customer_id=cid, customer_name="NAME",
                   customer_since="2020-01-01") + "\n").encode().replace(b"NAME", name.encode())


def _file(*rows: bytes, bom: bool = False) -> bytes:
    return (BOM if bom else b"") + (header("customers") + "\n").encode() + b"".join(rows)


def _stray(cid: str, before: str, byte: bytes, after: str) -> bytes:
    """A row whose name holds one raw byte that is no UTF-8 (e.g. a cp1252 'ä', 0xE4)."""
    return _row(cid, "NAME").replace(b"NAME", before.encode() + byte + after.encode())


def _load(con, root):
    result = load_file(con, root, DATE, "customers", run_expectations=False)
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    return result


@pytest.mark.parametrize(
    ("data", "characters", "stray", "expected"),
    [
        (b"a,b\n1,2\n", 0, 0, "utf-8"),  # ASCII
        (b"a,b\n\xc3\xbc,\xe4\n", 1, 1, "utf-8"),  # one 'ü' (C3 BC), one stray 0xE4: 1 <= 1
        (b"a,b\n\xc3\xbc,\xe4\xf6\n", 1, 2, "cp1252"),  # two stray bytes outnumber one 'ü'
        (b"a;b\n1;\xfc\xdf\n", 0, 2, "cp1252"),  # cp1252 'üß': both stray in UTF-8
        (BOM + b"a,b\n\xe4,\xf6\n", 1, 2, "utf-8"),  # the BOM decides (it counts as U+FEFF)
    ],
)
def test_the_encoding_rule(tmp_path, data, characters, stray, expected):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert dl.scan_file(path).encoding == expected
    count = dl.Utf8Count(bom=data.startswith(BOM), characters=characters, stray_bytes=stray)
    assert dl.choose_encoding(count) == expected


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 5, 64])
def test_the_count_does_not_depend_on_where_chunks_end(tmp_path, monkeypatch, chunk):
    """The scan reads the file in chunks and decodes a chunk strictly, counting stray bytes
    only in a chunk that fails; characters cut by a chunk's end must count once, in either
    decoder. The bytes: 'ü' (C3 BC), a stray 0xE4, '€' (E2 82 AC), a stray 0xFF, 'é' (C3 A9),
    then a cut-off C3 at the very end: 3 characters, 3 stray bytes, so 3 <= 3 is UTF-8 with
    3 stray bytes."""
    monkeypatch.setattr(dl, "SCAN_BYTES", chunk)
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n\xc3\xbc\xe4,\xe2\x82\xac\xff\n\xc3\xa9\n\xc3")
    scan = dl.scan_file(path)
    assert (scan.encoding, scan.stray_bytes) == ("utf-8", 3)


def test_a_stray_byte_rejects_its_row_not_the_file(tmp_path, con):
    """Line 2: 'Müller' in UTF-8; line 3: 'M' 0xE4 'ller' (a cp1252 'ä'). Before, the whole
    file was read as cp1252 and 'MÃ¼ller' loaded. One stray byte, one UTF-8 'ü': UTF-8.
    Line 2 loads as 'Müller'; line 3 is rejected, its raw record showing U+FFFD."""
    write_file(tmp_path, DATE, "customers",
               _file(_row("C1", "Müller"), _stray("C2", "M", b"\xe4", "ller")))
    result = _load(con, tmp_path)
    assert result.dialect == "standard (delimiter ',', decimal '.', utf-8)"
    assert (result.rows_read, result.rows_loaded, result.rejected_by_reason) == (
        2, 1, {"invalid_encoding": 1})
    assert con.execute("select customer_name from raw.customers").fetchall() == [("Müller",)]
    line, reason, detail, raw = con.execute(
        "select line_number, reason, detail, raw_record from audit.rejected_rows").fetchone()
    assert (line, reason) == (3, "invalid_encoding")
    assert detail == "bytes 0xE4 do not decode as utf-8"
    assert json.loads(raw)["customer_name"] == "M\ufffdller"


def test_a_bom_never_reaches_a_column_name_even_with_stray_bytes(tmp_path, con):
    """BOM, then two stray bytes and no other non-ASCII: the BOM makes it UTF-8. Before, the
    file was cp1252 and the BOM became 'ï»¿' in front of customer_id, a column then missing
    (customer_id is required: the file was refused). Now C1 loads with its customer_id."""
    write_file(tmp_path, DATE, "customers",
               _file(_row("C1", "Alpha"), _stray("C2", "B", b"\xe4\xf6", "ta"), bom=True))
    result = _load(con, tmp_path)
    assert result.extra_columns == []
    assert (result.rows_loaded, result.rejected_by_reason) == (1, {"invalid_encoding": 1})
    assert con.execute("select customer_id from raw.customers").fetchall() == [("C1",)]
    detail = con.execute("select detail from audit.rejected_rows").fetchone()[0]
    assert detail == "bytes 0xE4 0xF6 do not decode as utf-8"


def test_a_stray_byte_in_a_quoted_line_break_rejects_the_record_at_its_start(tmp_path, con):
    """Lines 3-4 are one record (a quoted line break in the name), the stray byte on line 4:
    the record is rejected at line 3; the UTF-8 'ö' of line 5 ('Köln' region) loads."""
    text = _file(
        _row("C1", "Alpha"),
        b'C2,"two\nlines \xe4",,,,,2020-01-01,,,\n',
        (record("customers", customer_id="C3", customer_name="Gamma", region="Köln",
                customer_since="2020-01-01") + "\n").encode(),
    )
    write_file(tmp_path, DATE, "customers", text)
    result = _load(con, tmp_path)
    assert (result.rows_loaded, result.rejected_by_reason) == (2, {"invalid_encoding": 1})
    assert con.execute("select line_number, reason from audit.rejected_rows").fetchall() == [
        (3, "invalid_encoding")]
    assert con.execute("select line_number, region from raw.customers order by 1").fetchall() == [
        (2, None), (5, "Köln")]


def test_a_header_that_does_not_decode_refuses_the_file(tmp_path, con):
    """Without a readable header no column can be matched: the file is refused at line 1."""
    data = _file(_row("C1", "Müller"), _row("C2", "Jörg")).replace(b"region", b"r\xe4gion", 1)
    write_file(tmp_path, DATE, "customers", data)
    with pytest.raises(FileRefused, match=r"^2025-03-31/customers.csv: the header \(line 1\)"):
        _load(con, tmp_path)


def test_neither_utf_8_nor_cp1252_names_the_byte_and_its_line(tmp_path, con):
    """cp1252 umlauts (stray in UTF-8, so cp1252) and on line 3 a byte 0x81, which cp1252
    leaves undefined: the file is refused, naming the byte and its line."""
    data = (header("customers", ";") + "\n").encode() + "C1;Müller;;;;;31.03.2020;;;\n".encode(
        "cp1252") + b"C2;Gr\x81n;;;;;31.03.2020;;;\n"
    write_file(tmp_path, DATE, "customers", data)
    with pytest.raises(FileRefused, match=r"byte 0x81 in line 3"):
        _load(con, tmp_path)
