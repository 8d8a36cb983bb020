"""A plain file is read by DuckDB as it is (reading.plain_records): the records, their lines
and field counts must be exactly those of the stream through Python's csv reader
(reading.normalise). Hand cases say which layouts are plain; a property compares both readers
on random files of well-formed and malformed quoting, ragged and blank lines, CRLF and
non-ASCII text, and reads each file in chunks of 1, 3 and 8 MiB bytes."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orchestration.lib.ingest import reading
from orchestration.lib.ingest.dialect import Dialect
from orchestration.lib.ingest.spec import MAX_RECORD_BYTES

UTF8 = Dialect(encoding="utf-8", delimiter=",")


def _lines(tmp_path, data: bytes, width: int = 3):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return reading.plain_lines(path, ",", width)


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        # header + 2 records, each 3 fields (2 delimiters): 3 lines
        (b"a,b,c\n1,2,3\n4,5,6\n", 3),
        # the last line without a line break still counts: 2 lines
        (b"a,b,c\n1,2,3", 2),
        # quoted fields with a delimiter, a doubled quote and an empty quoted field: 2 lines
        (b'a,b,c\n"x, y","say ""hi""",""\n', 2),
        # a quoted field at a line start and at its end: 2 lines
        (b'a,b,c\n"1",2,"3"\n', 2),
        # non-ASCII UTF-8 text: 2 lines
        ("a,b,c\nä,ö,ü\n".encode(), 2),
    ],
)
def test_plain_layouts_count_their_lines(tmp_path, data, lines):
    assert _lines(tmp_path, data) == lines


@pytest.mark.parametrize(
    "data",
    [
        b"a,b,c\r\n1,2,3\r\n",  # CRLF: '\r' is not plain
        b"a,b,c\n\n1,2,3\n",  # a blank line (no record in Python's reader)
        b"a,b,c\n1,2\n",  # a ragged record: 2 fields
        b"a,b,c\n1,2,3,4\n",  # a ragged record: 4 fields
        b'a,b,c\n1, "2",3\n',  # a blank before an opening quote
        b'a,b,c\n1,"2" ,3\n',  # a blank after a closing quote
        b'a,b,c\n1,x"2,3\n',  # a quote inside an unquoted field
        b'a,b,c\n1,"2"x,3\n',  # text after a closing quote
        b'a,b,c\n1,"2\n2",3\n',  # a line break inside quotes
        b'a,b,c\n1,"2,3\n',  # an unclosed quote
        b"a,b,c\n1,\x00,3\n",  # a NUL byte
    ],
)
def test_other_layouts_are_not_plain(tmp_path, data):
    assert _lines(tmp_path, data) is None


def test_a_line_longer_than_the_limit_is_not_plain(tmp_path):
    """A record of MAX_RECORD_BYTES bytes, its '\\n' included, is plain; one byte more is
    not (reading.normalise rejects it as record_too_long)."""
    head = b"a,b,c\n"
    fits = b"1,2," + b"x" * (MAX_RECORD_BYTES - 5) + b"\n"  # 4 + (limit - 5) + 1 = limit
    assert len(fits) == MAX_RECORD_BYTES
    assert _lines(tmp_path, head + fits) == 2
    assert _lines(tmp_path, head + fits[:-1] + b"x\n") is None


# --- both readers alike ---------------------------------------------------------------------

TEXT = st.text(alphabet='ab ,"äß', max_size=6)


@st.composite
def files(draw) -> bytes:
    """A header of 3 columns and up to 12 records: fields quoted well (when needed, or at
    random), or written raw (a quote or delimiter in them breaks the layout); now and then a
    ragged record, a blank line or CRLF line ends."""
    end = draw(st.sampled_from(["\n"] * 7 + ["\r\n"]))
    lines = ["c0,c1,c2"]
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 40)) == 0:
            lines.append("")
            continue
        width = draw(st.sampled_from([3] * 30 + [2, 4]))
        fields = []
        for _ in range(width):
            text = draw(TEXT)
            how = draw(st.sampled_from(["auto"] * 24 + ["quoted"] * 6 + ["raw"]))
            needs = any(char in text for char in ',"') or text != text.strip()
            if how == "quoted" or (how == "auto" and needs):
                text = '"' + text.replace('"', '""') + '"'
            fields.append(text)
        lines.append(",".join(fields))
    data = end.join(lines)
    if draw(st.booleans()):
        data += end
    return data.encode("utf-8")


def _src(con, records: reading.Records) -> list[tuple]:
    return con.execute(
        f"select * from ({reading.records_sql(records)}) order by line_number"
    ).fetchall()


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(files())
def test_a_plain_file_gives_the_records_the_csv_reader_gives(tmp_path, data):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    plain = reading.plain_records(path, UTF8)
    for chunk in (1, 3):  # chunk borders anywhere: the same verdict
        original = reading.PLAIN_CHUNK
        reading.PLAIN_CHUNK = chunk
        try:
            assert (reading.plain_records(path, UTF8) is None) == (plain is None)
        finally:
            reading.PLAIN_CHUNK = original
    event("plain" if plain else "not plain")
    if plain is None:
        return
    streamed = reading.normalise(path, UTF8, tmp_path / "records.csv")
    assert plain.header == streamed.header
    assert plain.rows == streamed.rows
    con = duckdb.connect()
    try:
        assert _src(con, plain) == _src(con, streamed)
    finally:
        con.close()
