"""The summary `cvm load` prints after a load: rows loaded and rejected, the warnings a load
leaves (unpriced activities, open rejections, files of the run that do not end with a line
break or whose rows are mostly rejected), and the latest period by segment (in the seed's
display order), named honestly when it is still running."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestration.lib import audit
from orchestration.lib.ingest import personal
from orchestration.lib.reports.periods import choose_period, terminal_label
from orchestration.lib.reports.reference import segments
from orchestration.lib.reports.warehouse import Warehouse


def _eur(value) -> str:
    return f"{float(value or 0):>14,.0f} €"


LISTED_FILES = 6  # file names a summary line lists before it only counts
# a file of the run with a larger share of rejected rows (waiting ones left out) is named among
# the warnings; CVM_MAX_REJECTED_SHARE (20 % by default) refuses a file well before "mostly"
WARNED_REJECTED_SHARE = 5.0  # percent


def _files_line(label: str, names: list[str]) -> str:
    shown = ", ".join(names[:LISTED_FILES]) + (", …" if len(names) > LISTED_FILES else "")
    return f"  {label}: {len(names)}" + (f" ({shown})" if names else "")


def print_summary(
    warehouse: Path, extract_dates: list[str], echo: Callable[[str], None] = print,
    files: list[dict] | None = None,
) -> None:
    """Folders loaded, the files loaded in this run, those skipped as unchanged and those
    skipped as identical to an earlier file (`files`: the load's per-file metadata, when
    known), rows loaded and rejected by reason over the files loaded, and the latest period
    by segment."""
    with Warehouse(warehouse).reader() as con:
        echo("")
        echo("Summary")
        echo(f"  warehouse: {warehouse}")
        echo(f"  deliveries loaded in this run: {len(extract_dates)}"
             + (f" ({extract_dates[0]} … {extract_dates[-1]})" if extract_dates else ""))
        loaded, states = None, []
        if files is not None:
            read = [f["source_file"] for f in files if not f.get("skipped_unchanged")]
            states = audit.file_states(con, read)
            copies = {s.source_file: s.identical_to for s in states if s.identical_to}
            loaded = [name for name in read if name not in copies]
            echo(_files_line("files loaded in this run", loaded))
            echo(_files_line("files unchanged since their last load, skipped", [
                f["source_file"] for f in files if f.get("skipped_unchanged")]))
            if copies:
                echo(_files_line("files identical to an earlier file, skipped", [
                    f"{name}: identical to {other}" for name, other in copies.items()]))
        for entity, read, ok, rejected in audit.totals_by_entity(con, extract_dates, loaded):
            echo(f"  {entity:<20} read {read:>10,}  loaded {ok:>10,}  rejected {rejected:>7,}")
        reasons = audit.rejections_by_reason(con, extract_dates, loaded)
        if reasons:
            echo("  rejected rows by reason (open = waiting for a customer snapshot that "
                 "brings the customer):")
            for reason, count, still_open in reasons:
                echo(f"    {reason:<24} {count:>7,}  open {still_open:>7,}")
        _warnings(con, echo, extract_dates, states)
        if not con.execute("select count(*) from marts.customer_value").fetchone()[0]:
            echo("  no customer values yet")
            return
        period = choose_period(con)
        running = "" if period.is_complete else ", running: not complete yet"
        echo(f"  latest period {terminal_label(period)} ({period.start.isoformat()} … "
             f"{period.end.isoformat()}{running}):")
        echo(f"    {'segment':<14} {'customers':>9} {'revenue':>16} {'value transfer':>16}")
        rows = {
            row[0]: row[1:]
            for row in con.execute(
                "select segment, customers, revenue_eur, value_transfer_eur "
                "from marts.segment_summary where period_start = ?",
                [period.start],
            ).fetchall()
        }
        for segment in segments(con):
            if segment.code in rows:
                customers, revenue, transfer = rows[segment.code]
                echo(f"    {segment.code:<14} {customers:>9} {_eur(revenue)} {_eur(transfer)}")


def _warnings(con, echo: Callable[[str], None], extract_dates: list[str],
              states: list[audit.FileState]) -> None:
    """What a load leaves to be looked at: activities without a valid standard cost rate on
    their date (in no value transfer), rejected rows still waiting for their customer, codes
    of the deliveries loaded that hold an e-mail address (personal.py), and the run's files
    (`states`) whose rows are mostly rejected or that do not end with a line break (their last
    record may be cut short)."""
    unpriced = con.execute(
        "select service_type_code, year(activity_date), count(*) "
        "from marts.fct_service_activities where not is_priced "
        "group by all order by all"
    ).fetchall()
    waiting = audit.open_rejections_by_entity(con)
    emails = personal.emails_in_codes(con, extract_dates)
    rejecting = [s for s in states
                 if s.rows_read and s.rejected * 100 > WARNED_REJECTED_SHARE * s.rows_read]
    unended = [s.source_file for s in states if not s.ends_with_line_break]
    # (the rows found, what they are, how many, the list)
    found = (
        (unended, "files that do not end with a line break (their last record may be cut "
         "short; check it)", f"{len(unended)}", ", ".join(unended)),
        (rejecting, f"files with more than {WARNED_REJECTED_SHARE:g} % of their rows rejected",
         f"{len(rejecting)}",
         ", ".join(f"{s.source_file}: {s.rejected:,} of {s.rows_read:,}" for s in rejecting)),
        (unpriced, "unpriced activities (no valid standard cost rate on their date, so no "
         "value transfer)", f"{sum(row[2] for row in unpriced):,}",
         ", ".join(f"{code} {year}: {count:,}" for code, year, count in unpriced)),
        (waiting, "open rejections (rows waiting for a customer snapshot that brings their "
         "customer)", f"{sum(waiting.values()):,}",
         ", ".join(f"{entity}: {count:,}" for entity, count in waiting.items())),
        (emails, "e-mail addresses in codes (masked in the marts, kept in raw; a key column "
         "stays as delivered)", f"{sum(row[2] for row in emails):,}",
         ", ".join(f"{entity}.{column}: {count:,}" for entity, column, count in emails)),
    )
    if not any(rows for rows, *_ in found):
        echo("  warnings: none (every activity priced, no rejected row waiting, no file cut "
             "short or mostly rejected)")
        return
    echo("  warnings:")
    for rows, what, count, listed in found:
        if rows:
            echo(f"    {what}: {count} ({listed})")
