"""The whale curve of a period: what the customers earn us after the services we give away.

Customers are ranked from the most to the least profitable by their profit after service
(contribution margin − value transfer, `marts.customer_profitability`). The curve is the
cumulative profit as a share of the period's total: it rises above 100 % while profitable
customers are added, peaks, and falls back to 100 % as the loss-making ones erode the profit.
The peak is annotated ("the most profitable 62 % of customers earn 138 % of the profit"),
and the eroding customers are coloured by their segment. When the period's total profit is
0 or negative, a share of it means nothing: the curve is then drawn in euros.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from orchestration.lib.reports.periods import choose_period, period_label
from orchestration.lib.reports.plotting import (
    Drawn,
    pyplot,
    save,
    segment_colours,
)
from orchestration.lib.reports.reference import Segment, segments
from orchestration.lib.reports.translations import money, percent, text
from orchestration.lib.reports.warehouse import Warehouse
from orchestration.lib.sql import records


class WhaleRow(NamedTuple):
    customer_id: str
    segment: str
    profit_after_service_eur: Decimal
    profit_rank: int
    cumulative_profit_eur: Decimal
    period_profit_eur: Decimal


class Peak(NamedTuple):
    customers: int  # how many of the most profitable customers earn the most
    customer_share: float  # ... as a share of the period's customers
    cumulative_profit_eur: Decimal  # what they earn together
    profit_share: float | None  # ... as a share of the period's total; None when it is <= 0


def whale_peak(rows: list[WhaleRow]) -> Peak:
    """The top of the curve: the smallest number of the most profitable customers whose
    cumulative profit is the greatest."""
    top = max(rows, key=lambda row: (row.cumulative_profit_eur, -row.profit_rank))
    total = rows[0].period_profit_eur
    return Peak(
        customers=top.profit_rank,
        customer_share=top.profit_rank / len(rows),
        cumulative_profit_eur=top.cumulative_profit_eur,
        profit_share=float(top.cumulative_profit_eur / total) if total > 0 else None,
    )


_ROWS_SQL = """
    select customer_id, segment, profit_after_service_eur, profit_rank, cumulative_profit_eur,
           period_profit_eur
    from marts.customer_profitability
    where period_start = ?
    order by profit_rank
"""


def whale_chart(warehouse: Path, out: Path, period: str | None = None, lang: str = "de") -> Drawn:
    """The whale curve of `period` (default: the latest) as a PNG at `out`."""
    fig, label = whale_figure(warehouse, period, lang)
    return Drawn(save(fig, out), label)


def whale_figure(warehouse: Path, period: str | None = None, lang: str = "de"):
    """The whale-curve figure of `period` and the period's label."""
    with Warehouse(warehouse).reader() as con:
        chosen = choose_period(con, period)
        rows = records(con, WhaleRow, _ROWS_SQL, [chosen.start])
        seed = segments(con)
    label = period_label(chosen, lang)
    return draw_whale(rows, seed, label, lang), label


def draw_whale(rows: list[WhaleRow], seed: list[Segment], label: str, lang: str = "de"):
    """The whale-curve figure of one period's rows, ranked by profit, the loss-making ones
    coloured by the segments of the seed."""
    plt = pyplot()
    total = rows[0].period_profit_eur
    as_share = total > 0
    count = len(rows)
    x = [0.0] + [row.profit_rank / count for row in rows]
    y = [0.0] + [float(row.cumulative_profit_eur / total) if as_share
                 else float(row.cumulative_profit_eur) for row in rows]
    peak = whale_peak(rows)
    losses = [row for row in rows if row.profit_after_service_eur < 0]

    fig, ax = plt.subplots(figsize=(11, 7.5), dpi=110)
    ax.plot(x, y, color="#333333", linewidth=1.6, zorder=2,
            label=text("whale_curve", lang, n=count))
    for segment, colour in segment_colours(seed):
        mine = [row for row in losses if row.segment == segment.code]
        if mine:
            ax.scatter([x[row.profit_rank] for row in mine], [y[row.profit_rank] for row in mine],
                       s=22, color=colour, zorder=3,
                       label=text("whale_eroding", lang, segment=segment.label(lang),
                                  n=len(mine)))
    if losses:
        ax.axvspan(x[losses[0].profit_rank - 1], 1.0, color="#f6e2dc", zorder=0,
                   label=text("whale_loss_zone", lang, n=len(losses)))
    if as_share:
        ax.axhline(1.0, color="#999999", linestyle="--", linewidth=1, zorder=1,
                   label=text("whale_total_line", lang))
        ax.yaxis.set_major_formatter(_percent_formatter(lang))
        ax.set_ylabel(text("whale_y", lang))
        note = text("whale_peak", lang, customers=percent(peak.customer_share, lang, 0),
                    profit=percent(peak.profit_share, lang, 0))
        note += "\n" + text("whale_peak_detail", lang,
                             profit=money(peak.cumulative_profit_eur, lang, 0),
                             total=money(total, lang, 0))
    else:
        ax.yaxis.set_major_formatter(_eur_formatter(lang))
        ax.set_ylabel(text("whale_y_eur", lang))
        note = text("whale_peak_eur", lang, customers=percent(peak.customer_share, lang, 0),
                    profit=money(peak.cumulative_profit_eur, lang, 0))
    peak_y = y[peak.customers]
    ax.scatter([peak.customer_share], [peak_y], s=60, facecolor="white", edgecolor="black",
               zorder=4)
    ax.set_xlim(0, 1)
    ax.set_ylim(min(0.0, min(y)) * 1.05, max(y) * 1.12 if max(y) > 0 else 1)
    ax.xaxis.set_major_formatter(_percent_formatter(lang))
    ax.set_xlabel(text("whale_x", lang))
    ax.set_title(text("whale_title", lang, period=label) + "\n"
                 + text("whale_subtitle", lang, total=money(total, lang, 0), customers=count,
                        losses=len(losses)), fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False, fontsize=9)
    ax.grid(True, alpha=0.2)
    fig.tight_layout()
    _annotate_peak(fig, ax, note, x, y, (peak.customer_share, peak_y))
    return fig


