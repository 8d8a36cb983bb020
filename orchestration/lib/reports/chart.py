"""The portfolio chart of a period: classic value (x) against value transfer (y).

Both axes are logarithmic, so a customer with a value of 0 or less, or far below the rest,
has no place on them. Such a customer is drawn in a marked band at the edge of its axis
(left for the classic value, bottom for the value transfer) and counted in the legend; no
customer is clipped silently. New customers valued by their potential get a marker of their
own. Quadrant lines sit at the thresholds the period used; with `grid`, dotted lines show the
finer grid of value bands as well.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from orchestration.lib.reports.periods import choose_period, period_label
from orchestration.lib.reports.plotting import (
    Drawn,
    pyplot,
    save,
    segment_colours,
)
from orchestration.lib.reports.reference import Segment, segments
from orchestration.lib.reports.translations import money, text
from orchestration.lib.reports.warehouse import Warehouse

# an axis reaches at most this many decades below the median of its positive values
DECADES_BELOW_MEDIAN = 3
# the edge band is this many decades wide
BAND_DECADES = 0.5
# up to this many customers in the edge bands are labelled with their true values
MAX_EDGE_LABELS = 12


class Axis(NamedTuple):
    """One log axis: values below `floor` are drawn in the band from `band_low` to `floor`."""

    floor: float
    band_low: float
    top: float

    @property
    def band_middle(self) -> float:
        return math.sqrt(self.floor * self.band_low)

    @property
    def band_share(self) -> float:
        """The share of the axis' length that the edge band takes."""
        return math.log(self.floor / self.band_low) / math.log(self.top / self.band_low)

    def in_band(self, values: np.ndarray) -> np.ndarray:
        return values < self.floor

    def positions(self, values: np.ndarray) -> np.ndarray:
        """Where each value is drawn: itself, or the middle of the edge band."""
        return np.where(self.in_band(values), self.band_middle, values)


def axis_for(values: np.ndarray) -> Axis:
    """The axis of `values`: its floor is the power of ten at or below the smallest positive
    value, but no more than DECADES_BELOW_MEDIAN decades below their median; 1 € when no
    value is positive."""
    positive = values[values > 0]
    if positive.size == 0:
        floor = 1.0
        top = 10.0
    else:
        lowest = 10.0 ** math.floor(math.log10(positive.min()))
        limit = 10.0 ** (math.floor(math.log10(float(np.median(positive)))) - DECADES_BELOW_MEDIAN)
        floor = max(lowest, limit)
        top = float(positive.max()) * 3  # room for the largest bubble
    return Axis(floor, floor / 10.0**BAND_DECADES, max(top, floor * 10))


class PortfolioRow(NamedTuple):
    customer_id: str
    classic_value_eur: float
    value_transfer_eur: float
    revenue_eur: float
    segment: str
    valued_by_potential: bool
    classic_threshold: float
    value_transfer_threshold: float
    classic_value_band: int
    value_transfer_band: int


_ROWS_SQL = """
    select customer_id, classic_value_eur, value_transfer_eur, revenue_eur, segment,
           is_new_customer and classic_value_eur > classic_basis_eur,
           classic_threshold, value_transfer_threshold, classic_value_band,
           value_transfer_band
    from marts.customer_value
    where period_start = ?
    order by customer_id
"""


def portfolio_chart(
    warehouse: Path, out: Path, period: str | None = None, lang: str = "de", grid: bool = False
) -> Drawn:
    """The portfolio of `period` (default: the latest) as a PNG at `out`."""
    fig, label = portfolio_figure(warehouse, period, lang, grid)
    return Drawn(save(fig, out), label)


def portfolio_figure(warehouse: Path, period: str | None = None, lang: str = "de",
                     grid: bool = False):
    """The portfolio figure of `period` and the period's label."""
    with Warehouse(warehouse).reader() as con:
        chosen = choose_period(con, period)
        rows = [PortfolioRow(r[0], *map(float, r[1:4]), r[4], bool(r[5]), *map(float, r[6:8]),
                             *r[8:10])
                for r in con.execute(_ROWS_SQL, [chosen.start]).fetchall()]
        seed = segments(con)
    label = period_label(chosen, lang)
    return draw_portfolio(rows, seed, label, lang, grid), label


