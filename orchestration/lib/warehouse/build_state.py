"""The engine's working database: dbt's target, and a cache of the last published state.

It holds what dbt builds (staging and intermediate relations, the incremental tables, the
marts) and records the state it was built from: the catalog version, the rules fingerprint
and the raw files it has taken in (schema `cvm_state`). Before dbt runs, `prepare` compares
that record with the next catalog:

- a full build when the database is missing, when it is not the published state (a run
  failed or was killed after dbt touched it), when the rules changed, or when asked for: the
  file is deleted and dbt builds everything from the raw zone;
- else an incremental build over the delta: the raw files added since (new loads, released
  rows) and retired since (deliveries loaded again).

Either way it (re)creates what dbt reads besides the seeds:
- `raw.<entity>`: views over the catalog's current raw files (the dbt sources);
- `cvm_delta.<entity>`: the rows of the added files (what a build over the delta tests of the
  extract as delivered, dbt's source `raw.<entity>`);
- `cvm_delta.<entity>_keys`: the touched keys, those of the added and of the retired files;
- `cvm_delta.<mart>_partitions`: the partitions of the partitioned marts that the touched
  keys occupy before the build (publish.py adds those they occupy after it);
- `cvm_delta.customer_periods`: the customers and periods the touched keys occupy in those
  marts before the build, whose totals dbt recomputes (with those they occupy after it).

The database is marked unfinished before dbt runs and finished, with the new catalog version,
only after the catalog is published (`mark_published`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib.ingest.spec import SPECS
from orchestration.lib.sql import has_table, quote_ident, read_only
from orchestration.lib.warehouse.catalog import RawFile, create_raw_views, raw_view_sql
from orchestration.lib.warehouse.marts import PARTITIONED_MARTS, partition_sql
from orchestration.lib.warehouse.store import Store

STATE_DDL = (
    "create schema if not exists cvm_state",
    """create table if not exists cvm_state.build (
        catalog_version BIGINT, rules_fingerprint VARCHAR, dbt_vars VARCHAR, is_full BOOLEAN,
        is_finished BOOLEAN)""",
    "create table if not exists cvm_state.raw_files (path VARCHAR)",
)
DELTA = "cvm_delta"
# the customers and periods the touched keys occupy in the facts before the build
CUSTOMER_PERIODS = f"{DELTA}.customer_periods"


@dataclass(frozen=True)
class EngineState:
    catalog_version: int | None
    rules_fingerprint: str | None
    dbt_vars: str | None  # JSON of the vars in effect
    is_full: bool  # the last build was a full one
    is_finished: bool  # published (else a build is under way, or stopped)
    raw_files: frozenset[str]


def read_state(path: Path) -> EngineState | None:
    """What the engine's database was built from, or None when there is none."""
    if not path.exists():
        return None
    with read_only(path) as con:
        if not has_table(con, "cvm_state", "build"):
            return None
        row = con.execute("select * from cvm_state.build").fetchone()
        files = frozenset(r[0] for r in con.execute("select path from cvm_state.raw_files")
                          .fetchall())
    if row is None:
        return None
    return EngineState(row[0], row[1], row[2], bool(row[3]), bool(row[4]), files)


@dataclass(frozen=True)
class BuildPlan:
    """What the next dbt build does: everything (`full`, and why) or the delta."""

    full: bool
    reason: str
    added: dict[str, list[str]] = field(default_factory=dict)  # entity -> raw files
    retired: dict[str, list[str]] = field(default_factory=dict)  # entity -> raw files
    # the build's number, the catalog version it publishes: the incremental models' rows
    # carry the number of the build that wrote them (`written_in_build`, macro build_number)
    number: int = 0

    @property
    def has_delta(self) -> bool:
        return any(self.added.values()) or any(self.retired.values())


