"""`cvm load`: the nightly job, run in process over every delivery not yet loaded.

It asks the Definitions for the job and its raw assets (the `ingest` group), loads every
pending delivery in date order, and builds, checks and publishes once, after the last one.
The runs of one load share a session (a run tag): they prepare one next catalog together,
and only the last one publishes it. A failed run discards it; the published warehouse stays
as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.defs.constants import (
    INGEST_GROUP,
    NIGHTLY_JOB,
    SESSION_TAG,
    delivery_partitions,
)
from orchestration.lib import audit, landing
from orchestration.lib.progress import Progress
from orchestration.lib.warehouse import catalog
from orchestration.lib.warehouse.fingerprint import BadVars, effective_vars, rules_fingerprint
from orchestration.lib.warehouse.lock import write_lock
from orchestration.lib.warehouse.store import Store

QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
DBT_OP = "cvm_dbt_models"  # the op of the dbt assets, configured by BuildConfig


@dataclass
class LoadOutcome:
    exit_code: int
    loaded: list[str] = field(default_factory=list)
    error: str | None = None
    published: bool = False
    materialized: list[str] = field(default_factory=list)  # asset keys of the last run


def instance_for_cli() -> dg.DagsterInstance:
    """The persistent instance under $DAGSTER_HOME when set (runs show in the UI), else a
    throw-away one."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    config = Path(home) / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(Path(__file__).with_name("dagster.yaml"), config)
    return dg.DagsterInstance.get()


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    messages = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:  # the cause, not the wrapper
                error = error.cause
            text = error.message.strip() if error else ""
            if event.step_failure_data.user_failure_data is not None:
                text = event.step_failure_data.user_failure_data.description or text
            messages.append(f"{event.step_key}: {text}")
    return "; ".join(messages) or "the run failed"


@dataclass(frozen=True)
class Step:
    """One in-process run of the nightly job: a delivery (None: none) and what it builds."""

    partition_key: str | None
    selection: list[dg.AssetKey]
    loads: bool  # a pending delivery, loaded in this step


def _plan(
    todo: list[landing.Delivery], deliveries: list[landing.Delivery],
    raw_keys: list[dg.AssetKey], downstream: list[dg.AssetKey],
) -> list[Step]:
    """Every pending delivery's raw assets in date order, and the build, checks and publish
    with the last one; with nothing pending (loaded before, not yet published) only those."""
    steps = [Step(d.partition_key, raw_keys, True) for d in todo]
    if steps:
        last = steps[-1]
        steps[-1] = Step(last.partition_key, raw_keys + downstream, True)
        return steps
    return [Step(deliveries[-1].partition_key if deliveries else None, downstream, False)]


def run_load(
    landing_dir: Path,
    warehouse_path: Path,
    echo: Callable[[str], None] = print,
    instance: dg.DagsterInstance | None = None,
    dbt_project_dir: Path | None = None,
    full_refresh: bool = False,
    dbt_vars: str = "",
    engine: str | None = None,
) -> LoadOutcome:
    """Load every pending delivery, build, check and publish; see the module docstring.

    `full_refresh` rebuilds every model from the raw zone; `dbt_vars` (YAML) override the dbt
    vars for this run. Changed rules (models, seeds, tests, vars) rebuild by themselves.
    `engine` is the one dbt builds on (default $CVM_ENGINE, else duckdb).
    """
    from orchestration.defs.definitions import build_definitions

    deliveries = landing.scan(landing_dir, warn=echo)
    if not deliveries:
        echo(f"no deliveries in {landing_dir}")
    todo = landing.pending(deliveries, audit.loaded_files(audit.read_load_log(warehouse_path)))
    try:
        fingerprint = rules_fingerprint(dbt_project_dir or settings.DBT_PROJECT_DIR,
                                        effective_vars(dbt_vars))
    except BadVars as error:
        echo(f"FAILED: {error}")
        return LoadOutcome(exit_code=2, error=str(error))
    published = catalog.read_state(warehouse_path)
    rules_changed = published is not None and published.rules_fingerprint != fingerprint
    if not todo and not rules_changed and not full_refresh and published is not None:
        echo("nothing new: every delivery is loaded and published; nothing changed")
        return LoadOutcome(exit_code=0)
    if not deliveries and published is None:
        return LoadOutcome(exit_code=0)

    if todo:
        echo(f"{len(todo)} deliver{'y' if len(todo) == 1 else 'ies'} to load: "
             + ", ".join(d.partition_key for d in todo))
    elif full_refresh:
        echo("nothing new to load; rebuilding every model from the raw zone, as asked")
    else:
        echo("nothing new to load, but the rules changed (models, seeds, tests or dbt vars); "
             "rebuilding and publishing")
    defs = build_definitions(landing_dir, warehouse_path, dbt_project_dir, engine)
    graph = defs.resolve_asset_graph()
    raw_keys = sorted(dg.AssetSelection.groups(INGEST_GROUP).resolve(graph))
    downstream = [key for key in graph.get_all_asset_keys() if key not in raw_keys]
    steps = _plan(todo, deliveries, raw_keys, downstream)
    job = defs.resolve_job_def(NIGHTLY_JOB)
    instance = instance or instance_for_cli()
    instance.add_dynamic_partitions(delivery_partitions.name,
                                    [d.partition_key for d in deliveries])
    store = Store.beside(warehouse_path, settings.engine(engine))
    store.root.mkdir(parents=True, exist_ok=True)
    # the runs of this load prepare one next catalog together
    tags = {SESSION_TAG: uuid.uuid4().hex}
    build_config = {"ops": {DBT_OP: {"config": {"full_refresh": full_refresh,
                                                "vars": dbt_vars or ""}}}}

    outcome = LoadOutcome(exit_code=0)
    with Progress("deliveries", total=len(steps), echo=echo) as progress, progress.reporting():
        for number, step in enumerate(steps, start=1):
            label = step.partition_key or "(no delivery)"
            builds = step.selection != raw_keys
            progress.line(f"[{number}/{len(steps)}] delivery {label}"
                          + (": load, build, check, publish" if builds and step.loads
                             else ": build, check, publish" if builds else ": load"))
            # dbt's own log lines go to a file; the terminal gets the progress lines
            with open(store.log, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
                result = job.execute_in_process(
                    partition_key=step.partition_key,
                    asset_selection=step.selection,
                    instance=instance,
                    raise_on_error=False,
                    tags=tags,
                    run_config=QUIET_LOGGERS | (build_config if builds else {}),
                )
            progress.advance()
            outcome.materialized = sorted(
                event.asset_key.to_user_string()
                for event in result.get_asset_materialization_events()
            )
            if not result.success:
                outcome.exit_code = 1
                outcome.error = _failure_message(result)
                with write_lock(warehouse_path):
                    catalog.discard_next(warehouse_path)
                progress.line(f"FAILED at delivery {label}: {outcome.error}")
                progress.line(f"the published warehouse {warehouse_path} is unchanged; "
                              f"dbt log: {store.log}")
                return outcome
            if step.loads:
                outcome.loaded.append(step.partition_key)
    outcome.published = True
    return outcome