_NOTE_STYLE = dict(fontsize=11, fontweight="bold", multialignment="center",
                   bbox=dict(boxstyle="round", facecolor="white", edgecolor="#999999"))


def _annotate_peak(fig, ax, note: str, x: list[float], y: list[float],
                   peak: tuple[float, float]) -> None:
    """The note on the peak, in the empty room below the curve, with a short arrow up to the
    peak that crosses no line of the curve.

    The curve rises to the peak and falls after it, so the room under it is free: the box
    goes as high as the lowest point of the curve above its width allows (less a margin),
    placed centred on the peak, left of it or right of it, whichever gives the shortest
    arrow. When there is no such room (a box wider than the plot, a curve at the bottom),
    the note stands in the lower right corner of the plot without an arrow."""
    import numpy as np

    probe = ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="left", va="top",
                    **_NOTE_STYLE)
    fig.canvas.draw()  # lays out the text and its box
    renderer = fig.canvas.get_renderer()
    text_box = probe.get_window_extent(renderer)
    patch = probe.get_bbox_patch().get_window_extent(renderer)
    probe.remove()
    # the box's size in axes fractions, and how far it reaches beyond its text
    axes_box = ax.get_window_extent(renderer)
    width, height = patch.width / axes_box.width, patch.height / axes_box.height
    pad_x = (text_box.x0 - patch.x0) / axes_box.width
    pad_y = (patch.y1 - text_box.y1) / axes_box.height
    bottom, top = ax.get_ylim()
    span = top - bottom
    ys = (np.asarray(y) - bottom) / span
    peak_x, peak_y = peak[0], (peak[1] - bottom) / span
    margin, edge = 0.04, 0.01

    best = None
    for left in (peak_x - width / 2, peak_x - width, peak_x):
        left = min(max(left, edge), 1 - edge - width)
        if left < edge:
            continue  # wider than the plot
        under = np.linspace(left, left + width, 200)
        box_top = float(np.interp(under, x, ys).min()) - margin
        if box_top - height < edge or box_top >= peak_y:
            continue
        start_x = min(max(peak_x, left + 0.05 * width), left + 0.95 * width)
        length = float(np.hypot(start_x - peak_x, peak_y - box_top))
        if best is None or length < best[0]:
            best = (length, left, box_top, start_x)
    if best is None:
        ax.text(1 - edge, edge, note, transform=ax.transAxes, ha="right", va="bottom",
                zorder=5, **_NOTE_STYLE)
        return
    _, left, box_top, start_x = best
    text_width = width - 2 * pad_x
    ax.annotate(note, xy=peak, xycoords="data", xytext=(left + pad_x, box_top - pad_y),
                textcoords="axes fraction", ha="left", va="top", zorder=5,
                arrowprops=dict(arrowstyle="->", color="black", shrinkA=0, shrinkB=5,
                                relpos=((start_x - left - pad_x) / text_width, 1.0)),
                **_NOTE_STYLE)


def _percent_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: percent(value, lang, 0))


def _eur_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: money(value, lang, 0))
