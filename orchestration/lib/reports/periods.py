"""The periods of the published warehouse as the command line's reports name them.

A period is what `marts.customer_value` says it is: its start and end, and how far the data
reach (`data_through`, the latest extract date loaded). The latest period is usually still
running; a report then says so ("2026, Daten bis 22.11.2026") instead of naming the whole
calendar year. Periods are named as everywhere else (`queries.Period.key`: `2026`,
`2026-Q4`, or the first day).
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from orchestration.lib.reports import queries
from orchestration.lib.reports.errors import ReportError
from orchestration.lib.reports.translations import day, text


class Period(NamedTuple):
    start: dt.date
    end: dt.date
    data_through: dt.date
    is_complete: bool

    @property
    def name(self) -> str:
        return queries.Period(self.start, self.end).key


class PeriodNotFound(ReportError, ValueError):
    """No such period in the warehouse, or none at all."""


def read_periods(con) -> list[Period]:
    """Every period of marts.customer_value, oldest first."""
    rows = con.execute(
        "select distinct period_start, period_end, data_through, is_period_complete "
        "from marts.customer_value order by period_start"
    ).fetchall()
    return [Period(*row) for row in rows]


def choose_period(con, wanted: str | None = None) -> Period:
    """The period named `wanted` (`2026`, `2026-Q4` or its first day), or the latest one."""
    periods = read_periods(con)
    if not periods:
        raise PeriodNotFound("marts.customer_value is empty: the warehouse holds no period yet")
    found = queries.find_period([queries.Period(p.start, p.end) for p in periods], wanted)
    if found is None:
        names = ", ".join(period.name for period in periods)
        raise PeriodNotFound(f"no period {wanted!r} in the warehouse; it holds {names}")
    return next(period for period in periods if period.start == found.start)


def period_label(period: Period, lang: str) -> str:
    """`2026, Daten bis 22.11.2026` for a running period, `2025` for a complete one."""
    if period.is_complete:
        return text("period_complete", lang, name=period.name)
    return text("period_running", lang, name=period.name, through=day(period.data_through, lang))


def terminal_label(period: Period) -> str:
    """The period as the terminal names it: in English, its dates ISO like every other date
    there (`2026, data through 2026-11-22`, `2025`), whatever the report's language."""
    if period.is_complete:
        return period.name
    return f"{period.name}, data through {period.data_through.isoformat()}"
