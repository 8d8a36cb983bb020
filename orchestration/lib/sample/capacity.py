"""Capacity data for the sample: what the demo's departments cost and how many minutes they
supply, in the form of the seed `capacity_inputs` (dbt_project/seeds/).

Consistent with the sample's activities: per department and year, the people are those that
give the minutes the department's generated activities took a practical capacity used to
TARGET_USE (rounded up to hundredths of a person), so that the demo shows some unused
capacity; the cost is the department's COST_PER_PERSON_YEAR_EUR per person. The rates the
warehouse derives from it (cost * 60 / practical minutes) lie near the typed rates of the
sample's services.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

from orchestration.lib.sample.reference import EPOCH

# what a person of the department costs a year: personnel, space, equipment, IT
COST_PER_PERSON_YEAR_EUR = {"Anwendungstechnik": Decimal("84000.00"),
                            "Innendienst": Decimal("66000.00")}
CAPACITY_DEPARTMENTS = tuple(COST_PER_PERSON_YEAR_EUR)
WORKING_DAYS = 220
MINUTES_PER_DAY = 450
PRACTICAL_SHARE = Decimal("0.80")
TARGET_USE = Decimal("0.75")
COLUMNS = ("capacity_id", "department", "valid_from", "valid_to", "capacity_cost_eur",
           "theoretical_minutes", "people", "working_days", "minutes_per_day", "practical_share")


class UsedMinutes:
    """The minutes of the generated activities, per department and year."""

    def __init__(self) -> None:
        self.minutes: dict[tuple[str, int], int] = defaultdict(int)

    def add(self, departments: list[str], department: np.ndarray, day: np.ndarray,
            minutes: np.ndarray) -> None:
        years = (np.datetime64(EPOCH.isoformat()) + day.astype("timedelta64[D]")).astype(
            "datetime64[Y]").astype(int) + 1970
        for index, year, used in zip(department, years, minutes, strict=True):
            self.minutes[(departments[int(index)], int(year))] += int(used)


def capacity_rows(used: dict[tuple[str, int], int],
                  departments: tuple[str, ...] = CAPACITY_DEPARTMENTS) -> list[dict]:
    """One capacity version per department of `departments` and year with used minutes."""
    per_person = PRACTICAL_SHARE * WORKING_DAYS * MINUTES_PER_DAY * TARGET_USE
    rows = []
    for (department, year), minutes in sorted(used.items()):
        if department not in departments or minutes <= 0:
            continue
        people = Decimal(math.ceil(Decimal(minutes) * 100 / per_person)) / 100
        rows.append({
            "capacity_id": f"{department[:3].upper()}-{year}",
            "department": department,
            "valid_from": date(year, 1, 1).isoformat(),
            "valid_to": date(year + 1, 1, 1).isoformat(),
            "capacity_cost_eur": f"{COST_PER_PERSON_YEAR_EUR[department] * people:.2f}",
            "theoretical_minutes": "",
            "people": f"{people:.2f}",
            "working_days": str(WORKING_DAYS),
            "minutes_per_day": str(MINUTES_PER_DAY),
            "practical_share": f"{PRACTICAL_SHARE:.2f}",
        })
    return rows


def write_capacity(path: Path, rows: list[dict]) -> Path:
    """The rows as the seed's CSV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
