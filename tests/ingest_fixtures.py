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


def add_expectation(monkeypatch, expectation: dict) -> None:
    """Every suite a load reads (`load_suite_json`) gets `expectation` besides its stored ones,
    for the rest of the test."""
    from orchestration.lib.ingest import expectations as gxe

    stored = gxe.load_suite_json

    def with_it(entity, extract_date, *args):
        suite = stored(entity, extract_date, *args)
        suite["expectations"].append(expectation)
        return suite

    monkeypatch.setattr(gxe, "load_suite_json", with_it)


# a script's last line for run_python: which of Great Expectations and its SQL dialect the
# script's process imported
PRINT_GX_IMPORTED = ("print('imported:', sorted(m for m in ('great_expectations', "
                     "'duckdb_engine') if m in sys.modules), flush=True)\n")


def run_python(script: str, *args: str) -> str:
    """The standard output of `script`, run with `args` by a fresh Python in the project's
    folder; it must exit 0."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, cwd=Path(__file__).parents[1], check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout
