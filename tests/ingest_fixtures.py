"""Helpers for the ingest tests: hand-made landing files, written by column name.

The header comes from the extract's spec; a record names the fields it fills (as text, exactly
as it stands in the file: quotes, separators and all), the others stay empty.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.lib.ingest.spec import SPECS


def header(entity: str, delimiter: str = ",") -> str:
    """The extract's header line: its columns in the spec's order."""
    return delimiter.join(SPECS[entity].column_names)


def record(entity: str, delimiter: str = ",", **fields: str) -> str:
    """One record of the extract, in the header's column order."""
    columns = SPECS[entity].column_names
    unknown = set(fields) - set(columns)
    assert not unknown, f"not a column of {entity}: {sorted(unknown)}"
    return delimiter.join(fields.get(column, "") for column in columns)


def csv_text(first_line: str, *rows: str) -> str:
    """A file's text: a header line and records, each ending in \\n."""
    return "\n".join((first_line, *rows)) + "\n"


def extract(entity: str, *rows: str) -> str:
    """A standard-dialect file of the extract: its header and `rows`."""
    return csv_text(header(entity), *rows)


def write_file(root: Path, date: str, entity: str, content: str | bytes,
               encoding: str = "utf-8") -> Path:
    """Write <root>/<date>/<entity>.csv; text is encoded with `encoding`, lines end in \\n."""
    folder = root / date
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entity}.csv"
    data = content if isinstance(content, bytes) else content.encode(encoding)
    path.write_bytes(data)
    return path


def table_checksum(con, table: str) -> tuple:
    """Row count and an order-independent checksum of a table, loaded_at/resolved_at left out."""
    columns = [
        row[0] for row in con.execute(f"describe {table}").fetchall()
        if row[0] not in ("loaded_at", "resolved_at")
    ]
    cols = ", ".join(f'"{c}"' for c in columns)
    return con.execute(
        f"select count(*), coalesce(sum(hash({cols})), 0) from {table}"
    ).fetchone()


ALL_TABLES = (
    "raw.customers", "raw.orders", "raw.service_activities", "audit.load_log",
    "audit.rejected_rows", "audit.pending_orders", "audit.pending_service_activities",
)
