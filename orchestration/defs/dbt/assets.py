"""The dbt project as Dagster assets; dbt tests become asset checks (error severity blocks).

The project is built in two parts (lib/warehouse/dbt_build.PARTS), two multi-assets: the
facts and everything else first (`cvm_dbt_models`), then, after the purchase model's fit,
what reads its forecast: the potential, the segments and what follows them
(`cvm_dbt_customer_value`). Each body is config, then dbt's arguments, then `dbt build`:
the build's preparation is lib/warehouse/dbt_build.py's (the engine's working database made
ready, full or over the delta, by the first part and taken up by the second; dbt's arguments
and environment on DuckDB or Spark; on Spark, the DuckDB mirror of its output after a part
that passed).
"""

import os
import re
import signal
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

from orchestration.defs.constants import DBT_OP, WAREHOUSE_POOL, run_vars, session_of
from orchestration.defs.dbt.project import environment
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.clv import import_in_background
from orchestration.lib.ingest import suite_server
from orchestration.lib.processes import PARENT_ENV, interrupted
from orchestration.lib.progress import report
from orchestration.lib.warehouse.dbt_build import (
    FORECAST_SOURCE,
    PARTS,
    DbtBuild,
    kept_nodes,
    kept_tests,
    prepare_build,
    resume_build,
)


class CvmDbtTranslator(DagsterDbtTranslator):
    """dbt folders become asset groups; dbt sources are the ingest's raw assets."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            if dbt_resource_props["source_name"] == FORECAST_SOURCE.split(":")[1]:
                # the purchase model's forecast: the fit's asset (defs/lifetime_value)
                return dg.AssetKey([dbt_resource_props["source_name"],
                                    dbt_resource_props["name"]])
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


def build_dbt_assets(project: DbtProject) -> list[dg.AssetsDefinition]:
    """The dbt project's models, seeds and tests as assets and checks, in the build's two
    parts; `project` has a manifest (project.py)."""
    def part(name: str, op_name: str):
        """dagster-dbt's decorator for one part of the build (its dbt selection)."""
        select, exclude = PARTS[name]
        return dbt_assets(manifest=project.manifest_path, dagster_dbt_translator=translator,
                          project=project, pool=WAREHOUSE_POOL, select=select,
                          exclude=exclude, name=op_name)

    @part("facts", DBT_OP)
    def cvm_dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
        config: BuildConfig,
    ):
        dbt_vars = run_vars(context, warehouse.landing)
        suite_server.rest()  # no suites run during the build: its memory is the build's
        # the purchase model, fitted next, imports its libraries while this process waits
        import_in_background()
        with warehouse.retry_transient(), warehouse.exclusive() as store:
            build = prepare_build(store, session_of(context), project.project_dir, dbt_vars,
                                  config.full_refresh)
            yield from _build_part(context, dbt, build, "facts")

    @part("customer_value", "cvm_dbt_customer_value")
    def cvm_dbt_customer_value(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
    ):
        with warehouse.retry_transient(), warehouse.exclusive() as store:
            yield from _build_part(context, dbt, resume_build(store), "customer_value")

    def _build_part(context, dbt: DbtCliResource, build: DbtBuild, part: str):
        store = build.store
        report(f"  dbt {build.describe()} on {store.engine_kind}, {part.replace('_', ' ')} "
               "...", context)
        # dbt writes the engine's database (on Spark, its tables under work/spark); the
        # published catalog is only ever replaced by publish.
        # dbt's target folder stays in the store, so that the next build finds dbt's parse
        # of the project there and parses only what changed; dbt dies with this process
        # (lib/dbt_child.py)
        # the kept assets: as the last build built and tested them, which the next catalog
        # publishes again (a view: as the last build made it, over what this build makes)
        kept, left_out = _kept(context, build)
        with environment(**build.environment, **{PARENT_ENV: str(os.getpid())}):
            invocation = dbt.cli(build.args + build.leave_out(left_out),
                                 context=context, raise_on_error=False,
                                 target_path=store.dbt_target)
            yield from _in_lineage_order(_until_interrupted(invocation), kept,
                                         context.assets_def)
        if not invocation.is_successful():
            failures = _failed_nodes(invocation, Path(store.dbt_target))
            report(f"  dbt build FAILED: {', '.join(failures) or 'see the dbt log'}", context)
            raise dg.Failure(
                description="dbt build failed; blocking checks or models that failed: "
                + (", ".join(failures) or "see the dbt log"),
                allow_retries=False,
            )
        build.after_build(project.manifest_path, _built_nodes(invocation))
        report(f"  dbt build passed ({part.replace('_', ' ')})", context)

    return [cvm_dbt_models, cvm_dbt_customer_value]


