"""The summary `cvm load` prints after a load: rows loaded and rejected, and the latest period
by segment (in the seed's display order)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from orchestration.lib import audit
from orchestration.lib.reports.segments import read_segments


def _eur(value) -> str:
    return f"{float(value or 0):>14,.0f} €"


def print_summary(
    warehouse: Path, extract_dates: list[str], echo: Callable[[str], None] = print
) -> None:
    """Folders loaded, rows loaded and rejected by reason, and the latest period by segment."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        echo("")
        echo("Summary")
        echo(f"  warehouse: {warehouse}")
        echo(f"  deliveries loaded in this run: {len(extract_dates)}"
             + (f" ({extract_dates[0]} … {extract_dates[-1]})" if extract_dates else ""))
        for entity, read, ok, rejected in audit.totals_by_entity(con, extract_dates):
            echo(f"  {entity:<20} read {read:>10,}  loaded {ok:>10,}  rejected {rejected:>7,}")
        reasons = audit.rejections_by_reason(con, extract_dates)
        if reasons:
            echo("  rejected rows by reason (open = waiting for a customer snapshot that "
                 "brings the customer):")
            for reason, count, still_open in reasons:
                echo(f"    {reason:<24} {count:>7,}  open {still_open:>7,}")
        period = con.execute(
            "select max(period_start), max(period_end) from marts.customer_value "
            "where period_start = (select max(period_start) from marts.customer_value)"
        ).fetchone()
        if period[0] is None:
            echo("  no customer values yet")
            return
        echo(f"  latest period {period[0]} … {period[1]}:")
        echo(f"    {'segment':<14} {'customers':>9} {'revenue':>16} {'value transfer':>16}")
        rows = {
            row[0]: row[1:]
            for row in con.execute(
                "select segment, customers, revenue_eur, value_transfer_eur "
                "from marts.segment_summary where period_start = ?",
                [period[0]],
            ).fetchall()
        }
        for segment in read_segments():
            if segment.segment in rows:
                customers, revenue, transfer = rows[segment.segment]
                echo(f"    {segment.segment:<14} {customers:>9} {_eur(revenue)} {_eur(transfer)}")
    finally:
        con.close()