def plan_build(state: EngineState | None, catalog_version: int, fingerprint: str,
               files: list[RawFile], full_refresh: bool = False) -> BuildPlan:
    """Full or incremental, and the delta, for an engine in `state`, the published catalog
    `catalog_version`, the rules `fingerprint` and the next catalog's raw `files`."""
    reason = None
    if full_refresh:
        reason = "a full refresh was asked for"
    elif state is None:
        reason = "first build"
    elif not state.is_finished or state.catalog_version != catalog_version:
        reason = "the working database is not the published state (an earlier run stopped)"
    elif state.rules_fingerprint != fingerprint:
        reason = "the rules changed (models, macros, seeds, tests or dbt vars)"
    number = catalog_version + 1
    if reason:
        return BuildPlan(True, reason, number=number)
    now = {f.path: f.entity for f in files}
    added: dict[str, list[str]] = {name: [] for name in SPECS}
    retired: dict[str, list[str]] = {name: [] for name in SPECS}
    for path, entity in now.items():
        if path not in state.raw_files:
            added[entity].append(path)
    for path in sorted(state.raw_files - now.keys()):
        entity = path.split("/")[1]  # raw/<entity>/extract_date=.../<id>.parquet
        retired[entity].append(path)
    return BuildPlan(False, "incremental", added, retired, number)


def _delete(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def prepare(store: Store, plan: BuildPlan, files: list[RawFile], catalog_version: int,
            fingerprint: str, dbt_vars: str) -> None:
    """Make the engine's database ready for dbt (see the module docstring) and mark it
    unfinished."""
    path = store.engine_database
    path.parent.mkdir(parents=True, exist_ok=True)
    if plan.full:
        _delete(path)
    con = duckdb.connect(str(path))
    try:
        for statement in STATE_DDL:
            con.execute(statement)
        con.execute("delete from cvm_state.build")
        con.execute("insert into cvm_state.build values (?, ?, ?, ?, false)",
                    [catalog_version, fingerprint, dbt_vars, plan.full])
        con.execute("checkpoint")
        create_raw_views(con, store, files)
        _delta(con, store, plan)
    finally:
        con.close()


def _delta(con, store: Store, plan: BuildPlan) -> None:
    con.execute(f"create schema if not exists {DELTA}")
    for name, spec in SPECS.items():
        added = [str(store.path(p)) for p in plan.added.get(name, [])]
        retired = [str(store.path(p)) for p in plan.retired.get(name, [])]
        con.execute(f"create or replace view {DELTA}.{name} as {raw_view_sql(spec, added)}")
        key = ", ".join(quote_ident(k) for k in spec.key)
        sources = [f"select {key} from {DELTA}.{name}"]
        if retired:
            sources.append(f"select {key} from ({raw_view_sql(spec, retired)})")
        con.execute(
            f"create or replace table {DELTA}.{name}_keys as "
            f"select distinct {key} from ({' union all '.join(sources)})"
        )
    pairs = []
    for mart in PARTITIONED_MARTS:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = ?", [mart.table]
        ).fetchone()[0]
        target = f"{DELTA}.{mart.table}_partitions"
        if plan.full or not exists:
            con.execute(f"create or replace table {target} (partition_key VARCHAR)")
            continue
        # one pass over the mart: the touched keys' rows, their partition, customer and period
        touched = f"touched_{mart.table}"
        con.execute(
            f"create or replace temp table {touched} as "
            f"select {partition_sql(mart, 'm')} as partition_key, m.customer_id, m.period_start "
            f"from marts.{mart.table} as m where exists (select 1 from "
            f"{DELTA}.{mart.entity}_keys as k where {mart.key_match('m', 'k')})"
        )
        con.execute(f"create or replace table {target} as "
                    f"select distinct partition_key from {touched}")
        pairs.append(f"select customer_id, period_start from {touched}")
    con.execute(f"create or replace table {CUSTOMER_PERIODS} "
                "(customer_id VARCHAR, period_start DATE)")
    if pairs:
        con.execute(f"insert into {CUSTOMER_PERIODS} "
                    f"select distinct * from ({' union all '.join(pairs)})")


def mark_published(store: Store, catalog_version: int, files: list[RawFile]) -> None:
    """After the catalog is published: the engine's database is that state."""
    con = duckdb.connect(str(store.engine_database))
    try:
        con.execute("begin transaction")
        con.execute("delete from cvm_state.raw_files")
        if files:
            con.execute("insert into cvm_state.raw_files select unnest(?::varchar[])",
                        [[f.path for f in files]])
        con.execute("update cvm_state.build set catalog_version = ?, is_finished = true",
                    [catalog_version])
        con.execute("commit")
    finally:
        con.close()

