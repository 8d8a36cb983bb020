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
from orchestration.lib.reports.queries import Segment, Warehouse, segments
from orchestration.lib.reports.translations import money, percent, text


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
        rows = [WhaleRow(*row) for row in con.execute(_ROWS_SQL, [chosen.start]).fetchall()]
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
    ax.annotate(note, xy=(peak.customer_share, peak_y), xytext=(0.45, 0.1),
                textcoords="axes fraction", ha="center", fontsize=11, fontweight="bold",
                arrowprops=dict(arrowstyle="->", color="black"),
                bbox=dict(boxstyle="round", facecolor="white", edgecolor="#999999"))
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
    return fig


def _percent_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: percent(value, lang, 0))


def _eur_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: money(value, lang, 0))
