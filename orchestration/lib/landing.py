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

    A folder whose name is not a date (YYYY-MM-DD) is ignored, and ``warn`` is told so.
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
        deliveries.append(Delivery(extract_date, child))
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