def _kept(context: dg.AssetExecutionContext,
          build: DbtBuild) -> tuple[dict[str, dict[str, bool]], list[str]]:
    """What a build over the delta keeps as it is (dbt_build.kept_nodes, kept_tests): the
    outputs of this part's kept assets (output name -> their metadata), and the dbt names of
    those assets and of the tests left out with them. Nothing in a full build, nor when the
    run selects only some of the part's assets or checks (dagster-dbt selects those itself)."""
    assets_def = context.assets_def
    if (build.plan.full or context.selected_asset_keys != set(assets_def.keys)
            or context.selected_asset_check_keys != set(assets_def.check_keys)):
        return {}, []
    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([assets_def])
    outputs: dict[str, dict[str, bool]] = {}
    names: list[str] = []
    unchanged = {node["unique_id"] for node in kept_nodes(manifest)}
    for node in kept_nodes(manifest, views=build.engine.keeps_views):
        key = translator.get_asset_key(node)
        if key in assets_def.keys:
            outputs[assets_def.get_output_name_for_asset_key(key)] = (
                {"kept_from_last_build": True} if node["unique_id"] in unchanged
                else {"view_kept_from_last_build": True})
            names.append(node["name"])
    return outputs, names + [test["name"] for test in kept_tests(manifest)]


def _in_lineage_order(events, kept: dict[str, dict[str, bool]],
                      assets_def: dg.AssetsDefinition):
    """dbt's events, and the outputs of the kept assets (`kept`: output name -> metadata)
    among them: each as soon as every asset of this part that it reads has its output, as
    Dagster takes a multi-asset's outputs in the order of their lineage. A kept asset that
    reads only kept assets comes before dbt's first event; a kept view after what it reads
    that dbt builds (and so before its own data tests, which dbt runs after that too)."""
    key_of = assets_def.keys_by_output_name
    output_of = {key: name for name, key in key_of.items()}
    waiting = {name: {output_of[key] for key in assets_def.asset_deps[key_of[name]]
                      if key in output_of}
               for name in kept}  # parents first (kept_nodes)
    done: set[str] = set()

    def ready():
        while released := [name for name, reads in waiting.items() if reads <= done]:
            for name in released:
                del waiting[name]
                done.add(name)
                yield dg.Output(None, output_name=name, metadata=kept[name])

    yield from ready()
    for event in events:
        yield event
        if isinstance(event, dg.Output):
            done.add(event.output_name)
            yield from ready()


def _until_interrupted(invocation) -> Iterator:
    """The invocation's events, until the load has received SIGINT or SIGTERM: then dbt is
    stopped as dagster-dbt stops it (SIGINT, which cvm-dbt passes on; killed if it has not
    ended after dagster-dbt's termination timeout), its remaining lines are read to their end
    and the step ends as interrupted. Dagster's interrupt, raised by its signal handler, can
    meet dagster-dbt while it reads one of dbt's lines, where a bare `except:` takes it for a
    line that is no JSON and goes on (dbt_cli_invocation._stream_stdout); the interrupt is
    still recorded (processes.interrupts_recorded), and is acted on here with dbt's next
    event."""
    stream = invocation.stream()
    for event in stream:
        if interrupted():
            break
        yield event
    if not interrupted():
        return
    process = invocation.process
    process.send_signal(signal.SIGINT)
    deadline = threading.Timer(invocation.termination_timeout_seconds, process.kill)
    deadline.start()
    try:
        for _ in stream:  # to dbt's end: a dbt writing into a full pipe would not end
            pass
        process.wait()
    finally:
        deadline.cancel()
    raise dg.DagsterExecutionInterruptedError()


