"""The return on value transfer of a period t: per segment, each customer's value transfer in t
(x) against the change of its contribution margin from t to t + 1 (y).

One panel per segment, laid out like the portfolio (classic value high on the right, value
transfer high on top). A dashed line marks where the margin change equals the value transfer
(the services paid back within one period); a customer without orders in t + 1 has a margin
of 0 there. Each panel names the segment's sums and their ratio (`marts.segment_payback`);
below the panels, each classic-value band's comparison of its customers with high and with
low value transfer, with the bootstrap interval. The caption says what the chart cannot: it
shows an association over the data, not that the services caused the change.

The period is t, the period of the value transfer; only periods with a following period in
the warehouse have a chart (default: the latest of them).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from orchestration.lib.reports.periods import Period, PeriodNotFound, period_label, read_periods
from orchestration.lib.reports.plotting import Drawn, pyplot, save, segment_colours
from orchestration.lib.reports.reference import Segment, segments
from orchestration.lib.reports.translations import money, number, percent, text
from orchestration.lib.reports.warehouse import Warehouse


class PaybackPoint(NamedTuple):
    customer_id: str
    segment: str
    value_transfer_eur: float
    margin_change_eur: float


class SegmentPayback(NamedTuple):
    """A row of marts.segment_payback (the columns the chart shows)."""

    segment: str
    classic_value_level: str
    customers: int
    value_transfer_eur: float
    margin_change_eur: float
    payback_ratio: float | None
    band_difference_eur: float | None
    band_difference_low_eur: float | None
    band_difference_high_eur: float | None
    confidence_level: float


_POINTS_SQL = """
    select customer_id, segment, cast(value_transfer_eur as double),
           cast(margin_change_eur as double)
    from marts.value_transfer_payback
    where period_start = ?
    order by customer_id
"""
_SUMMARY_SQL = """
    select segment, classic_value_level, customers, cast(value_transfer_eur as double),
           cast(margin_change_eur as double), payback_ratio,
           cast(band_difference_eur as double), cast(band_difference_low_eur as double),
           cast(band_difference_high_eur as double), confidence_level
    from marts.segment_payback
    where period_start = ?
"""


def payback_periods(con) -> list[tuple[Period, Period]]:
    """Every period t of marts.segment_payback with its following period t + 1, oldest
    first."""
    starts = {row[0] for row in con.execute(
        "select distinct period_start from marts.segment_payback").fetchall()}
    available = read_periods(con)
    return [(period, after) for period, after in zip(available, available[1:], strict=False)
            if period.start in starts]


def choose_payback_period(con, wanted: str | None = None) -> tuple[Period, Period]:
    """The period t named `wanted` (default: the latest with a following period) and t + 1;
    PeriodNotFound when there is none."""
    pairs = payback_periods(con)
    if not pairs:
        raise PeriodNotFound("marts.segment_payback is empty: the warehouse holds no period "
                             "with a following period yet")
    if not wanted:
        return pairs[-1]
    for period, after in pairs:
        if wanted.strip() in (period.key, period.start.isoformat()):
            return period, after
    keys = ", ".join(period.key for period, _ in pairs)
    raise PeriodNotFound(f"no period {wanted!r} with a following period in the warehouse "
                         f"(periods with one: {keys})", wanted, [p for p, _ in pairs])


def payback_chart(warehouse: Path, out: Path, period: str | None = None,
                  lang: str = "de") -> Drawn:
    """The payback chart of period t = `period` (default: the latest with a following
    period) as a PNG at `out`."""
    fig, label = payback_figure(warehouse, period, lang)
    return Drawn(save(fig, out), label)


def payback_figure(warehouse: Path, period: str | None = None, lang: str = "de"):
    """The payback figure of period t and t's label."""
    with Warehouse(warehouse).reader() as con:
        chosen, after = choose_payback_period(con, period)
        points = [PaybackPoint(*row)
                  for row in con.execute(_POINTS_SQL, [chosen.start]).fetchall()]
        summary = [SegmentPayback(*row)
                   for row in con.execute(_SUMMARY_SQL, [chosen.start]).fetchall()]
        seed = segments(con)
    label = period_label(chosen, lang)
    return draw_payback(points, summary, seed, label, period_label(after, lang), lang), label


