"""What the charts share: matplotlib without a display, one colour per segment, the result."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from orchestration.lib.reports.segments import Segment, read_segments

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


def segment_colours() -> list[tuple[Segment, str]]:
    """Each segment of the seed with its colour, in display order."""
    return list(zip(read_segments(), PALETTE, strict=False))


def segment_label(segment: Segment, lang: str) -> str:
    return segment.label_de if lang == "de" else segment.label_en


def save(fig, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    pyplot().close(fig)
    return out
