"""Source adapters: native files of real systems in, rows of the three extracts out.

A delivery may hold, next to the extracts, a folder per system (`salesforce/`, `sap/`) with
the system's native files named by object or table (`salesforce/Task.csv`, `sap/VBRP.csv`).
Each native file that yields facts (`FACT_FILES` of its adapter) is one load of its extract,
logged under its own name (`<date>/<system>/<file>`); base.py says how.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.ingest.adapters import base, dynamics, hubspot, salesforce, sap, zendesk
from orchestration.lib.ingest.spec import ENTITIES

ADAPTERS = {module.SYSTEM: module
            for module in (dynamics, hubspot, salesforce, sap, zendesk)}


@dataclass(frozen=True)
class NativeFile:
    """A native file that yields facts, and what its rows become."""

    system: str
    name: str  # e.g. Task.csv
    entity: str
    path: Path

    @property
    def relative(self) -> str:
        """Its name within the delivery, e.g. 'salesforce/Task.csv'."""
        return f"{self.system}/{self.name}"

    @property
    def headers(self) -> list[Path]:
        """The header files that its rows are read with: of every delivery of the landing
        root (the latest version of a header counts, base.Context.headers)."""
        names = ADAPTERS[self.system].HEADER_FILES.get(self.name, ())
        root = self.path.parent.parent.parent
        return [folder / n for folder in base.system_folders(root, self.system)
                for n in names if (folder / n).is_file()]


def native_files(delivery: Path, entity: str | None = None) -> list[NativeFile]:
    """The delivery's native files that yield facts (of `entity` when given), customers
    first, then by system and in each adapter's order."""
    found = []
    for system, module in sorted(ADAPTERS.items()):
        folder = Path(delivery) / system
        if not folder.is_dir():
            continue
        for name, target in module.FACT_FILES.items():
            if (folder / name).is_file() and entity in (None, target):
                found.append(NativeFile(system, name, target, folder / name))
    return sorted(found, key=lambda f: ENTITIES.index(f.entity))


def known_names(system: str) -> set[str]:
    """The file names an adapter reads: its fact files and their header files."""
    module = ADAPTERS[system]
    return set(module.FACT_FILES) | {h for names in module.HEADER_FILES.values() for h in names}


def fingerprints(delivery: Path, digest_of: Callable[[Path], str],
                 mappings: Path | None = None, seeds: Path | None = None) -> dict[str, str]:
    """The digest of each native load of the delivery, by its name in the delivery: its
    file, its header files, the system's mapping and the seeds; any of them changed, the
    native file is loaded again."""
    result = {}
    for native in native_files(delivery):
        result[native.relative] = load_digest(native, digest_of, mappings, seeds)
    return result


def load_digest(native: NativeFile, digest_of: Callable[[Path], str],
                mappings: Path | None = None, seeds: Path | None = None) -> str:
    mapping = base.Mapping(native.system, mappings)
    parts = [digest_of(native.path).encode(),
             *(f"{h.parent.parent.name}/{h.name}={digest_of(h)}".encode()
               for h in native.headers),
             mapping.text(), base.Seeds(seeds).text()]
    return base.digest(*parts)


def load_native(con, landing_root, extract_date, entity: str, *, force: bool = False,
                catalogue: frozenset[str] | None = None, mappings: Path | None = None,
                seeds: Path | None = None) -> list:
    """Load the native files of one delivery that yield `entity`; their LoadResults (the
    loader's), in order. A mapping that cannot be read raises base.MappingError."""
    from orchestration.lib.ingest.dialect import UndecodableFile
    from orchestration.lib.ingest.loader import FileRefused, load_records
    from orchestration.lib.ingest.reading import UnreadableFile
    from orchestration.lib.landing import sha256_of

    date = extract_date if isinstance(extract_date, dt.date) else \
        dt.date.fromisoformat(str(extract_date))
    delivery = Path(landing_root) / date.isoformat()
    seed_data = base.Seeds(seeds)
    results = []
    for native in native_files(delivery, entity):
        module = ADAPTERS[native.system]
        mapping = base.Mapping(native.system, mappings)
        ctx = base.Context(Path(landing_root), date, native.system, mapping, seed_data,
                           module.REQUIRED)
        sha = load_digest(native, sha256_of, mappings, seeds)
        source_file = f"{date.isoformat()}/{native.relative}"

        def write(path, native=native, module=module, ctx=ctx, source_file=source_file):
            try:
                rows = base.read_native(native.path, module.REQUIRED.get(native.name, ()))
                return module.translate(native.name, rows, ctx).writer()(path)
            except base.NativeRefused as error:
                raise FileRefused(str(error)) from None
            except (UnreadableFile, UndecodableFile) as error:
                raise FileRefused(f"{source_file}: {error}") from None

        results.append(load_records(con, date, entity, source_file, sha, write, force=force,
                                    catalogue=catalogue))
    return results