def draw_payback(points: list[PaybackPoint], summary: list[SegmentPayback],
                 seed: list[Segment], label: str, next_label: str, lang: str = "de"):
    """The figure: one panel per segment of the seed (module docstring)."""
    plt = pyplot()
    by_segment = {row.segment: row for row in summary}
    fig, axes = plt.subplots(2, 2, figsize=(12, 10), dpi=110)
    for segment, colour in segment_colours(seed):
        row = 0 if segment.value_transfer_level == "high" else 1
        column = 1 if segment.classic_value_level == "high" else 0
        _draw_panel(axes[row][column], segment, colour,
                    [p for p in points if p.segment == segment.code],
                    by_segment.get(segment.code), lang)
    fig.suptitle(text("payback_title", lang, period=label, next=next_label)
                 + "\n" + text("payback_subtitle", lang), fontsize=12)
    lines = [_band_line(level, summary, lang) for level in ("high", "low")]
    fig.text(0.5, 0.04, "\n".join(lines), ha="center", va="bottom", fontsize=9,
             color="#333333")
    fig.text(0.5, 0.012, text("payback_caption", lang), ha="center", va="bottom",
             fontsize=9.5, fontstyle="italic", fontweight="bold", color="#8a3b12")
    fig.tight_layout(rect=(0, 0.09, 1, 0.95))
    return fig


def _draw_panel(ax, segment: Segment, colour: str, points: list[PaybackPoint],
                row: SegmentPayback | None, lang: str) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_title(segment.label(lang), color=colour, fontsize=11, fontweight="bold")
    if not points:
        ax.text(0.5, 0.5, text("payback_no_customers", lang), ha="center", va="center",
                transform=ax.transAxes, color="#777777")
        ax.set_xticks([])
        ax.set_yticks([])
        return
    x = np.array([p.value_transfer_eur for p in points])
    y = np.array([p.margin_change_eur for p in points])
    reach = max(float(x.max()), 1.0)
    ax.axhline(0, color="#333333", linewidth=0.8, zorder=1)
    ax.plot([0, reach], [0, reach], color="#555555", linestyle="--", linewidth=1, zorder=2)
    ax.scatter(x, y, s=46, color=colour, alpha=0.75, edgecolors="#333333", linewidths=0.6,
               zorder=3)
    ax.set_xlim(min(0.0, float(x.min())) - 0.06 * reach, 1.06 * reach)
    low, high = min(0.0, float(y.min())), max(0.0, float(y.max()), reach)
    ax.set_ylim(low - 0.08 * (high - low or 1.0), high + 0.22 * (high - low or 1.0))
    if row is not None:
        ratio = (text("payback_ratio", lang, ratio=number(row.payback_ratio, lang, 2))
                 if row.payback_ratio is not None else text("payback_no_ratio", lang))
        ax.text(0.02, 0.97, text("payback_panel", lang, n=row.customers,
                                 transfer=money(row.value_transfer_eur, lang, 0),
                                 change=money(row.margin_change_eur, lang, 0)) + "\n" + ratio,
                transform=ax.transAxes, ha="left", va="top", fontsize=8.5,
                bbox=dict(boxstyle="round,pad=0.3", facecolor="white", alpha=0.85,
                          edgecolor="#cccccc"), zorder=4)
    ax.set_xlabel(text("payback_x", lang), fontsize=9)
    ax.set_ylabel(text("payback_y", lang), fontsize=9)
    for axis in (ax.xaxis, ax.yaxis):
        # whole euros only, so that the labels (without cents) name their ticks
        axis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        axis.set_major_formatter(_euros(lang))
    ax.tick_params(labelsize=8)
    ax.grid(True, alpha=0.2)


def _band_line(level: str, summary: list[SegmentPayback], lang: str) -> str:
    """The comparison of a classic-value band, as one line under the panels."""
    found = next((row for row in summary if row.classic_value_level == level), None)
    band = text(f"payback_band_{level}", lang)
    if found is None or found.band_difference_eur is None:
        return text("payback_band_none", lang, band=band)
    if found.band_difference_low_eur is None:
        return text("payback_band_no_interval", lang, band=band,
                    difference=money(found.band_difference_eur, lang, 0))
    return text("payback_band", lang, band=band,
                difference=money(found.band_difference_eur, lang, 0),
                level=percent(found.confidence_level, lang, 0),
                low=money(found.band_difference_low_eur, lang, 0),
                high=money(found.band_difference_high_eur, lang, 0))


def _euros(lang: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: money(value, lang, 0))
