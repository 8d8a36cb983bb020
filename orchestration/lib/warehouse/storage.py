"""The warehouse files: a work copy that the nightly job writes, and the published file.

Analysts open the published file read-only. The nightly job writes only the work copy and
publishes it, once every blocking check has passed, by copying it next to the published file
and renaming it into place. A rename is atomic, so a reader sees either the old file or the new
one; a reader that already has the old file open keeps reading the old file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from orchestration.lib.landing import sha256_of
from orchestration.settings import work_path


def prepare_work_copy(published: Path) -> Path:
    """Return the work copy's path; seed it from the published file the first time."""
    work = work_path(published)
    work.parent.mkdir(parents=True, exist_ok=True)
    if not work.exists() and published.exists():
        shutil.copyfile(published, work)
    return work


def checkpoint(path: Path) -> None:
    """Fold DuckDB's write-ahead log into the file, so that one file holds everything."""
    con = duckdb.connect(str(path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def publish(published: Path) -> str:
    """Copy the work copy next to ``published`` and rename it into place. Returns its sha256."""
    work = work_path(published)
    if not work.exists():
        raise FileNotFoundError(f"{work}: no work copy to publish")
    checkpoint(work)
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(published.name + ".tmp")
    shutil.copyfile(work, tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, published)
    return sha256_of(published)
