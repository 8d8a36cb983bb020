"""The landing root: which deliveries exist, what they hold, what is not loaded yet."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from orchestration.lib.ingest.spec import ENTITIES

REFERENCE_FOLDER = "reference"  # controlling's files, not a delivery (reference_inputs.py)
# a file changed less than this before its hashing started may have changed again unseen
# (a coarse file system's clock ticks once in 2 s)
RACY_NS = 2_000_000_000


class Digests:
    """The sha256 of landing files, remembered by the file's identity: (size, mtime, ctime,
    inode), as git's index does. A file written again, in place or by a new copy, changes its
    identity and is hashed anew; an unchanged file is not read again each night. Kept in a
    JSON file (`path`, in the warehouse's store) when given; saved by replacing it whole.

    Each entry also keeps when its hashing started. A file changed again within one tick of
    the file system's clock after it was hashed keeps its size and times, so the ingest, which
    logs the sha256 of what it loads, takes a remembered digest only for a file last changed
    well before it was hashed (`known`, git's rule for "racily clean" files); it hashes any
    other itself."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._lock = threading.Lock()
        self._known: dict[str, list] = {}
        self._changed = False
        if path is not None and path.is_file():
            try:
                self._known = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._known = {}  # a broken cache is only a cache: hash again

    @staticmethod
    def _identity(path: Path) -> list:
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]

    def known(self, path: Path) -> str | None:
        """The sha256 remembered for the file as it is now (the same identity), without
        reading it; None when it is not known, or when the file was last changed less than
        RACY_NS before its hashing started (see the class docstring)."""
        try:
            _, identity, known = self._entry(path)
        except OSError:
            return None
        if known is None or len(known) < 6:
            return None
        changed = max(identity[1], identity[2])  # mtime, ctime
        return known[4] if changed + RACY_NS < known[5] else None

    def _entry(self, path: Path) -> tuple[str, list, list | None]:
        """The file's key and identity now, and its remembered entry if that identity's."""
        key = str(Path(path).resolve())
        identity = self._identity(path)
        with self._lock:
            known = self._known.get(key)
        return key, identity, known if known is not None and known[:4] == identity else None

    def of(self, path: Path) -> str:
        key, identity, known = self._entry(path)
        if known is not None:
            return known[4]
        started = time.time_ns()
        digest = sha256_of(path)
        if self._identity(path) == identity:  # not changed while it was read
            with self._lock:
                self._known[key] = [*identity, digest, started]
                self._changed = True
        return digest

    def save(self) -> None:
        """Write the cache when it learned something and its folder exists."""
        if self.path is None or not self._changed or not self.path.parent.is_dir():
            return
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        with self._lock:
            temp.write_text(json.dumps(self._known, sort_keys=True), encoding="utf-8")
            self._changed = False
        os.replace(temp, self.path)


@dataclass(frozen=True)
class Delivery:
    extract_date: date
    path: Path
    digests: Digests | None = field(default=None, compare=False, repr=False)

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
        misspelt name, `Orders.csv`, `orders.csv.bak`, a note, a folder named `orders.csv`),
        nor a source system's folder or a native file in it that its adapter reads
        (ingest/adapters/). They are not loaded."""
        from orchestration.lib.ingest.adapters import ADAPTERS, known_names

        expected = {f"{entity}.csv" for entity in ENTITIES}
        found = []
        for p in self.path.iterdir():
            if p.name in ADAPTERS and p.is_dir():
                names = known_names(p.name)
                found += [q for q in p.iterdir() if q.name not in names or not q.is_file()]
            elif p.name not in expected or not p.is_file():
                found.append(p)
        return sorted(found)

    def fingerprint(self) -> dict[str, str]:
        """sha256 of each file, by file name (from `digests` for a file unchanged since); a
        native file of a source system by its name in the delivery (`sap/VBRP.csv`), with a
        digest that also covers its header files and its mapping (adapters.fingerprints)."""
        from orchestration.lib.ingest.adapters import fingerprints

        digest = self.digests.of if self.digests is not None else sha256_of
        found = {path.name: digest(path) for path in self.files().values()}
        return found | fingerprints(self.path, digest)

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


def scan(landing_root: Path, warn: Callable[[str], None] | None = None,
         digests: Digests | None = None) -> list[Delivery]:
    """The deliveries under ``landing_root`` in date order; their files' sha256 come from
    ``digests`` when given.

    A folder whose name is not a date (YYYY-MM-DD) is ignored, and ``warn`` is told so; so
    is every file in a delivery that is none of the extracts (Delivery.strays). The folder
    `reference/` holds controlling's reference files (lib/warehouse/reference_inputs.py), no
    delivery.
    """
    deliveries = []
    if not landing_root.is_dir():
        return deliveries
    for child in sorted(landing_root.iterdir()):
        if not child.is_dir() or child.name == REFERENCE_FOLDER:
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
        delivery = Delivery(extract_date, child, digests)
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
