"""The value formats of both dialects, as DuckDB SQL expressions over a trimmed, non-empty
VARCHAR: decimals ('1.234,56' or '1234.56'), integers, dates and timestamps (ISO or German).
A text that is no value of its kind gives NULL; rules.py turns that into a reason code.

Timestamps are instants, kept as UTC in a TIMESTAMP column without time zone:
- with an offset (ISO only: '2025-10-26T02:10:00+01:00', '+0100', '+01', 'Z'), the instant it
  names;
- without one, local time in the source time zone (settings.source_timezone). A local time
  in the hour the clocks skip (spring) does not exist, one in the hour they repeat (autumn) is
  ambiguous: both give NULL, and `local_time_problem_sql` says which.
The offsets of the source time zone are looked up once per local date, not per row
(`day_offsets_sql`): a date whose offset one day before equals the offset two days after has
no change of offset in between (true of every real zone, whose changes lie months apart), and
its local times convert with that one offset. Only the rows of a date with a change are
converted one by one. The offsets of a range of dates are computed as a small table
(`zone_offsets_sql`) that does not depend on the file's rows, so the query over the rows
streams; a date outside the range gets its offsets computed on its row.
"""

from __future__ import annotations

import datetime as dt

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
ISO_LOCAL = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?"
ISO_WITH_OFFSET = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)"
# the two number formats, as regular expressions over the whole trimmed text
POINT_NUMBER = r"[+-]?\d+(\.\d+)?"  # 1234.56
COMMA_NUMBER = r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?"  # 1.234,56 or 1234,56
TIMESTAMP_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


def decimal_sql(value: str, decimal_comma: bool) -> str:
    """DECIMAL(18,4) or NULL when the text is no number of the format (`decimal_comma`: the
    column's, dialect.decide_number_formats).

    German: '1.234,56', '1234,56', '-0,5'; standard: '1234.56', '-0.5'. Thousands separators
    must group by three. Too many digits for DECIMAL(18,4) -> NULL.
    """
    if decimal_comma:
        pattern = f"^{COMMA_NUMBER}$"
        canonical = f"replace(replace({value}, '.', ''), ',', '.')"
    else:
        pattern = f"^{POINT_NUMBER}$"
        canonical = value
    return (
        f"case when regexp_full_match({value}, '{pattern}') "
        f"then try_cast({canonical} as decimal(18,4)) end"
    )


def int_sql(value: str) -> str:
    """INTEGER or NULL: optional sign and digits only."""
    pattern = "[+-]?\\d+"
    return (
        f"case when regexp_full_match({value}, '{pattern}') "
        f"then try_cast({value} as integer) end"
    )


def _strptime_sql(value: str, formats: tuple[str, ...]) -> str:
    """try_strptime over the formats in order, the first that parses wins.

    A format is only tried on text holding its separator ('-' or '.'): it cannot match
    otherwise, and a failing try_strptime costs ten times a succeeding one.
    """
    tries = []
    for fmt in formats:
        separator = "-" if "-" in fmt else "."
        tries.append(
            f"case when contains({value}, '{separator}') then try_strptime({value}, '{fmt}') end"
        )
    return tries[0] if len(tries) == 1 else f"coalesce({', '.join(tries)})"


def date_sql(value: str) -> str:
    """DATE from '2025-03-31' or '31.03.2025' (either dialect), else NULL."""
    return f"cast({_strptime_sql(value, DATE_FORMATS)} as date)"


def timestamp_sql(value: str) -> str:
    """A naive TIMESTAMP from ISO ('2025-03-31 14:05:00', '2025-03-31T14:05', '2025-03-31') or
    German ('31.03.2025 14:05:00', '31.03.2025 14:05', '31.03.2025'), else NULL: text with an
    offset or a zone name is no naive timestamp."""
    return (
        f"coalesce(case when regexp_full_match({value}, '{ISO_LOCAL}') "
        f"then try_cast({value} as timestamp) end, "
        f"{_strptime_sql(value, TIMESTAMP_FORMATS)})"
    )


def offset_instant_sql(value: str) -> str:
    """The UTC instant (TIMESTAMP) of an ISO timestamp with an offset, else NULL."""
    return (
        f"case when regexp_full_match({value}, '{ISO_WITH_OFFSET}') "
        f"then timezone('UTC', try_cast({value} as timestamptz)) end"
    )


def utc_offset_sql(instant: str, zone: str) -> str:
    """The zone's offset from UTC (an INTERVAL) at a UTC instant (a naive TIMESTAMP)."""
    return f"(timezone({zone}, timezone('UTC', {instant})) - {instant})"


def day_offsets_sql(day: str, zone: str) -> tuple[str, str]:
    """The zone's offsets (INTERVALs) one day before and two days after a local DATE `day`."""
    start = f"cast({day} as timestamp)"
    return (utc_offset_sql(f"({start} - interval 1 day)", zone),
            utc_offset_sql(f"({start} + interval 2 day)", zone))


def zone_offsets_sql(first: dt.date, last: dt.date, zone: str) -> str:
    """SELECT day, before, after: `day_offsets_sql` of every date from `first` to `last`."""
    before, after = day_offsets_sql("day", zone)
    return (
        f"select day, {before} as before, {after} as after from ("
        f"select cast(range as date) as day from range(DATE '{first.isoformat()}', "
        f"DATE '{last.isoformat()}' + interval 1 day, interval 1 day))"
    )


def _fits(local: str, offset: str, zone: str) -> str:
    """Whether `local` - `offset` is an instant at which the zone's offset is `offset`."""
    return f"{utc_offset_sql(f'({local} - {offset})', zone)} = {offset}"


def local_to_utc_sql(local: str, before: str, after: str, zone: str) -> str:
    """The UTC instant of a naive local TIMESTAMP, given its date's offsets (day_offsets_sql);
    NULL when it does not exist or is ambiguous."""
    fits_before, fits_after = _fits(local, before, zone), _fits(local, after, zone)
    return (
        f"case when {before} = {after} then {local} - {before} "
        f"when {fits_before} and not {fits_after} then {local} - {before} "
        f"when {fits_after} and not {fits_before} then {local} - {after} end"
    )


def local_time_problem_sql(local: str, before: str, after: str, zone: str) -> str:
    """'nonexistent' or 'ambiguous' for a naive local TIMESTAMP that is one, else NULL."""
    fits_before, fits_after = _fits(local, before, zone), _fits(local, after, zone)
    return (
        f"case when {local} is null or {before} = {after} then NULL "
        f"when {fits_before} and {fits_after} then 'ambiguous' "
        f"when not {fits_before} and not {fits_after} then 'nonexistent' end"
    )


def parse_sql(kind: str, value: str, decimal_comma: bool) -> str:
    """The typed-value expression for a column kind (a timestamp needs more, see rules.py)."""
    if kind == "decimal":
        return decimal_sql(value, decimal_comma)
    if kind == "int":
        return int_sql(value)
    if kind == "date":
        return date_sql(value)
    return value
