"""Publishing a build: the engine's marts become files, the next catalog the published one.

Runs after dbt built and checked everything, under the writer's lock:
1. with the next catalog attached to the engine's database: export the marts (marts.py),
   copy the seeds, recreate the raw views, record the rules fingerprint and the dbt vars,
   forget retired files old enough to go;
2. publish the next catalog by fsync and atomic rename (catalog.publish_next);
3. mark the engine's database as that published state (build_state.mark_published);
4. delete the files no catalog names any more (catalog.collect_garbage).
A failure before step 2 leaves the published catalog as it was, byte for byte; the engine's
database stays marked unfinished, so the next run builds it again from the raw zone. A load
that received SIGINT or SIGTERM (processes.interrupted) stops before step 1 or 2, even where
the interrupt's exception was swallowed on its way. Steps 2 to 4 run with interrupts held
(processes.interrupts_held): one that comes while the catalog is replaced takes effect once
the store's bookkeeping is done.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from orchestration.lib.ingest import writing
from orchestration.lib.processes import interrupted, interrupts_held
from orchestration.lib.sql import sql_literal
from orchestration.lib.warehouse import build_state, catalog, marts
from orchestration.lib.warehouse.store import ENGINE_DATABASE, Store

NEXT = "cvm_next"
EXPORT_MEMORY_LIMIT = "1GB"


class NothingToPublish(RuntimeError):
    """No unpublished build in the engine's database."""


@dataclass(frozen=True)
class Published:
    digest: str  # sha256 of the published catalog
    version: int
    full: bool
    exported: list[marts.Exported]
    deleted_files: int


def publish(store: Store) -> Published:
    """Publish the last build of the store's engine with the next catalog (see the module
    docstring)."""
    if interrupted():  # told to stop already: not even the export
        raise KeyboardInterrupt
    built = build_state.read_state(store.engine_database)
    if built is None or built.is_finished:
        raise NothingToPublish(f"{store.engine_database}: no unpublished build; build with dbt "
                               "first")
    con = duckdb.connect(str(store.engine_database), config={
        # the export sorts each month of the big facts: bounded memory, spilling if need be
        "memory_limit": EXPORT_MEMORY_LIMIT, "temp_directory": str(store.root / "tmp"),
        "preserve_insertion_order": False,
    })
    try:
        con.execute(f"attach {sql_literal(store.next_catalog)} as {NEXT}")
        con.execute(f"use {NEXT}")
        con.execute("begin transaction")
        found = catalog.state(con)
        if found.version != built.catalog_version:
            raise RuntimeError(
                f"{store.next_catalog}: version {found.version}, but the build started from "
                f"version {built.catalog_version}; not published"
            )
        exported = marts.export_marts(con, store, built.is_full, found.version + 1)
        marts.copy_reference(con)
        writing.refresh_raw_views(con)
        con.execute("update meta.catalog set rules_fingerprint = ?, dbt_vars = ?",
                    [built.rules_fingerprint, built.dbt_vars])
        catalog.expire_retired(con)
        files = catalog.raw_files(con)
        version = found.version + 1
        con.execute("commit")
        con.execute(f"use {ENGINE_DATABASE}")
        con.execute(f"detach {NEXT}")
    finally:
        con.close()
    with interrupts_held():
        if interrupted():  # told to stop: the published catalog stays as it was
            raise KeyboardInterrupt
        publication = catalog.publish_next(store)
        build_state.mark_published(store, version, files)
        deleted = catalog.collect_garbage(store, publication.named)
    return Published(publication.digest, version, built.is_full, exported, deleted)
