"""A dbt build of the warehouse: the engine made ready, and what dbt runs with.

`prepare_build` opens the run's next catalog, plans the build from the engine's state
(build_state.py: full or the delta), makes the engine's database ready and returns a
`DbtBuild`: dbt's arguments and environment, and what follows a build that passed.

A load builds the dbt project in two parts (`PARTS`), with the purchase model's fit between
them (lib/clv): `facts` is everything but what reads the fit's forecast, `customer_value` is
what does (the potential, the segments and all that follows them). The first part prepares
the build and keeps its plan in the engine's folder (`BUILD_FILE`); the second takes it up
(`resume_build`), so that both parts build the same delta with the same vars.

A build over the delta leaves out what it cannot change (`kept_nodes`): the seeds, the models
that read no source (only seeds, directly or through other models) and the data tests that
test nothing else. A delta build runs only when the engine's database is the published state
and the rules (models, macros, seeds, tests, vars) are those it was built with
(build_state.plan_build), so each of these relations is the one the last build built and
tested, and the published catalog keeps it. A test of such a relation and of a relation the
delta touches (a relationship of a fact to a seed) still runs.

On DuckDB such a build keeps the views too (`Engine.keeps_views`): a view is a query that
DuckDB keeps by its text and binds when it is read, over relations it names; with the rules
unchanged its text is the one the last build made, so it reads what this build makes of the
relations it names. Its data tests still run: their relations changed. A view whose text
depends on the build's kind (`reads_build_kind`: the views of the costed activities and of
the order lines under the facts, which in a delta build show the touched keys only) is made
again in every build: kept from a full build, it would cost the whole history in every
night.

Each kind of engine is one `Engine` (`engine_for`): what it adds to dbt's vars before the
build, the dbt target it builds on, the environment dbt runs with, and what it does after a
build that passed. The choice between DuckDB and Spark is made here, once; the rest of the
package asks the engine.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.dbt_child import EXECUTABLE, RUN_RESULTS, RUN_RESULTS_ENV
from orchestration.lib.sql import read_only
from orchestration.lib.warehouse import build_state, catalog, spark_engine
from orchestration.lib.warehouse.build_state import BuildPlan
from orchestration.lib.warehouse.catalog import RawFile
from orchestration.lib.warehouse.fingerprint import rules_fingerprint
from orchestration.lib.warehouse.store import Store

# the forecast of the purchase model, which the load's fit writes between the two parts
FORECAST_SOURCE = "source:purchase_model"
# the parts of a load's dbt build: name -> (dbt's --select, dbt's --exclude)
PARTS: dict[str, tuple[str, str | None]] = {
    "facts": ("fqn:*", f"{FORECAST_SOURCE}+"),
    "customer_value": (f"{FORECAST_SOURCE}+", None),
}
BUILD_FILE = "dbt_build.json"
# the macro that reads the build's kind (macros/incremental/build_kind.sql): a view whose SQL
# calls it is made again in every build (reads_build_kind)
BUILD_KIND_MACRO = "cvm_build"
# what a model reads besides its inputs and the rules: such a model is never kept (kept_nodes)
CLOCK = re.compile(r"\b(current_date|current_timestamp|now|today|run_started_at|random)\b",
                   re.IGNORECASE)


class DuckDBEngine:
    """dbt on DuckDB, embedded: dbt builds the engine's database itself."""

    kind = "duckdb"
    target_args: tuple[str, ...] = ()  # the profile's default target
    # a store's first build finds dbt's parse made beside the ingest (`parsing_ahead`): its
    # vars are known before the ingest, as the engine adds none
    parses_ahead = True
    keeps_views = True  # a build over the delta keeps the views (module docstring)
    # dbt's log file: the lines its console shows. At debug, dbt also writes every statement
    # and event, about 1.5 MB and 0.3 s per part of a nightly at S0; a DuckDB error's message
    # is at info.
    log_level_file = "info"

    def describe(self) -> str:
        return "duckdb (embedded)"

    def input_vars(self, store: Store, files: list[RawFile], plan: BuildPlan) -> dict:
        """dbt reads its inputs from the engine's database (build_state.prepare): no vars."""
        return {}

    def environment(self, store: Store) -> dict[str, str]:
        """The engine's database as dbt's warehouse."""
        return {"CVM_WAREHOUSE": str(store.engine_database)}

    def after_build(self, store: Store, manifest_path: Path, built: set[str]) -> None:
        """Nothing: the marts are in the engine's database already."""


