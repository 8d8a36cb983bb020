"""Reading a landing file: every record with the physical line where it starts.

DuckDB has no cp1252, and it neither reports physical line numbers nor tolerates ragged
records next to quoted newlines. So the file is streamed once through Python's C csv reader
into a temp UTF-8 file with a fixed column count plus two columns: the physical line where the
record starts (quoted fields may span lines; the header is line 1) and the number of fields
the record really had. Blank lines are skipped. Memory stays bounded: one record at a time in
Python. DuckDB then reads that file as the `_src` view of the load (`records_sql`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.ingest.dialect import Dialect

BOM = "\ufeff"

# Python's csv module refuses fields above 128 KiB by default; descriptions may be long.
csv.field_size_limit(1 << 30)


@dataclass(frozen=True)
class Records:
    """The temp UTF-8 file DuckDB reads: header-count columns, then line number, field count."""

    path: Path
    header: list[str]  # as in the file, BOM removed
    rows: int


def normalise(path: Path, dialect: Dialect, out_path: Path) -> Records:
    """Stream `path` into a comma-delimited UTF-8 file with a fixed column count.

    Every output record holds the header's field count of values (short records padded with
    empty values, surplus values dropped), then the 1-based physical start line of the
    record, then the number of fields the record really had.
    """
    rows = 0
    with (
        open(path, encoding=dialect.text_encoding, newline="") as source,
        open(out_path, "w", encoding="utf-8", newline="") as target,
    ):
        reader = csv.reader(source, delimiter=dialect.delimiter, quotechar='"')
        header = next(reader, [])
        if header and header[0].startswith(BOM):
            header[0] = header[0][len(BOM) :]
        width = len(header)
        writer = csv.writer(target, lineterminator="\n")
        start = reader.line_num + 1
        for record in reader:
            if record:
                rows += 1
                count = len(record)
                if count != width:
                    record = (record + [""] * width)[:width]
                record.append(start)
                record.append(count)
                writer.writerow(record)
            start = reader.line_num + 1
    return Records(path=out_path, header=header, rows=rows)


def match_columns(header: list[str], wanted: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map wanted column names to header positions (case-insensitive, trimmed).

    Returns (name -> position, extra header names in file order). The first occurrence of a
    repeated name wins; later repeats count as extra.
    """
    positions: dict[str, int] = {}
    extra: list[str] = []
    wanted_set = set(wanted)
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        if name in wanted_set and name not in positions:
            positions[name] = index
        else:
            extra.append(raw.strip())
    return positions, extra


def records_sql(records: Records) -> str:
    """The SELECT of the `_src` view: c0.. (VARCHAR), line_number, n_fields."""
    width = len(records.header)
    if records.rows == 0:
        cols = ", ".join(f"NULL::VARCHAR as c{i}" for i in range(width))
        return f"select {cols}, NULL::BIGINT as line_number, NULL::INTEGER as n_fields limit 0"
    types = {f"c{i}": "VARCHAR" for i in range(width)}
    types |= {"line_number": "BIGINT", "n_fields": "INTEGER"}
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    path = "'" + str(records.path).replace("'", "''") + "'"
    return (
        f"select * from read_csv({path}, header = false, delim = ',', quote = '\"', "
        f"escape = '\"', columns = {columns}, auto_detect = false)"
    )
