"""The portfolio chart of the latest period: classic value against value transfer."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.lib.reports.segments import read_segments

# one colour per segment, in the seed's display order
PALETTE = ("#1b9e77", "#7570b3", "#d95f02", "#757575")


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
                   classic_threshold, value_transfer_threshold, period_start, period_end
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
    segments = np.array([r[3] for r in rows])
    x_cut, y_cut = float(rows[0][4]), float(rows[0][5])
    period = f"{rows[0][6]} – {rows[0][7]}"

    # Log axes read better for Pareto-like values; values <= 0 sit on the floor of the axis.
    x_floor = max(1.0, np.percentile(classic[classic > 0], 1) / 2 if (classic > 0).any() else 1)
    y_floor = max(1.0, np.percentile(transfer[transfer > 0], 1) / 2 if (transfer > 0).any() else 1)
    x = np.clip(classic, x_floor, None)
    y = np.clip(transfer, y_floor, None)
    size = 20 + 900 * np.sqrt(revenue / revenue.max()) if revenue.max() > 0 else 40

    fig, ax = plt.subplots(figsize=(11, 8), dpi=110)
    corner = dict(fontsize=11, fontweight="bold", alpha=0.75, transform=ax.transAxes)
    for colour, segment in zip(PALETTE, read_segments(), strict=False):
        # the segment's quadrant: high classic value right, high value transfer on top
        right = segment.classic_value_level == "high"
        top = segment.value_transfer_level == "high"
        ax.text(0.98 if right else 0.02, 0.97 if top else 0.03,
                f"{segment.segment}\n{segment.label_de}", color=colour,
                ha="right" if right else "left", va="top" if top else "bottom", **corner)
        mask = segments == segment.segment
        if not mask.any():
            continue
        ax.scatter(
            x[mask], y[mask], s=size[mask] if np.ndim(size) else size, alpha=0.6,
            color=colour, edgecolors="white", linewidths=0.6,
            label=f"{segment.label_de} / {segment.label_en} ({int(mask.sum())})",
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