def _built_nodes(invocation) -> set[str]:
    """The unique ids of the nodes the invocation ran."""
    results = invocation.get_artifact("run_results.json").get("results", [])
    return {r["unique_id"] for r in results}


def _failed_nodes(invocation, target: Path) -> list[str]:
    try:
        results = invocation.get_artifact("run_results.json").get("results", [])
    except Exception:  # the artifact may be missing after a crash
        return []
    rules = broken_rules(target / "dbt.log")
    said = []
    for r in results:
        if r.get("status") not in {"error", "fail", "runtime error"}:
            continue
        what = headline(r.get("message") or "") or r["status"]
        name = r["unique_id"].split(".")[2] if r["unique_id"].count(".") >= 2 else ""
        if rules.get(name):
            what += "; " + ", ".join(rules[name])
        said.append(f"{r['unique_id']} ({what})")
    return said


# the line of macro report_broken_rules (dbt_project/macros) for each broken rule and value
# of a failed column_rules test (a key of several columns: its columns and its values joined
# by ', ')
_BROKEN_RULE = re.compile(
    r"(column_rules_\w+): (\w+) broken in (\w+(?:, \w+)*) by (.*?) \((\d+) rows\)")


def broken_rules(log: Path) -> dict[str, list[str]]:
    """The rules that a failed column_rules test found broken in the last dbt run of `log`:
    test name -> ['NULL in customer_id (3 rows)', 'unique broken in activity_id by A-1
    (2 rows)', 'free_transfers_full_standard_cost not true for A-1 (1 row)', ...]. Empty when
    there is no log."""
    found: dict[str, list[str]] = {}
    for match in _last_run_matches(log, _BROKEN_RULE):
        test, rule, column, value, rows = match.groups()
        counted = f"({rows} row{'s' if rows != '1' else ''})"
        if rule == "not_null":
            entry = f"NULL in {column} {counted}"
        elif rule == "expression":  # `column` is the expression's name, `value` a row's key
            entry = f"{column} not true for {value} {counted}"
        else:
            entry = f"{rule} broken in {column} by {value} {counted}"
        if entry not in found.setdefault(test, []):
            found[test].append(entry)
    return found


def _last_run_matches(log: Path, pattern: re.Pattern) -> list[re.Match]:
    """The matches of `pattern` in the lines of the last dbt run of `log` (dbt's log file)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    starts = [i for i, line in enumerate(lines) if "Running with dbt=" in line]
    return [match for line in lines[starts[-1] if starts else 0:]
            if (match := pattern.search(line))]


def headline(message: str) -> str:
    """The line of a dbt node's message that says what went wrong: the database's error line
    (`Out of Range Error: Overflow in multiplication of DECIMAL(18) …`), not the SQL excerpt
    and the caret under it that follow it; else the first line with words. A JVM's stack
    trace in the message (Spark) adds its root cause, its last `Caused by:`, in brackets."""
    lines = [line.strip() for line in message.splitlines()]
    worded = [line for line in lines
              if line and line.strip("^~ ") and not line.upper().startswith("LINE ")]
    causes = [line.removeprefix("Caused by:").strip() for line in worded
              if line.startswith("Caused by:")]
    for line in worded:
        if re.search(r"\b[A-Z][A-Za-z ]*(Error|Exception):", line):
            if line.startswith("Out of Memory Error:"):
                return line + " " + memory_hint()
            return line + (f" (caused by {causes[-1]})"
                           if causes and causes[-1] not in line else "")
    return worded[0] if worded else ""


def memory_hint() -> str:
    """What an operator can do when DuckDB runs out of the build's memory budget."""
    limit = os.environ.get("CVM_DUCKDB_MEMORY_LIMIT", "").strip()
    now = f"is {limit}" if limit else "is the default of dbt_project/profiles.yml"
    return (f"(the build's memory limit {now}; set CVM_DUCKDB_MEMORY_LIMIT higher, "
            "e.g. CVM_DUCKDB_MEMORY_LIMIT=4GB, and load again)")