class SparkEngine:
    """dbt on Apache Spark, its inputs and its DuckDB mirror (spark_engine.py)."""

    kind = "spark"
    target_args: tuple[str, ...] = ("--target", "spark")
    # each build's vars name its own input statements (`input_vars`), which dbt's parse
    # depends on: no parse can be made before them
    parses_ahead = False
    # every build makes its views again, as the staging views read relations that the
    # build's own on-run-start hook makes from `cvm_spark_inputs`
    keeps_views = False
    # dbt's log file keeps the stack trace of a failure (a debug line), which a failure on a
    # cluster needs; beside Spark's jobs, writing the debug lines costs nothing that shows
    log_level_file = "debug"

    def describe(self) -> str:
        return spark_engine.describe()

    def input_vars(self, store: Store, files: list[RawFile], plan: BuildPlan) -> dict:
        """The var that names dbt's input statements (written here, run by dbt's hook)."""
        return {"cvm_spark_inputs": str(spark_engine.write_inputs(store, files, plan))}

    def environment(self, store: Store) -> dict[str, str]:
        return spark_engine.environment(store)

    def after_build(self, store: Store, manifest_path: Path, built: set[str]) -> None:
        """The DuckDB mirror of the tables Spark built (`built`: dbt's unique ids), which
        publish.py exports."""
        spark_engine.mirror(store, manifest_path, built)


Engine = DuckDBEngine | SparkEngine
ENGINES: dict[str, Engine] = {engine.kind: engine for engine in (DuckDBEngine(), SparkEngine())}


def engine_for(kind: str) -> Engine:
    """The engine of a kind (settings.engine_kind checks the name)."""
    return ENGINES[kind]


def describe(kind: str) -> str:
    """The engine as the first line of `cvm load` names it: 'duckdb (embedded)', or
    'spark (local[2])' for Spark's local session, else the server the `spark` target reaches."""
    return engine_for(kind).describe()


@dataclass(frozen=True)
class DbtBuild:
    """One dbt build on the store's engine: its plan and the vars in effect."""

    store: Store
    plan: BuildPlan
    dbt_vars: dict

    @property
    def engine(self) -> Engine:
        return engine_for(self.store.engine_kind)

    @property
    def args(self) -> list[str]:
        """`dbt build` for the plan: no unit tests (they belong to `make test`); the engine's
        target; a full build with --full-refresh; the vars in effect (none given: the
        project's own, so that dbt's partial parsing holds). The seeds stay in (they are
        small): leaving them out would leave out every test that reads them too, such as the
        facts' rate ids. The build's kind goes to dbt as CVM_BUILD (`environment`)."""
        args = ["build", "--exclude-resource-type", "unit_test", *self.engine.target_args]
        if self.plan.full:
            args.append("--full-refresh")
        return args + vars_args(self.dbt_vars)

    @property
    def environment(self) -> dict[str, str]:
        """What dbt runs with besides its arguments: the engine's (its database as dbt's
        warehouse; on Spark, Spark's settings), the kind of build (`full` or `delta`,
        macros/incremental/build_kind.sql; it is no rule, so the rules fingerprint does not
        cover it) and its number (CVM_BUILD_NUMBER, the catalog version it publishes: the rows
        it writes carry it, macro build_number).

        dbt's log file (`dbt.log` in the store's dbt target) takes the engine's level
        (`log_level_file`) unless $DBT_LOG_LEVEL_FILE says otherwise. Of dbt's JSON artifacts,
        the build writes its run results alone, into the store's dbt target
        (lib/dbt_child.py)."""
        return {**self.engine.environment(self.store),
                "CVM_BUILD": "full" if self.plan.full else "delta",
                "CVM_BUILD_NUMBER": str(self.plan.number),
                "DBT_LOG_LEVEL_FILE": _log_level_file(self.engine),
                "DBT_WRITE_JSON": "false",
                RUN_RESULTS_ENV: str(self.store.dbt_target / RUN_RESULTS)}

    def leave_out(self, kept: list[str]) -> list[str]:
        """dbt's arguments that leave out the nodes `kept` (the names of `kept_nodes` and of
        `kept_tests`) in a build over the delta. Indirect selection is `empty`, so that dbt
        leaves out no test but those named: a kept view's tests run (dbt's `cautious` would
        leave them out with the view, and its default `eager` a fact's relationship to a seed
        too). None in a full build. The names are one argument, as dagster-dbt passes an
        `--exclude` on (dbt splits it at the blanks)."""
        if self.plan.full or not kept:
            return []
        return ["--indirect-selection", "empty", "--exclude", " ".join(kept)]

    def describe(self) -> str:
        """The build in words: 'full build: first build', 'incremental build: 3 raw files
        added, 0 retired'."""
        if self.plan.full:
            return f"full build: {self.plan.reason}"
        added = sum(len(v) for v in self.plan.added.values())
        retired = sum(len(v) for v in self.plan.retired.values())
        return f"incremental build: {added} raw files added, {retired} retired"

    def after_build(self, manifest_path: Path, built: set[str]) -> None:
        """What the engine does once a part of the build passed (on Spark, the DuckDB mirror
        of the nodes `built`)."""
        self.engine.after_build(self.store, manifest_path, built)

    def save(self) -> None:
        """Keep the plan and the vars for the build's second part (`resume_build`)."""
        path = self.store.work_dir / BUILD_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "full": self.plan.full, "reason": self.plan.reason, "added": self.plan.added,
            "retired": self.plan.retired, "number": self.plan.number,
            "dbt_vars": self.dbt_vars}, sort_keys=True),
            encoding="utf-8")


