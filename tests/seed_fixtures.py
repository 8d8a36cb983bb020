"""The seeds as the tests read them: straight from the CSV files, independent of the warehouse."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

from orchestration.settings import SEEDS_DIR


class SeedSegment(NamedTuple):
    segment: str
    classic_value_level: str
    value_transfer_level: str
    display_order: int
    label_de: str
    label_en: str
    strategy: str
    strategy_de: str


def seed_segments(path: Path = SEEDS_DIR / "segments.csv") -> list[SeedSegment]:
    """The rows of the seed `segments`, in display order."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = [
            SeedSegment(row["segment"], row["classic_value_level"], row["value_transfer_level"],
                        int(row["display_order"]), row["segment_label_de"],
                        row["segment_label_en"], row["strategy"], row["strategy_de"])
            for row in csv.DictReader(handle)
        ]
    return sorted(rows, key=lambda s: s.display_order)
