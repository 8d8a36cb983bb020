"""SQL helpers every layer uses: quoting, LIKE patterns, reading a DuckDB file read-only, and
the rows of a query as records.

Identifiers and literals that come from data or paths are always quoted with these; nothing
else in the package builds quotes of its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")


def quote_ident(name: str) -> str:
    """A SQL identifier in double quotes, its own double quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'


def sql_literal(value: str | os.PathLike) -> str:
    """A SQL string literal in single quotes, its own single quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def like_pattern(text: str, escape: str = "\\") -> str:
    """A LIKE pattern that finds `text` anywhere, its own `%` and `_` taken literally (use
    with `ESCAPE '\\'`)."""
    escaped = (text.replace(escape, escape * 2).replace("%", escape + "%")
               .replace("_", escape + "_"))
    return f"%{escaped}%"


@contextlib.contextmanager
def read_only(path: str | os.PathLike) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the DuckDB file `path`, closed on exit."""
    con = duckdb.connect(str(Path(path)), read_only=True)
    try:
        yield con
    finally:
        con.close()


def has_table(con, schema: str, table: str) -> bool:
    """Whether `schema.table` exists (a table or a view) in the connection's database."""
    return con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = ? and table_name = ?", [schema, table]).fetchone()[0] > 0


def records(con, record: Callable[..., T], sql: str,
            params: Sequence[Any] | None = None) -> list[T]:
    """The rows of the query `sql` (with `params`), each as `record(*row)`: a named tuple or a
    dataclass whose fields are the query's columns in their order."""
    return [record(*row) for row in con.execute(sql, params).fetchall()]