def kept_nodes(manifest: Mapping, views: bool = False) -> list[dict]:
    """The seeds and models of the manifest that read no source, directly or through other
    models, nor the clock (their manifest entries), parents before children: a build over the
    delta keeps them as the last build left them (see the module docstring). With `views`,
    every view model too, in the same order, but those whose SQL reads the build's kind
    (`reads_build_kind`)."""
    nodes = manifest["nodes"]
    reads_source: dict[str, bool] = {}
    order: list[str] = []  # every node walked, parents first

    def reads(unique_id: str) -> bool:
        if unique_id.startswith("source."):
            return True
        if unique_id not in reads_source:
            reads_source[unique_id] = False  # a cycle cannot be; this ends the walk anyway
            node = nodes.get(unique_id, {})
            parents = node.get("depends_on", {}).get("nodes", [])
            from_parents = [reads(parent) for parent in parents]  # each parent walked
            reads_source[unique_id] = bool(CLOCK.search(node.get("raw_code") or "")) or any(
                from_parents)
            order.append(unique_id)
        return reads_source[unique_id]

    for unique_id in sorted(nodes):
        reads(unique_id)
    return [nodes[unique_id] for unique_id in order
            if nodes[unique_id]["resource_type"] in {"seed", "model"}
            and (not reads_source[unique_id]
                 or (views and is_view(nodes[unique_id])
                     and not reads_build_kind(manifest, nodes[unique_id])))]


def reads_build_kind(manifest: Mapping, node: Mapping) -> bool:
    """Whether the SQL dbt makes of a manifest node depends on the build's kind: whether it
    calls the macro `BUILD_KIND_MACRO`, directly or through other macros (the manifest's
    `depends_on.macros`). Such a view's text after a full build shows every row (the views
    under the facts, macro in_delta_scope); kept in a build over the delta, it would make the
    build read the whole history through it."""
    macros = manifest.get("macros", {})
    seen: set[str] = set()
    waiting = list(node.get("depends_on", {}).get("macros", []))
    while waiting:
        unique_id = waiting.pop()
        if unique_id in seen:
            continue
        seen.add(unique_id)
        if unique_id.rsplit(".", 1)[-1] == BUILD_KIND_MACRO:
            return True
        waiting.extend(macros.get(unique_id, {}).get("depends_on", {}).get("macros", []))
    return False


def is_view(node: Mapping) -> bool:
    """Whether a manifest node is a model that dbt makes a view."""
    return (node["resource_type"] == "model"
            and node.get("config", {}).get("materialized") == "view")


def kept_tests(manifest: Mapping) -> list[dict]:
    """The data tests of the manifest that a build over the delta leaves out: those that read
    nothing but the relations it keeps unchanged (`kept_nodes` without views: a view of the
    facts is kept, but its data changes with the relations it reads)."""
    unchanged = {node["unique_id"] for node in kept_nodes(manifest)}
    return [node for node in manifest["nodes"].values()
            if node["resource_type"] == "test"
            and (parents := node.get("depends_on", {}).get("nodes", []))
            and set(parents) <= unchanged]


def _log_level_file(engine: Engine) -> str:
    """The level of dbt's log file: $DBT_LOG_LEVEL_FILE, else the engine's."""
    return os.environ.get("DBT_LOG_LEVEL_FILE") or engine.log_level_file


def vars_args(dbt_vars: dict) -> list[str]:
    """dbt's `--vars` for `dbt_vars`; none for no vars (the project's own)."""
    return ["--vars", json.dumps(dbt_vars, sort_keys=True)] if dbt_vars else []


