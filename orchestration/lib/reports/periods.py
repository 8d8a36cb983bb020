"""The periods of the published warehouse, as every report names and finds them.

A period is what `marts.customer_value` says it is: its start and end, and how far the data
reach (`data_through`, the latest extract date loaded: the one "as of" date of every report).
The latest period is usually still running; a report then says so ("2026, Daten bis
22.11.2026") instead of naming the whole calendar year. A period's `key` is how URLs and the
command line name it: `2026`, `2026-Q4`, or its first day.

The cockpit, the value statement, the charts, the export and the load summary all read their
periods here, and an unknown period is always :class:`PeriodNotFound`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from orchestration.lib.reports.errors import ReportError
from orchestration.lib.reports.translations import day, text
from orchestration.lib.sql import records


@dataclass(frozen=True)
class Period:
    """A period of the marts. `data_through` and `is_complete` are what the marts say of it
    (`customer_value.data_through`, `is_period_complete`); a period written down by hand
    leaves them None."""

    start: dt.date
    end: dt.date
    data_through: dt.date | None = None
    is_complete: bool | None = None

    @property
    def key(self) -> str:
        """`2026` for a calendar year, `2026-Q2` for a quarter, else the first day."""
        s, e = self.start, self.end
        if s.day == 1 and s.month == 1 and e == dt.date(s.year, 12, 31):
            return str(s.year)
        last = 3 * ((s.month - 1) // 3) + 3
        if (s.day == 1 and s.month % 3 == 1
                and e == dt.date(s.year, last, calendar.monthrange(s.year, last)[1])):
            return f"{s.year}-Q{(s.month - 1) // 3 + 1}"
        return s.isoformat()


class PeriodNotFound(ReportError, ValueError):
    """No such period in the warehouse, or none at all: `key` is the name asked for,
    `available` the periods there are."""

    def __init__(self, message: str, key: str | None = None, available: list | None = None):
        super().__init__(message)
        self.key = key
        self.available = available or []


# the columns a Period is read from, in its fields' order (`cv` = marts.customer_value)
PERIOD_COLUMNS = "cv.period_start, cv.period_end, cv.data_through, cv.is_period_complete"


def read_periods(con) -> list[Period]:
    """Every period of `marts.customer_value`, oldest first."""
    return records(
        con, Period,
        f"select distinct {PERIOD_COLUMNS} from marts.customer_value as cv order by 1",
    )


def find_period(available: list[Period], key: str | None) -> Period:
    """The period named by `key` (`2026`, `2026-Q1` or its first day), the latest for no
    key; :class:`PeriodNotFound` when `available` holds no such period."""
    if not available:
        raise PeriodNotFound("marts.customer_value is empty: the warehouse holds no period yet")
    if not key:
        return available[-1]
    wanted = key.strip()
    for period in available:
        if wanted in (period.key, period.start.isoformat()):
            return period
    keys = ", ".join(period.key for period in available)
    raise PeriodNotFound(f"no period {key!r} in the warehouse (periods: {keys})", key,
                         available)


def choose_period(con, wanted: str | None = None) -> Period:
    """The period named `wanted`, or the latest one, read from the warehouse."""
    return find_period(read_periods(con), wanted)


def data_through(con) -> dt.date | None:
    """How far the data reach: the latest extract date the marts hold (None before the first
    load). The one "as of" date of the cockpit, the statement and every other report."""
    return con.execute("select max(data_through) from marts.customer_value").fetchone()[0]


def period_label(period: Period, lang: str) -> str:
    """`2026, Daten bis 22.11.2026` for a running period, `2025` for a complete one."""
    if period.is_complete:
        return text("period_complete", lang, name=period.key)
    return text("period_running", lang, name=period.key, through=day(period.data_through, lang))


def terminal_label(period: Period) -> str:
    """The period as the terminal names it: in English, its dates ISO like every other date
    there (`2026, data through 2026-11-22`, `2025`), whatever the report's language."""
    if period.is_complete:
        return period.key
    return f"{period.key}, data through {period.data_through.isoformat()}"
