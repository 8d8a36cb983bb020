"""Writing the extracts: dialect-aware SQL formatting and a chunked CSV file writer.

Chunks are formatted and written by DuckDB (in C++, in parallel) into a part file that is
appended to the extract; the german dialect is transcoded to cp1252 on the way."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.sample.reference import EPOCH

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Dialect:
    name: str
    delimiter: str
    decimal: str
    thousands: str
    date_format: str
    encoding: str


DIALECTS = {
    "utf8": Dialect("utf8", ",", ".", "", "%Y-%m-%d", "utf-8"),
    "german": Dialect("german", ";", ",", ".", "%d.%m.%Y", "cp1252"),
}


def get_dialect(name: str) -> Dialect:
    if name not in DIALECTS:
        raise ValueError(f"unknown dialect {name!r}; use one of {sorted(DIALECTS)}")
    return DIALECTS[name]


# ---- SQL expressions over integer columns (days, seconds, cents) --------------------------

def sql_date(col: str, dialect: Dialect) -> str:
    return f"strftime(DATE '1970-01-01' + {col}::INTEGER, '{dialect.date_format}')"


def sql_timestamp(col: str, dialect: Dialect) -> str:
    """Seconds since the epoch; negative means empty."""
    fmt = dialect.date_format + " %H:%M:%S"
    return (f"CASE WHEN {col} < 0 THEN NULL ELSE "
            f"strftime(TIMESTAMP '1970-01-01' + to_seconds({col}), '{fmt}') END")


def _sql_grouped(expr: str, dialect: Dialect) -> str:
    if dialect.thousands:
        return f"format('{{:t{dialect.thousands}}}', {expr})"
    return f"({expr})::VARCHAR"


def sql_integer(col: str, dialect: Dialect) -> str:
    """A whole number written as a decimal value (thousands separated in german)."""
    return _sql_grouped(col, dialect)


def sql_money(col: str, dialect: Dialect, nullable: bool = False) -> str:
    """Cents as a decimal with two places; with nullable, a value below -10**15 is empty."""
    sign = f"CASE WHEN {col} < 0 THEN '-' ELSE '' END"
    whole = _sql_grouped(f"abs({col}) // 100", dialect)
    frac = f"lpad((abs({col}) % 100)::VARCHAR, 2, '0')"
    expr = f"{sign} || {whole} || '{dialect.decimal}' || {frac}"
    if nullable:
        return f"CASE WHEN {col} < -1000000000000000 THEN NULL ELSE {expr} END"
    return expr


# ---- the same formatting in Python, for the handful of hand-made rows ----------------------

def py_date(day: int, dialect: Dialect) -> str:
    return (EPOCH + timedelta(days=int(day))).strftime(dialect.date_format)


def py_timestamp(seconds: int, dialect: Dialect) -> str:
    moment = datetime(1970, 1, 1) + timedelta(seconds=int(seconds))
    return moment.strftime(dialect.date_format + " %H:%M:%S")


def py_integer(value: int, dialect: Dialect) -> str:
    text = f"{abs(int(value)):,}".replace(",", dialect.thousands)
    return ("-" if value < 0 else "") + text


def py_money(cents: int, dialect: Dialect) -> str:
    cents = int(cents)
    whole = py_integer(abs(cents) // 100, dialect)
    return ("-" if cents < 0 else "") + f"{whole}{dialect.decimal}{abs(cents) % 100:02d}"


def py_day(value: date) -> int:
    return (value - EPOCH).days


# ---- the file writer ----------------------------------------------------------------------

class CsvFile:
    """One extract file, written as header + DuckDB-formatted chunks + hand-made rows."""

    def __init__(self, path: Path, columns: list[str], dialect: Dialect, bom: bool = False):
        self.path = path
        self.columns = columns
        self.dialect = dialect
        self.rows = 0
        self._part = path.with_name(f".{path.name}.part")
        self._handle = open(path, "wb")  # noqa: SIM115 - closed in close()
        if bom:
            self._handle.write(BOM)
        self.write_rows([columns], count=False)

    def write_chunk(self, con: duckdb.DuckDBPyConnection, frame: pd.DataFrame,
                    expressions: dict[str, str], params: dict) -> None:
        """Format `frame` (registered as `chunk`) with the SQL `expressions` of the file's
        columns (by name; a column without one stays empty) and append it."""
        if frame.empty:
            return
        select = "SELECT " + ", ".join(
            f'{expressions.get(column, "NULL")} AS "{column}"' for column in self.columns
        ) + " FROM chunk"
        con.register("chunk", frame)
        try:
            con.execute(
                f"COPY ({select}) TO '{self._part}' "
                f"(FORMAT csv, HEADER false, DELIMITER '{self.dialect.delimiter}', QUOTE '\"')",
                params,
            )
        finally:
            con.unregister("chunk")
        self._append_part()
        self.rows += len(frame)

    def write_rows(self, rows: list[list[str]], count: bool = True) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.dialect.delimiter, lineterminator="\n")
        writer.writerows(rows)
        # a surrogate escape ('\udce4') writes its raw byte: a fault's byte that is no UTF-8
        self._handle.write(buffer.getvalue().encode(self.dialect.encoding, "surrogateescape"))
        if count:
            self.rows += len(rows)

    def _append_part(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")()
        with open(self._part, "rb") as part:
            while block := part.read(1 << 24):
                if self.dialect.encoding == "utf-8":
                    self._handle.write(block)
                else:
                    self._handle.write(decoder.decode(block).encode(self.dialect.encoding))
        self._part.unlink()

    def close(self) -> int:
        self._handle.close()
        return self.rows
