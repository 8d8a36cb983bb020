"""The periods of the published warehouse, as every report names them.

A period is what `marts.customer_value` says it is: its start and end, and how far the data
reach (`data_through`, the latest extract date loaded). The latest period is usually still
running; a report then says so ("2026, Daten bis 22.11.2026") instead of naming the whole
calendar year.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple

import duckdb

from orchestration.lib.reports.texts import date_text, text


class Period(NamedTuple):
    start: dt.date
    end: dt.date
    months: int
    data_through: dt.date
    is_complete: bool

    @property
    def name(self) -> str:
        """`2026` for a year, `2026-Q4` for a quarter."""
        if self.months == 12:
            return str(self.start.year)
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"


class PeriodNotFound(ValueError):
    pass


def open_warehouse(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published warehouse (it never takes the writer's lock)."""
    if not Path(warehouse).is_file():
        raise PeriodNotFound(f"no warehouse at {warehouse}: run `cvm load` first")
    return duckdb.connect(str(warehouse), read_only=True)


def read_periods(con) -> list[Period]:
    """Every period of marts.customer_value, oldest first."""
    rows = con.execute(
        "select distinct period_start, period_end, months_in_period, data_through, "
        "is_period_complete from marts.customer_value order by period_start"
    ).fetchall()
    return [Period(*row) for row in rows]


def choose_period(con, wanted: str | None = None) -> Period:
    """The period named `wanted` (`2026`, `2026-Q4` or its first day, `2026-01-01`), or the
    latest one."""
    periods = read_periods(con)
    if not periods:
        raise PeriodNotFound("marts.customer_value is empty: the warehouse holds no period yet")
    if wanted is None:
        return periods[-1]
    for period in periods:
        if wanted.strip() in (period.name, period.start.isoformat()):
            return period
    names = ", ".join(period.name for period in periods)
    raise PeriodNotFound(f"no period {wanted!r} in the warehouse; it holds {names}")


def period_label(period: Period, lang: str) -> str:
    """`2026, Daten bis 22.11.2026` for a running period, `2025` for a complete one."""
    if period.is_complete:
        return text("period_complete", lang, name=period.name)
    return text("period_running", lang, name=period.name,
                through=date_text(period.data_through, lang))