@contextlib.contextmanager
def parsing_ahead(store: Store, project_dir: Path, dbt_vars: dict,
                  log: Path) -> Iterator[subprocess.Popen | None]:
    """dbt's parse of the project for the store's first build, made while the load ingests:
    a `cvm-dbt parse` (the load's dbt server runs it) with the vars, the target and the
    environment of the build (`DbtBuild`), started now and not waited for. dbt's partial
    parsing then finds the store's own parse, as in every later build; without it, the first
    build parses the whole project (about 2.5 s on one core at S0), as the project's prepared
    parse was made with another profile (the engine's database) and other vars.

    Only where there is something to gain and nothing to race: the store has no parse of its
    own yet, the engine's vars are known before the ingest (`parses_ahead`), and the load has
    a dbt server, which runs its requests one at a time, so that the build's dbt starts
    after the parse ended and reads what it wrote; the parse is run by that server or not at
    all (SERVER_ONLY_ENV). The project's parse is copied into the store's target first (under
    another name, then renamed, as the server may be reading that file for its warm-up), as
    dagster-dbt would copy it at the build's start: so dagster-dbt never writes that file
    while the parse does. The parse says only its errors (into `log`); a parse that fails
    leaves the build to parse and fail on its own. At the end of the block a parse that
    still runs is stopped (SIGTERM, which `cvm-dbt` passes on)."""
    from orchestration.lib.dbt_server import PARTIAL_PARSE, SERVER_ENV, SERVER_ONLY_ENV
    from orchestration.lib.processes import PARENT_ENV

    engine = engine_for(store.engine_kind)
    target = store.dbt_target
    if (not engine.parses_ahead or not os.environ.get(SERVER_ENV)
            or (target / PARTIAL_PARSE).is_file()):
        yield None
        return
    target.mkdir(parents=True, exist_ok=True)
    # where dagster-dbt copies a build's partial parse from: $DBT_TARGET_PATH, else target/
    prepared = Path(project_dir) / os.environ.get("DBT_TARGET_PATH", "target") / PARTIAL_PARSE
    if prepared.is_file():
        copied = target / f"{PARTIAL_PARSE}.copying"
        shutil.copyfile(prepared, copied)
        copied.replace(target / PARTIAL_PARSE)
    env = {**os.environ, **engine.environment(store), "CVM_BUILD": "full",
           "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target),
           "DBT_PROFILES_DIR": str(project_dir), "DBT_PROJECT_DIR": str(project_dir),
           "DBT_LOG_FORMAT_FILE": "json", "DBT_LOG_LEVEL_FILE": _log_level_file(engine),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_WRITE_JSON": "false",
           SERVER_ONLY_ENV: "1", PARENT_ENV: str(os.getpid())}
    with open(log, "a", encoding="utf-8") as out:
        parse = subprocess.Popen(
            [EXECUTABLE, "--quiet", "parse", *engine.target_args, *vars_args(dbt_vars)],
            cwd=project_dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        yield parse
    finally:
        if parse.poll() is None:
            parse.terminate()
        parse.wait()


def resume_build(store: Store) -> DbtBuild:
    """The build whose first part `prepare_build` prepared, to build its second part."""
    path = store.work_dir / BUILD_FILE
    if not path.is_file():
        raise RuntimeError(f"{path}: no prepared dbt build to resume; the build's first part "
                           "prepares it")
    saved = json.loads(path.read_text(encoding="utf-8"))
    plan = BuildPlan(saved["full"], saved["reason"], saved["added"], saved["retired"],
                     saved["number"])
    return DbtBuild(store, plan, saved["dbt_vars"])


def prepare_build(store: Store, session: str, project_dir: Path, dbt_vars: dict,
                  full_refresh: bool = False) -> DbtBuild:
    """Open the next catalog of `session` and make the store's engine ready for a build with
    `dbt_vars` (checked, in effect): full when `full_refresh`, the engine's state is not the
    published one or the rules changed, else over the delta (build_state.py). The caller
    holds the writer's lock."""
    with read_only(catalog.open_next(store, session)) as con:
        version = catalog.state(con).version
        files = catalog.raw_files(con)
    fingerprint = rules_fingerprint(project_dir, dbt_vars)
    plan = build_state.plan_build(build_state.read_state(store.engine_database), version,
                                  fingerprint, files, full_refresh)
    build_state.prepare(store, plan, files, version, fingerprint,
                        json.dumps(dbt_vars, sort_keys=True))
    inputs = engine_for(store.engine_kind).input_vars(store, files, plan)
    build = DbtBuild(store, plan, {**dbt_vars, **inputs})
    build.save()
    return build
