"""The portfolio's segments as the seed `segments` defines them: names, display order, the
quadrant each one holds, labels and strategies. Read from dbt_project/seeds/segments.csv."""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import NamedTuple

from orchestration import settings

SEGMENTS_CSV = settings.SEEDS_DIR / "segments.csv"


class Segment(NamedTuple):
    segment: str
    classic_value_level: str  # high | low
    value_transfer_level: str  # high | low
    display_order: int
    label_de: str
    label_en: str
    strategy: str
    strategy_de: str


@functools.cache
def read_segments(path: Path = SEGMENTS_CSV) -> tuple[Segment, ...]:
    """The segments in display order."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [
            Segment(
                segment=row["segment"], classic_value_level=row["classic_value_level"],
                value_transfer_level=row["value_transfer_level"],
                display_order=int(row["display_order"]), label_de=row["segment_label_de"],
                label_en=row["segment_label_en"], strategy=row["strategy"],
                strategy_de=row["strategy_de"],
            )
            for row in csv.DictReader(handle)
        ]
    return tuple(sorted(rows, key=lambda s: s.display_order))