def band_edges(values: np.ndarray, bands: np.ndarray) -> list[float]:
    """Where the grid line between band k and band k + 1 of an axis is drawn: between the
    greatest value of band k and the smallest of band k + 1 (their geometric mean when both
    are positive, as the axis is logarithmic), so that every customer is on the side of its
    band. The cut-offs themselves are the warehouse's; this only places the line."""
    edges = []
    for band in range(1, int(bands.max(initial=1))):
        below, above = values[bands == band], values[bands == band + 1]
        if below.size == 0 or above.size == 0:
            continue
        low, high = float(below.max()), float(above.min())
        edges.append(math.sqrt(low * high) if low > 0 and high > 0 else (low + high) / 2)
    return edges


def draw_portfolio(rows: list[PortfolioRow], seed: list[Segment], label: str, lang: str = "de",
                   grid: bool = False):
    """The portfolio figure of one period's rows, coloured by the segments of the seed; with
    `grid`, the value bands' grid."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt = pyplot()
    classic = np.array([r.classic_value_eur for r in rows])
    transfer = np.array([r.value_transfer_eur for r in rows])
    revenue = np.clip(np.array([r.revenue_eur for r in rows]), 0, None)
    segment_of = np.array([r.segment for r in rows])
    by_potential = np.array([r.valued_by_potential for r in rows], dtype=bool)
    x_axis, y_axis = axis_for(classic), axis_for(transfer)
    x, y = x_axis.positions(classic), y_axis.positions(transfer)
    size = (20 + 900 * np.sqrt(revenue / revenue.max()) if revenue.max() > 0
            else np.full(len(rows), 40.0))
    x_cut, y_cut = rows[0].classic_threshold, rows[0].value_transfer_threshold

    fig, ax = plt.subplots(figsize=(11, 8.5), dpi=110)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_axis.band_low, x_axis.top)
    ax.set_ylim(y_axis.band_low, y_axis.top)
    band_style = dict(facecolor="#f1e3c8", hatch="///", edgecolor="#c9a66b", linewidth=0, zorder=0)
    ax.axvspan(x_axis.band_low, x_axis.floor, **band_style)
    ax.axhspan(y_axis.band_low, y_axis.floor, **band_style)
    band_text = dict(fontsize=8, color="#8a6a2f", zorder=1)
    ax.text(x_axis.band_middle, 0.7,
            text("chart_edge_band", lang, floor=money(x_axis.floor, lang, 0)), rotation=90,
            ha="center", va="center", transform=ax.get_xaxis_transform(), **band_text)
    ax.text(0.7, y_axis.band_middle,
            text("chart_edge_band", lang, floor=money(y_axis.floor, lang, 0)),
            ha="center", va="center", transform=ax.get_yaxis_transform(), **band_text)

    corner = dict(fontsize=11, fontweight="bold", alpha=0.75, transform=ax.transAxes)
    # the quadrants' names sit inside the plot, clear of the edge bands
    left, bottom = x_axis.band_share + 0.02, y_axis.band_share + 0.02
    handles = []
    for segment, colour in segment_colours(seed):
        right = segment.classic_value_level == "high"
        top = segment.value_transfer_level == "high"
        ax.text(0.98 if right else left, 0.97 if top else bottom, segment.label(lang),
                color=colour, ha="right" if right else "left", va="top" if top else "bottom",
                **corner)
        mask = segment_of == segment.code
        for potential, marker in ((False, "o"), (True, "D")):
            chosen = mask & (by_potential == potential)
            if chosen.any():
                ax.scatter(x[chosen], y[chosen], s=size[chosen], marker=marker, alpha=0.6,
                           color=colour, edgecolors="black" if potential else "white",
                           linewidths=1.2 if potential else 0.6, zorder=3)
        handles.append(Line2D([], [], marker="o", linestyle="", color=colour, alpha=0.6,
                              markersize=9,
                              label=f"{segment.label(lang)} ({int(mask.sum())})"))
    handles.append(Line2D([], [], marker="D", linestyle="", color="#bbbbbb",
                          markeredgecolor="black", markersize=8,
                          label=text("chart_legend_new", lang, n=int(by_potential.sum()))))
    edges = (("chart_edge_x", x_axis, classic), ("chart_edge_y", y_axis, transfer))
    for key, axis, values in edges:
        handles.append(Patch(facecolor="#f1e3c8", edgecolor="#c9a66b", hatch="///",
                             label=text(key, lang, floor=money(axis.floor, lang, 0),
                                        n=int(axis.in_band(values).sum()))))

    # a customer in an edge band shows its true value beside it (while there are few)
    outside = x_axis.in_band(classic) | y_axis.in_band(transfer)
    if 0 < outside.sum() <= MAX_EDGE_LABELS:
        for index in np.flatnonzero(outside):
            value = classic[index] if x_axis.in_band(classic[index:index + 1])[0] else None
            shown = [money(classic[index], lang, 0)] if value is not None else []
            if y_axis.in_band(transfer[index:index + 1])[0]:
                shown.append(money(transfer[index], lang, 0))
            ax.annotate(" / ".join(shown), (x[index], y[index]), xytext=(6, 0),
                        textcoords="offset points", fontsize=7, color="#8a6a2f",
                        va="center", zorder=4)
    ax.scatter(x[outside], y[outside], s=size[outside] + 40, facecolor="none",
               edgecolors="#8a6a2f", linewidths=1.0, zorder=4)

    ax.axvline(max(x_cut, x_axis.floor), color="#333", linestyle="--", linewidth=1, zorder=2)
    ax.axhline(max(y_cut, y_axis.floor), color="#333", linestyle="--", linewidth=1, zorder=2)
    ax.xaxis.set_major_formatter(_edge_formatter(x_axis, lang))
    ax.yaxis.set_major_formatter(_edge_formatter(y_axis, lang))
    title = text("chart_portfolio_title", lang, period=label) + "\n" + text(
        "chart_portfolio_subtitle", lang, x_cut=money(x_cut, lang, 0),
        y_cut=money(y_cut, lang, 0))
    if grid:
        title += "\n" + _draw_grid(ax, rows, x_axis, y_axis, lang)
    ax.set_xlabel(text("chart_portfolio_x", lang))
    ax.set_ylabel(text("chart_portfolio_y", lang))
    ax.set_title(title, fontsize=11, pad=16 if grid else 6)
    ax.legend(handles=handles, title=text("chart_legend_segments", lang), loc="upper center",
              bbox_to_anchor=(0.5, -0.09), ncol=2, frameon=False, fontsize=9)
    ax.grid(True, which="major", alpha=0.2)
    fig.tight_layout()
    return fig


def _draw_grid(ax, rows: list[PortfolioRow], x_axis: Axis, y_axis: Axis, lang: str) -> str:
    """Dotted lines between the value bands of both axes, each band numbered at the top and
    on the right; returns the line for the title."""
    classic = np.array([r.classic_value_eur for r in rows])
    transfer = np.array([r.value_transfer_eur for r in rows])
    x_bands = np.array([r.classic_value_band for r in rows])
    y_bands = np.array([r.value_transfer_band for r in rows])
    line = dict(color="#555555", linestyle=":", linewidth=1.2, zorder=2)
    x_edges = [max(edge, x_axis.floor) for edge in band_edges(classic, x_bands)]
    y_edges = [max(edge, y_axis.floor) for edge in band_edges(transfer, y_bands)]
    for edge in x_edges:
        ax.axvline(edge, **line)
    for edge in y_edges:
        ax.axhline(edge, **line)
    label = dict(fontsize=9, color="#555555", fontweight="bold")
    x_bounds = [x_axis.band_low, *x_edges, x_axis.top]
    for band, (low, high) in enumerate(zip(x_bounds, x_bounds[1:], strict=False), start=1):
        ax.text(math.sqrt(low * high), 1.005, str(band), ha="center", va="bottom",
                transform=ax.get_xaxis_transform(), **label)
    y_bounds = [y_axis.band_low, *y_edges, y_axis.top]
    for band, (low, high) in enumerate(zip(y_bounds, y_bounds[1:], strict=False), start=1):
        ax.text(1.005, math.sqrt(low * high), str(band), ha="left", va="center",
                transform=ax.get_yaxis_transform(), **label)
    return text("chart_portfolio_grid", lang, n=int(x_bands.max()), m=int(y_bands.max()))


def _edge_formatter(axis: Axis, lang: str):
    """Tick labels in euros, none inside the edge band."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(
        lambda value, _: "" if value < axis.floor * 0.999 else money(value, lang, 0))
