"""The landing root: which deliveries exist, what they hold, what is not loaded yet."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

# Load order within a delivery: customers first, so that orders and activities of a customer
# who arrives in the same delivery are not rejected as unknown.
ENTITIES = ("customers", "orders", "service_activities")


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


def scan(landing_root: Path) -> tuple[list[Delivery], list[str]]:
    """Deliveries in date order, and the names of folders ignored because they are no date."""
    deliveries, ignored = [], []
    if not landing_root.is_dir():
        return deliveries, ignored
    for child in sorted(landing_root.iterdir()):
        if not child.is_dir():
            continue
        try:
            extract_date = date.fromisoformat(child.name)
        except ValueError:
            ignored.append(child.name)
            continue
        if child.name != extract_date.isoformat():  # e.g. 20261121 parses in 3.11
            ignored.append(child.name)
            continue
        deliveries.append(Delivery(extract_date, child))
    return deliveries, ignored


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
