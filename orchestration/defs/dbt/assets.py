"""The dbt project as Dagster assets; dbt tests become asset checks (error severity blocks).

Before dbt runs, the engine's working database is made ready (lib/warehouse/engine.py): a
full build when it is not the published state, the rules changed or a full refresh is asked
for; else an incremental one over the delta. The build leaves out the dbt unit tests (they
belong to `make test`). On the engine `spark` dbt builds on the `spark` target, over the same
raw files, and the DuckDB mirror of its output is made for publishing (spark_engine.py).
"""

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.defs.constants import VARS_ORIGIN, WAREHOUSE_POOL, run_vars, session_of
from orchestration.defs.dbt.project import environment
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.processes import PARENT_ENV
from orchestration.lib.progress import report
from orchestration.lib.warehouse import catalog, engine, spark_engine
from orchestration.lib.warehouse.fingerprint import effective_vars, rules_fingerprint


class CvmDbtTranslator(DagsterDbtTranslator):
    """dbt folders become asset groups; dbt sources are the ingest's raw assets."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        if resource_type == "model" and len(fqn) > 2:
            return fqn[1]  # staging | intermediate | marts
        return super().get_group_name(dbt_resource_props)


translator = CvmDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class BuildConfig(dg.Config):
    """How one run builds: `full_refresh` rebuilds everything from the raw zone; `vars` (YAML,
    e.g. '{period_grain: quarter}') override the dbt vars for this run, checked at the start of
    the run's steps against the vars' schema (`run_vars`)."""

    full_refresh: bool = False
    vars: str = ""


def prepare_build(context, warehouse: WarehouseResource, project_dir: Path,
                  config: BuildConfig) -> tuple[engine.BuildPlan, dict]:
    """Open the run's next catalog and make the engine ready: the build plan and the vars in
    effect (on Spark, with the var that names dbt's input statements)."""
    next_catalog = catalog.open_next(warehouse.published, session_of(context))
    con = duckdb.connect(str(next_catalog), read_only=True)
    try:
        version = catalog.state(con).version
        files = catalog.raw_files(con)
    finally:
        con.close()
    dbt_vars = effective_vars(config.vars, VARS_ORIGIN)
    fingerprint = rules_fingerprint(project_dir, dbt_vars)
    plan = engine.plan_build(engine.read_state(warehouse.store.engine), version, fingerprint,
                             files, config.full_refresh)
    engine.prepare(warehouse.store, plan, files, version, fingerprint,
                   json.dumps(dbt_vars, sort_keys=True))
    if warehouse.engine == "spark":
        inputs = spark_engine.write_inputs(warehouse.store, files, plan)
        return plan, {**dbt_vars, "cvm_spark_inputs": str(inputs)}
    return plan, dbt_vars


def build_args(plan: engine.BuildPlan, dbt_vars: dict, engine_kind: str = "duckdb") -> list[str]:
    """`dbt build` for the plan: no unit tests; a full build with --full-refresh; the vars in
    effect (none given: the project's own, so that dbt's partial parsing holds); the `spark`
    target on Spark. The seeds stay in (they are small): leaving them out would leave out every
    test that reads them too, such as the facts' rate ids. The build's kind goes to dbt as
    CVM_BUILD (`build_environment`)."""
    args = ["build", "--exclude-resource-type", "unit_test"]
    if engine_kind == "spark":
        args += ["--target", "spark"]
    if plan.full:
        args.append("--full-refresh")
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars, sort_keys=True)]
    return args


def build_environment(plan: engine.BuildPlan, store, engine_kind: str = "duckdb") -> dict[str, str]:
    """What dbt runs with besides its arguments: the engine's database as its warehouse (on
    Spark, Spark's settings), and the kind of build (`full` or `delta`, macros/incremental.sql;
    it is no rule, so the rules fingerprint does not cover it)."""
    settings = (spark_engine.environment(store) if engine_kind == "spark"
                else {"CVM_WAREHOUSE": str(store.engine)})
    return {**settings, "CVM_BUILD": "full" if plan.full else "delta"}


def _describe(plan: engine.BuildPlan) -> str:
    if plan.full:
        return f"full build: {plan.reason}"
    added = sum(len(v) for v in plan.added.values())
    retired = sum(len(v) for v in plan.retired.values())
    return f"incremental build: {added} raw files added, {retired} retired"


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    """The dbt project's models, seeds and tests as assets and checks; `project` has a
    manifest (project.py)."""

    @dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=translator,
        project=project,
        pool=WAREHOUSE_POOL,
    )
    def cvm_dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
        config: BuildConfig,
    ):
        run_vars(context)
        with warehouse.retry_transient(), warehouse.exclusive() as store:
            plan, dbt_vars = prepare_build(context, warehouse, project.project_dir, config)
            report(f"  dbt {_describe(plan)} on {warehouse.engine} ...", context)
            # dbt writes the engine's database (on Spark, its tables under work/spark); the
            # published catalog is only ever replaced by publish.
            # dbt's target folder stays in the store, so that the next build finds dbt's
            # parse of the project there and parses only what changed; dbt dies with this
            # process (lib/dbt_child.py)
            with environment(**build_environment(plan, store, warehouse.engine),
                             **{PARENT_ENV: str(os.getpid())}):
                invocation = dbt.cli(build_args(plan, dbt_vars, warehouse.engine),
                                     context=context, raise_on_error=False,
                                     target_path=store.dbt_target)
                yield from invocation.stream()
            if not invocation.is_successful():
                failures = _failed_nodes(invocation)
                report(f"  dbt build FAILED: {', '.join(failures) or 'see the dbt log'}", context)
                raise dg.Failure(
                    description="dbt build failed; blocking checks or models that failed: "
                    + (", ".join(failures) or "see the dbt log"),
                    allow_retries=False,
                )
            if warehouse.engine == "spark":
                spark_engine.mirror(store, project.manifest_path)
            report("  dbt build passed", context)

    return cvm_dbt_models


def _failed_nodes(invocation) -> list[str]:
    try:
        results = invocation.get_artifact("run_results.json").get("results", [])
    except Exception:  # the artifact may be missing after a crash
        return []
    return [f"{r['unique_id']} ({headline(r.get('message') or '') or r['status']})"
            for r in results if r.get("status") in {"error", "fail", "runtime error"}]


def headline(message: str) -> str:
    """The line of a dbt node's message that says what went wrong: the database's error line
    (`Out of Range Error: Overflow in multiplication of DECIMAL(18) …`), not the SQL excerpt
    and the caret under it that follow it; else the first line with words."""
    lines = [line.strip() for line in message.splitlines()]
    worded = [line for line in lines
              if line and line.strip("^~ ") and not line.upper().startswith("LINE ")]
    for line in worded:
        if re.search(r"\b[A-Z][A-Za-z ]*(Error|Exception):", line):
            return line
    return worded[0] if worded else ""
