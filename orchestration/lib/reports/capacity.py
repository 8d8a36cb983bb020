"""The capacity chart of a period: per department with capacity data, the practical capacity
used by its activities (by transfer kind: free, discounted, billed, without a rate) against
the capacity nobody used (`marts.department_capacity`), in hours. Unused capacity is a line
of its own per department, never spread over customers. Without capacity data, the chart
says so.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from orchestration.lib.reports.periods import choose_period, period_label
from orchestration.lib.reports.plotting import Drawn, pyplot, save
from orchestration.lib.reports.translations import money, text
from orchestration.lib.reports.warehouse import Warehouse

# the used minutes by transfer kind, then the unused ones: the column and its colour
PARTS = (("free_minutes", "kind_free", "#1b9e77"),
         ("discounted_minutes", "kind_discounted", "#7570b3"),
         ("billed_minutes", "kind_billed", "#d95f02"),
         ("unpriced_minutes", "kind_unpriced", "#b3b3b3"),
         ("unused_minutes", "cap_unused", "#ffffff"))


class CapacityRow(NamedTuple):
    department: str
    free_minutes: Decimal
    discounted_minutes: Decimal
    billed_minutes: Decimal
    unpriced_minutes: Decimal
    unused_minutes: Decimal
    unused_capacity_cost_eur: Decimal


_ROWS_SQL = """
    select department, free_minutes, discounted_minutes, billed_minutes, unpriced_minutes,
           unused_minutes, unused_capacity_cost_eur
    from marts.department_capacity
    where period_start = ?
    order by department
"""


def capacity_rows(con, period_start) -> list[CapacityRow]:
    return [CapacityRow(*row) for row in con.execute(_ROWS_SQL, [period_start]).fetchall()]


def capacity_chart(warehouse: Path, out: Path, period: str | None = None,
                   lang: str = "de") -> Drawn:
    """The capacity chart of `period` (default: the latest) as a PNG at `out`."""
    with Warehouse(warehouse).reader() as con:
        chosen = choose_period(con, period)
        rows = capacity_rows(con, chosen.start)
    label = period_label(chosen, lang)
    return Drawn(save(draw_capacity(rows, label, lang), out), label)


LEGEND_INCHES = 0.45  # the strip below the axes that holds the legend


def draw_capacity(rows: list[CapacityRow], label: str, lang: str = "de"):
    """One horizontal bar per department: used hours by kind, then the unused hours (hatched,
    with their cost); an over-used department's unused part is below 0."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.9 * max(len(rows), 1)), dpi=110)
    ax.set_title(text("cap_title", lang, period=label), loc="left")
    if not rows:
        ax.text(0.5, 0.5, text("cap_none", lang), ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    names = [row.department for row in rows]
    left = [0.0] * len(rows)
    for column, words, colour in PARTS:
        hours = [float(getattr(row, column)) / 60 for row in rows]
        unused = column == "unused_minutes"
        ax.barh(names, hours, left=left, color=colour, edgecolor="#333333",
                hatch="//" if unused else None, label=text(words, lang))
        left = [start + width for start, width in zip(left, hours, strict=True)]
    for index, row in enumerate(rows):
        ax.annotate(text("cap_unused_cost", lang, cost=money(row.unused_capacity_cost_eur, lang)),
                    (left[index], index), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(text("cap_hours", lang))
    # the legend in a strip of its own below the axes, whatever the number of departments
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(PARTS), frameon=False)
    fig.tight_layout(rect=(0, LEGEND_INCHES / fig.get_figheight(), 1, 1))
    return fig


def capacity_table(rows: list[CapacityRow], label: str) -> list[str]:
    """The unused capacity per department as a short table for the terminal (English, hours
    to one decimal, EUR to the cent): practical = used + unused hours, the unused share of
    the practical capacity and its cost. Without capacity data, one line says so."""
    if not rows:
        return [f"unused capacity of {label}: no department has capacity data"]
    width = max(len("department"), *(len(row.department) for row in rows))
    lines = [f"unused capacity of {label}:",
             f"  {'department':<{width}}  {'practical h':>12}  {'used h':>12}  {'unused h':>12}"
             f"  {'unused':>7}  {'unused cost EUR':>16}"]
    for row in rows:
        used = (row.free_minutes + row.discounted_minutes + row.billed_minutes
                + row.unpriced_minutes)
        practical = used + row.unused_minutes
        share = f"{row.unused_minutes / practical:.1%}" if practical else "–"
        lines.append(f"  {row.department:<{width}}  {practical / 60:>12,.1f}  {used / 60:>12,.1f}"
                     f"  {row.unused_minutes / 60:>12,.1f}  {share:>7}"
                     f"  {row.unused_capacity_cost_eur:>16,.2f}")
    return lines


def capacity_rows_of(warehouse: Path, period: str | None = None) -> list[CapacityRow]:
    """The capacity rows of `period` (default: the latest) of the published warehouse."""
    with Warehouse(warehouse).reader() as con:
        return capacity_rows(con, choose_period(con, period).start)
