"""`cvm load`: the nightly job, run in process over every delivery not yet loaded."""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration import landing, settings
from orchestration import warehouse as wh
from orchestration.assets_ingest import raw_asset_key
from orchestration.schedules import NIGHTLY_JOB

QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


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
    import os

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
            text = error.message.strip() if error else ""
            if event.step_failure_data.user_failure_data is not None:
                text = event.step_failure_data.user_failure_data.description or text
            messages.append(f"{event.step_key}: {text}")
    return "; ".join(messages) or "the run failed"


def run_load(
    landing_dir: Path,
    warehouse_path: Path,
    echo: Callable[[str], None] = print,
    instance: dg.DagsterInstance | None = None,
    dbt_project_dir: Path | None = None,
) -> LoadOutcome:
    from orchestration.definitions import build_definitions

    deliveries, ignored = landing.scan(landing_dir)
    for name in ignored:
        echo(f"ignored: {landing_dir / name} is not a date folder (YYYY-MM-DD)")
    if not deliveries:
        echo(f"no deliveries in {landing_dir}")
    work = settings.work_path(warehouse_path)
    with wh.write_lock(warehouse_path):
        work_log = wh.load_log(wh.prepare_work_copy(warehouse_path))
    loaded = wh.loaded_files(work_log)
    todo = landing.pending(deliveries, loaded)
    stale = work.exists() and work_log != wh.load_log(warehouse_path)
    if not todo and not stale and warehouse_path.exists():
        echo("nothing new: every delivery is loaded and published; nothing changed")
        return LoadOutcome(exit_code=0)
    if not deliveries and not work.exists():
        return LoadOutcome(exit_code=0)

    if todo:
        echo(f"{len(todo)} deliver{'y' if len(todo) == 1 else 'ies'} to load: "
             + ", ".join(d.partition_key for d in todo))
    else:
        echo("every delivery is loaded; building, checking and publishing the warehouse")
    defs = build_definitions(landing_dir, warehouse_path, dbt_project_dir)
    job = defs.resolve_job_def(NIGHTLY_JOB)
    instance = instance or instance_for_cli()
    raw_keys = [raw_asset_key(entity) for entity in landing.ENTITIES]
    everything = list(defs.resolve_asset_graph().get_all_asset_keys())
    downstream = [key for key in everything if key not in raw_keys]

    progress = logging.getLogger("cvm.progress")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False
    outcome = LoadOutcome(exit_code=0)
    log_path = work.parent / "cvm-load.log"
    try:
        steps = [(d.partition_key, raw_keys) for d in todo]
        if steps:
            steps[-1] = (steps[-1][0], raw_keys + downstream)
        else:  # loaded before, but not yet built and published
            steps = [(deliveries[-1].partition_key if deliveries else None, downstream)]
        for number, (partition_key, selection) in enumerate(steps, start=1):
            label = partition_key or "(no delivery)"
            echo(f"[{number}/{len(steps)}] delivery {label}"
                 + (": load, build, check, publish" if selection != raw_keys else ": load"))
            # dbt's own log lines go to a file; the terminal gets the progress lines
            with open(log_path, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
                result = job.execute_in_process(
                    partition_key=partition_key,
                    asset_selection=selection,
                    instance=instance,
                    raise_on_error=False,
                    run_config=QUIET_LOGGERS,
                )
            outcome.materialized = sorted(
                event.asset_key.to_user_string()
                for event in result.get_asset_materialization_events()
            )
            if not result.success:
                outcome.exit_code = 1
                outcome.error = _failure_message(result)
                echo(f"FAILED at delivery {label}: {outcome.error}")
                echo(f"the published warehouse {warehouse_path} is unchanged; dbt log: {log_path}")
                return outcome
            if partition_key and partition_key in {d.partition_key for d in todo}:
                outcome.loaded.append(partition_key)
        outcome.published = True
        return outcome
    finally:
        progress.removeHandler(handler)
