"""What the charts share: matplotlib without a display, one colour per segment, the result."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from orchestration.lib.reports.reference import Segment

# one colour per segment, in the seed's display order
PALETTE = ("#1b9e77", "#7570b3", "#d95f02", "#757575")


class Drawn(NamedTuple):
    path: Path
    label: str  # the period as the chart names it


def pyplot():
    """matplotlib's pyplot, drawing to files only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def segment_colours(segments: list[Segment]) -> list[tuple[Segment, str]]:
    """Each segment of the seed (`reference.segments`, in display order) with its colour."""
    return list(zip(segments, PALETTE, strict=False))


def save(fig, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    pyplot().close(fig)
    return out
