"""What a person sees after a load: a short summary and the portfolio chart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

SEGMENT_ORDER = ("invest", "develop", "renegotiate", "opportunistic")
SEGMENT_COLOURS = {
    "invest": "#1b9e77",
    "develop": "#7570b3",
    "renegotiate": "#d95f02",
    "opportunistic": "#9e9e9e",
}
SEGMENT_LABELS_EN = {
    "invest": "invest",
    "develop": "develop",
    "renegotiate": "renegotiate",
    "opportunistic": "opportunistic",
}


def _eur(value) -> str:
    return f"{float(value or 0):>14,.0f} €"


def print_summary(
    warehouse: Path, extract_dates: list[str], echo: Callable[[str], None] = print
) -> None:
    """Folders loaded, rows loaded and rejected by reason, and the latest period by segment."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        echo("")
        echo("Summary")
        echo(f"  warehouse: {warehouse}")
        echo(f"  deliveries loaded in this run: {len(extract_dates)}"
             + (f" ({extract_dates[0]} … {extract_dates[-1]})" if extract_dates else ""))
        where = "where extract_date in (select unnest(?::date[]))"
        loaded = con.execute(
            f"select entity, sum(rows_read), sum(rows_loaded), sum(rows_rejected) "
            f"from audit.load_log {where} group by entity order by entity",
            [extract_dates],
        ).fetchall()
        for entity, read, ok, rejected in loaded:
            echo(f"  {entity:<20} read {read:>10,}  loaded {ok:>10,}  rejected {rejected:>7,}")
        reasons = con.execute(
            f"select reason, count(*), count(*) filter (where is_open) from audit.rejected_rows "
            f"{where} group by reason order by reason",
            [extract_dates],
        ).fetchall()
        if reasons:
            echo("  rejected rows by reason (open = waiting for a customer snapshot that "
                 "brings the customer):")
            for reason, count, still_open in reasons:
                echo(f"    {reason:<24} {count:>7,}  open {still_open:>7,}")
        period = con.execute(
            "select max(period_start), max(period_end) from marts.customer_value "
            "where period_start = (select max(period_start) from marts.customer_value)"
        ).fetchone()
        if period[0] is None:
            echo("  no customer values yet")
            return
        echo(f"  latest period {period[0]} … {period[1]}:")
        echo(f"    {'segment':<14} {'customers':>9} {'revenue':>16} {'value transfer':>16}")
        rows = con.execute(
            "select segment, customers, revenue_eur, value_transfer_eur "
            "from marts.segment_summary where period_start = ? order by segment",
            [period[0]],
        ).fetchall()
        for segment, customers, revenue, transfer in sorted(
            rows, key=lambda r: SEGMENT_ORDER.index(r[0]) if r[0] in SEGMENT_ORDER else 9
        ):
            echo(f"    {segment:<14} {customers:>9} {_eur(revenue)} {_eur(transfer)}")
    finally:
        con.close()


def portfolio_chart(warehouse: Path, out: Path) -> Path:
    """The latest period's 2x2 portfolio: classic value (x) against value transfer (y)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            """
            select classic_value_eur, value_transfer_eur, revenue_eur, segment,
                   segment_label_de, classic_threshold, value_transfer_threshold,
                   period_start, period_end
            from marts.customer_value
            where period_start = (select max(period_start) from marts.customer_value)
            """
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise RuntimeError(f"{warehouse}: marts.customer_value is empty; nothing to chart")

    classic = np.array([float(r[0]) for r in rows])
    transfer = np.array([float(r[1]) for r in rows])
    revenue = np.array([max(float(r[2]), 0.0) for r in rows])
    segments = [r[3] for r in rows]
    labels_de = {r[3]: r[4] for r in rows}
    x_cut, y_cut = float(rows[0][5]), float(rows[0][6])
    period = f"{rows[0][7]} – {rows[0][8]}"

    # Log axes read better for Pareto-like values; values <= 0 sit on the floor of the axis.
    x_floor = max(1.0, np.percentile(classic[classic > 0], 1) / 2 if (classic > 0).any() else 1)
    y_floor = max(1.0, np.percentile(transfer[transfer > 0], 1) / 2 if (transfer > 0).any() else 1)
    x = np.clip(classic, x_floor, None)
    y = np.clip(transfer, y_floor, None)
    size = 20 + 900 * np.sqrt(revenue / revenue.max()) if revenue.max() > 0 else 40

    fig, ax = plt.subplots(figsize=(11, 8), dpi=110)
    for segment in SEGMENT_ORDER:
        mask = np.array([s == segment for s in segments])
        if not mask.any():
            continue
        ax.scatter(
            x[mask], y[mask], s=size[mask] if np.ndim(size) else size, alpha=0.6,
            color=SEGMENT_COLOURS[segment], edgecolors="white", linewidths=0.6,
            label=f"{labels_de.get(segment, segment)} / {SEGMENT_LABELS_EN[segment]} "
                  f"({int(mask.sum())})",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axvline(max(x_cut, x_floor), color="#333", linestyle="--", linewidth=1)
    ax.axhline(max(y_cut, y_floor), color="#333", linestyle="--", linewidth=1)
    ax.set_xlabel("Classic customer value (value FROM the customer), € — log scale")
    ax.set_ylabel("Value transfer (value TO the customer: free services at standard cost), € "
                  "— log scale")
    ax.set_title(f"Customer-value portfolio {period}\n"
                 f"thresholds: classic value {x_cut:,.0f} €, value transfer {y_cut:,.0f} € "
                 "(dashed); bubble size = revenue")
    corner = dict(fontsize=11, fontweight="bold", alpha=0.75, transform=ax.transAxes)
    ax.text(0.02, 0.97, "renegotiate\nProblemgruppe: nachverhandeln", va="top",
            color=SEGMENT_COLOURS["renegotiate"], **corner)
    ax.text(0.98, 0.97, "invest\nInvestitionskunden", va="top", ha="right",
            color=SEGMENT_COLOURS["invest"], **corner)
    ax.text(0.02, 0.03, "opportunistic\nOpportunistisch betreuen", va="bottom",
            color="#666", **corner)
    ax.text(0.98, 0.03, "develop\nWin-Win-Potenziale prüfen", va="bottom", ha="right",
            color=SEGMENT_COLOURS["develop"], **corner)
    legend = ax.legend(title="Segment (de / en, customers)", loc="upper center",
                       bbox_to_anchor=(0.5, -0.09), ncol=2, frameon=False, markerscale=0.5)
    for handle in legend.legend_handles:
        handle.set_sizes([80])
    ax.grid(True, which="major", alpha=0.2)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
