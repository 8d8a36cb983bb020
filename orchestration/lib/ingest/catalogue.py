"""The service catalogue's codes, read from the dbt seed (its one source)."""

from __future__ import annotations

import csv
from pathlib import Path

from orchestration import settings


def read_catalogue(path: Path = settings.SERVICE_CATALOGUE_CSV) -> frozenset[str]:
    """The service_type_code values of the seed `service_catalogue`."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return frozenset(row["service_type_code"].strip() for row in csv.DictReader(handle))
