"""The landing root: which deliveries exist, what they hold, what is not loaded yet."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from orchestration.lib.ingest.spec import ENTITIES


@dataclass(frozen=True)
class Delivery:
    extract_date: date
    path: Path

    @property
    def partition_key(self) -> str:
        return self.extract_date.isoformat()

    def files(self) -> dict[str, Path]:
        """The extract files present, by entity, in load order."""
        found = {}
        for entity in ENTITIES:
            candidate = self.path / f"{entity}.csv"
            if candidate.is_file():
                found[entity] = candidate
        return found

    def strays(self) -> list[Path]:
        """What else the folder holds: files and folders that are none of the extracts (a
        misspelt name, `Orders.csv`, `orders.csv.bak`, a note, a folder named `orders.csv`).
        They are not loaded."""
        expected = {f"{entity}.csv" for entity in ENTITIES}
        return sorted(p for p in self.path.iterdir()
                      if p.name not in expected or not p.is_file())

    def fingerprint(self) -> dict[str, str]:
        """sha256 of each file, by file name."""
        return {path.name: sha256_of(path) for path in self.files().values()}

    def run_key(self) -> str:
        """Stable for identical bytes, different for a corrected re-delivery."""
        parts = [f"{name}={digest}" for name, digest in sorted(self.fingerprint().items())]
        combined = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
        return f"{self.partition_key}:{combined}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan(landing_root: Path, warn: Callable[[str], None] | None = None) -> list[Delivery]:
    """The deliveries under ``landing_root`` in date order.

    A folder whose name is not a date (YYYY-MM-DD) is ignored, and ``warn`` is told so; so
    is every file in a delivery that is none of the extracts (Delivery.strays).
    """
    deliveries = []
    if not landing_root.is_dir():
        return deliveries
    for child in sorted(landing_root.iterdir()):
        if not child.is_dir():
            continue
        try:
            extract_date = date.fromisoformat(child.name)
        except ValueError:
            extract_date = None
        # date.fromisoformat also takes 20261121 and the like
        if extract_date is None or child.name != extract_date.isoformat():
            if warn is not None:
                warn(f"{child}: not a date (YYYY-MM-DD), ignored")
            continue
        delivery = Delivery(extract_date, child)
        if warn is not None:
            names = ", ".join(f"{entity}.csv" for entity in ENTITIES)
            for stray in delivery.strays():
                warn(f"{stray}: not one of the extracts "
                     f"({names}), not loaded")
        deliveries.append(delivery)
    return deliveries


def pending(deliveries: list[Delivery], loaded: dict[str, str]) -> list[Delivery]:
    """Deliveries with a file whose sha256 differs from the one loaded (or never loaded).

    ``loaded`` maps ``source_file`` ('<date>/<name>', as in audit.load_log) to its sha256.
    """
    todo = []
    for delivery in deliveries:
        for name, digest in delivery.fingerprint().items():
            if loaded.get(f"{delivery.partition_key}/{name}") != digest:
                todo.append(delivery)
                break
    return todo
