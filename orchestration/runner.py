"""`cvm load`: the nightly job, run in process over every delivery not yet loaded.

It asks the Definitions for the job and its raw assets (the `ingest` group), loads every
pending delivery in date order, and builds, checks and publishes once, after the last one.
The runs of one load share a session (a run tag): they prepare one next catalog together,
and only the last one publishes it. A failed run discards it; the published warehouse stays
as it was.

A load that is interrupted (Ctrl-C, SIGTERM) stops, publishes nothing and says so in one
line. A load that was killed outright (SIGKILL, a crash of the machine) leaves a run STARTED in
the Dagster instance, holding the writers' pool: the next load marks it failed and frees the
slot (`fail_abandoned_runs`); the next catalog it left is discarded, and the engine's database
is rebuilt, because it is not the published state. The terminal gets one line per failure;
Dagster's tracebacks go to the log file beside the warehouse (`cvm-load.log`, a fresh one per
load, the last ones kept as cvm-load.log.1 ...).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.defs.constants import (
    DBT_OP,
    INGEST_GROUP,
    NIGHTLY_JOB,
    PROCESS_TAG,
    SESSION_TAG,
    delivery_partitions,
)
from orchestration.lib import audit, landing, processes
from orchestration.lib.dbt_server import dbt_server, start_engine
from orchestration.lib.ingest import suite_server
from orchestration.lib.progress import Progress
from orchestration.lib.warehouse import catalog
from orchestration.lib.warehouse.dbt_build import engine_for, parsing_ahead
from orchestration.lib.warehouse.fingerprint import BadVars, effective_vars, rules_fingerprint
from orchestration.lib.warehouse.lock import WarehouseBusy, write_lock
from orchestration.lib.warehouse.store import Store, rotate_log

QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C
EXIT_BUSY = 75  # EX_TEMPFAIL: another load held the warehouse for longer than the wait
# how a run reports Ctrl-C and SIGTERM: Dagster's interrupt, or a KeyboardInterrupt raised by
# the load's own code (publish.publish, after an interrupt that was swallowed on its way)
INTERRUPTED = frozenset({"DagsterExecutionInterruptedError", "KeyboardInterrupt"})
ACTIVE_RUNS = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
               dg.DagsterRunStatus.CANCELING)


class LoadError(Exception):
    """A load that cannot start: a path that is wrong. The message is the one line to show."""


@dataclass
class LoadOutcome:
    exit_code: int
    loaded: list[str] = field(default_factory=list)
    error: str | None = None
    published: bool = False
    materialized: list[str] = field(default_factory=list)  # asset keys of the last run
    interrupted: bool = False
    files: list[dict] = field(default_factory=list)  # per extract file: its load's metadata


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


def check_paths(landing_dir: Path, store: Store) -> None:
    """Refuse to start, with one line, when the landing root is missing or the warehouse's
    path cannot hold the warehouse (a directory, a folder that cannot be written)."""
    warehouse_path = store.published
    if not landing_dir.is_dir():
        raise LoadError(f"{landing_dir}: the landing root "
                        + ("is not a directory" if landing_dir.exists() else "does not exist")
                        + " (set CVM_LANDING_DIR or --landing)")
    if warehouse_path.is_dir():
        raise LoadError(f"{warehouse_path}: the warehouse is a directory; give the path of its "
                        "DuckDB file, e.g. warehouse.duckdb (CVM_WAREHOUSE or --warehouse)")
    probe = store.root / f".write-test-{os.getpid()}"
    try:
        store.root.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        where = error.filename or warehouse_path.parent
        raise LoadError(f"{where}: the warehouse's folder cannot be written "
                        f"({error.strerror or error})") from None


def check_ingest_settings() -> None:
    """Read every setting of the ingest once, so that a wrong value stops the load before it
    starts (ValueError, naming the setting), not at the file that first needs it."""
    from orchestration.lib.ingest.spec import ENTITIES

    settings.source_timezone()
    settings.max_rejected_share()
    settings.missing_final_line_break()
    for entity in ENTITIES:
        settings.number_format(entity)


def fail_abandoned_runs(instance: dg.DagsterInstance, echo: Callable[[str], None]) -> int:
    """Mark failed every run of the nightly job that is still active in the instance although
    the process that ran it is gone (a load killed outright), and free its slots in the
    writers' pool; without this, every later run waits for that slot for ever. Runs of other
    processes (the webserver's, the daemon's) are theirs to watch. Returns how many."""
    abandoned = 0
    for run in instance.get_runs(dg.RunsFilter(job_name=NIGHTLY_JOB, statuses=list(ACTIVE_RUNS))):
        owner = run.tags.get(PROCESS_TAG)
        if not owner or processes.is_running(owner) is not False:
            continue
        instance.report_run_failed(
            run, message=f"the process that ran it ({owner}) is gone; marked failed by the "
            "next load")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        echo(f"run {run.run_id} of an earlier load that was killed: marked failed, its slot "
             "in the writers' pool freed")
        abandoned += 1
    return abandoned


def _root_error(event):
    error = event.step_failure_data.error
    while error is not None and error.cause is not None:  # the cause, not the wrapper
        error = error.cause
    return error


NOT_HELD = (-1, -1)  # `_as_it_was`'s `before` of a load stopped before it held the lock


def _published_file(warehouse_path: Path) -> tuple[int, int] | None:
    """Which file the published catalog is (device and inode), or None when there is none: a
    publication renames a new file over it."""
    try:
        found = warehouse_path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _as_it_was(warehouse_path: Path, before: tuple[int, int] | None,
               named: bool = False) -> str:
    """What a load that ended short left, as the published warehouse shows it (`before`:
    `_published_file` when the load took the writer's lock, NOT_HELD before): nothing
    published, and the warehouse as it was or still none (a first load); or, when the load
    was stopped after it replaced the catalog, the version it published."""
    where = f" {warehouse_path}" if named else ""
    if before != NOT_HELD and _published_file(warehouse_path) != before:
        found = catalog.read_state(warehouse_path)
        version = f" version {found.version}" if found is not None else ""
        return f"the published warehouse{where} is{version}, published by this load"
    if warehouse_path.exists():
        return f"nothing published; the published warehouse{where} is unchanged"
    return f"nothing published; no warehouse is published yet{' at' + where if named else ''}"


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    """What failed, in words: a refusal's own description (it names file, line or column),
    else the exception and its message, with the step it failed in."""
    messages = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            user = event.step_failure_data.user_failure_data
            if user is not None and user.description:
                messages.append(user.description)
                continue
            error = _root_error(event)
            text = (f"{error.cls_name}: {error.message.strip()}" if error and error.cls_name
                    else error.message.strip() if error else "failed")
            messages.append(f"{text} (in step {event.step_key})")
    return "; ".join(messages) or "the run failed"


def _was_interrupted(result: dg.ExecuteInProcessResult) -> bool:
    for event in result.all_events:
        data = event.event_specific_data
        error = getattr(data, "error", None)
        while error is not None:
            if error.cls_name in INTERRUPTED:
                return True
            error = error.cause
    return False


def _log_failures(result: dg.ExecuteInProcessResult, log) -> None:
    """Every failure's whole story (the tracebacks) to the log file."""
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None:
            log.write(f"\n--- {event.event_type_value} {event.step_key or ''}\n"
                      f"{error.to_string()}\n")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a load the way Ctrl-C does (KeyboardInterrupt); inside a Dagster run,
    Dagster treats both alike already."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _collect_files(result: dg.ExecuteInProcessResult) -> list[dict]:
    """Per extract file of the run: delivery, file, whether it was loaded or skipped as
    unchanged, and its counts (the raw assets' metadata)."""
    files = []
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        if "source_file" not in metadata:
            continue
        files.append({key: getattr(metadata[key], "value", metadata[key]) for key in (
            "source_file", "skipped_unchanged", "rows_read", "rows_loaded", "rows_rejected")
            if key in metadata})
    for event in result.get_asset_materialization_events():
        # the native files of source systems that the raw asset loaded after its extract
        natives = event.materialization.metadata.get("native_files")
        for source_file, counts in getattr(natives, "value", natives or {}).items():
            files.append({"source_file": source_file} | {
                key: counts[key] for key in ("skipped_unchanged", "rows_read", "rows_loaded",
                                             "rows_rejected")})
    return files


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
    engine_kind: str | None = None,
    writer_wait: float | None = None,
) -> LoadOutcome:
    """Load every pending delivery, build, check and publish; see the module docstring.

    `full_refresh` rebuilds every model from the raw zone; `dbt_vars` (YAML) override the dbt
    vars for this run. Changed rules (models, seeds, tests, vars) rebuild by themselves.
    `engine_kind` is the engine dbt builds on (default $CVM_ENGINE, else duckdb).
    """
    try:  # settings first: a wrong one is refused before anything waits or runs
        store = Store(warehouse_path, settings.engine_kind(engine_kind))
        wait = settings.writer_wait(writer_wait)
        vars_ = effective_vars(dbt_vars, landing=landing_dir)
        check_ingest_settings()
        settings.writeback_targets()  # the write-back after publishing, when one is named
    except (ValueError, BadVars) as error:
        echo(f"FAILED: {error}")
        return LoadOutcome(exit_code=2, error=str(error))
    check_paths(landing_dir, store)
    before = NOT_HELD  # the published catalog when this load took the writer's lock
    left = ""  # what an interrupted load left, read while it still held the lock
    try:
        with _sigterm_as_interrupt(), processes.interrupts_recorded():
            # one writer for the whole load: the landing is looked at only once this load owns
            # the warehouse, so that what it loads is what is still new after another load;
            # GX's and dbt's imports once for the load, beside its own (lib/ingest/
            # suite_server.py, lib/dbt_server.py)
            with write_lock(store, wait, what="cvm load", on_wait=echo), \
                    suite_server.for_load(store.published, store.log), \
                    dbt_server(store.engine_kind, store.dbt_target,
                               engine_for(store.engine_kind).environment(store)):
                before = _published_file(warehouse_path)
                try:
                    return _run_load(landing_dir, store, echo, instance, dbt_project_dir,
                                     full_refresh, dbt_vars, vars_, before)
                except KeyboardInterrupt:
                    left = _as_it_was(warehouse_path, before, named=True)
                    raise
    except WarehouseBusy as error:
        echo(f"FAILED: {error}")
        return LoadOutcome(exit_code=EXIT_BUSY, error=str(error))
    except KeyboardInterrupt:
        # outside a Dagster run (a run reports an interrupt as its failure): before the
        # publication or after it; the next catalog is the next load's to discard
        echo(f"INTERRUPTED: {left or _as_it_was(warehouse_path, before, named=True)}")
        return LoadOutcome(exit_code=EXIT_INTERRUPTED, error="interrupted",
                           interrupted=True)


def _run_load(
    landing_dir: Path,
    store: Store,
    echo: Callable[[str], None],
    instance: dg.DagsterInstance | None,
    dbt_project_dir: Path | None,
    full_refresh: bool,
    dbt_vars: str,
    vars_: dict,
    before: tuple[int, int] | None,
) -> LoadOutcome:
    """The load itself, once it holds the writer's lock and its settings are checked
    (`before`: the published catalog then, `_published_file`)."""
    from orchestration.defs.definitions import build_definitions

    warehouse_path = store.published
    digests = landing.Digests(store.landing_digests)
    deliveries = landing.scan(landing_dir, warn=echo, digests=digests)
    if not deliveries:
        echo(f"no deliveries in {landing_dir}")
    todo = landing.pending(deliveries, audit.loaded_files(audit.read_load_log(warehouse_path)))
    digests.save()
    project_dir = Path(dbt_project_dir or settings.DBT_PROJECT_DIR)
    fingerprint = rules_fingerprint(project_dir, vars_)
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
    defs = build_definitions(landing_dir, warehouse_path, dbt_project_dir, store.engine_kind)
    graph = defs.resolve_asset_graph()
    raw_keys = sorted(dg.AssetSelection.groups(INGEST_GROUP).resolve(graph))
    downstream = [key for key in graph.get_all_asset_keys() if key not in raw_keys]
    steps = _plan(todo, deliveries, raw_keys, downstream)
    job = defs.resolve_job_def(NIGHTLY_JOB)
    instance = instance or instance_for_cli()
    fail_abandoned_runs(instance, echo)
    register_deliveries(instance, [d.partition_key for d in deliveries])
    store.root.mkdir(parents=True, exist_ok=True)
    digests.save()
    rotate_log(store.log)
    # on Spark, the builds' one session, started beside the ingest (lib/dbt_server.py)
    start_engine(store.log, project_dir)
    # on a store's first load, the first build's parse of the project too (dbt_build.py)
    with parsing_ahead(store, project_dir, vars_, store.log):
        return _run_steps(store, echo, job, instance, steps, raw_keys, todo, full_refresh,
                          dbt_vars, before)


def _run_steps(store: Store, echo: Callable[[str], None], job: dg.JobDefinition,
               instance: dg.DagsterInstance, steps: list[Step], raw_keys: list[dg.AssetKey],
               todo: list[landing.Delivery], full_refresh: bool, dbt_vars: str,
               before: tuple[int, int] | None) -> LoadOutcome:
    """The load's steps (`_plan`), each a Dagster run of its own, then the check that the
    published warehouse holds what the load loaded."""
    warehouse_path = store.published
    # the runs of this load prepare one next catalog together; the process tag tells a later
    # load whether this one still runs
    tags = {SESSION_TAG: uuid.uuid4().hex, PROCESS_TAG: processes.token()}
    build_config = {"ops": {DBT_OP: {"config": {"full_refresh": full_refresh,
                                                "vars": dbt_vars or ""}}}}

    outcome = LoadOutcome(exit_code=0)
    with Progress("deliveries", total=len(steps), echo=echo) as progress, progress.reporting():
        for number, step in enumerate(steps, start=1):
            if processes.interrupted():  # also one that came between two runs
                raise KeyboardInterrupt
            label = step.partition_key or "(no delivery)"
            builds = step.selection != raw_keys
            progress.line(f"[{number}/{len(steps)}] delivery {label}"
                          + (": load, build, check, publish" if builds and step.loads
                             else ": build, check, publish" if builds else ": load"))
            # dbt's and Dagster's own lines (tracebacks included) go to the log file; the
            # terminal gets the progress lines
            with (open(store.log, "a", encoding="utf-8") as log,
                  contextlib.redirect_stdout(log), contextlib.redirect_stderr(log)):
                result = job.execute_in_process(
                    partition_key=step.partition_key,
                    asset_selection=step.selection,
                    instance=instance,
                    raise_on_error=False,
                    tags=tags,
                    run_config=QUIET_LOGGERS | (build_config if builds else {}),
                )
                if not result.success:
                    _log_failures(result, log)
            progress.advance()
            outcome.materialized = sorted(
                event.asset_key.to_user_string()
                for event in result.get_asset_materialization_events()
            )
            outcome.files += _collect_files(result)
            if not result.success:
                catalog.abandon_next(store)  # this load holds the writer's lock
                # a run that failed as it was being stopped (dbt not stopping in time, say)
                if _was_interrupted(result) or processes.interrupted():
                    outcome.exit_code, outcome.interrupted = EXIT_INTERRUPTED, True
                    outcome.error = "interrupted"
                    progress.line(f"INTERRUPTED at delivery {label}: "
                                  f"{_as_it_was(warehouse_path, before, named=True)}")
                    return outcome
                outcome.exit_code = 1
                outcome.error = _failure_message(result)
                progress.line(f"FAILED at delivery {label}: {outcome.error} "
                              f"({_as_it_was(warehouse_path, before)}; details in {store.log})")
                return outcome
            if step.loads:
                outcome.loaded.append(step.partition_key)
    missing = unpublished(warehouse_path, [d for d in todo if d.partition_key in outcome.loaded])
    if missing:
        outcome.exit_code, outcome.error = 1, (
            f"the published warehouse {warehouse_path} lacks "
            + ", ".join(missing) + " although this load loaded them; nothing is lost (the "
            "landing keeps them), the next load loads them again")
        echo(f"FAILED: {outcome.error}")
        return outcome
    outcome.published = True
    return outcome


def register_deliveries(instance: dg.DagsterInstance, keys: list[str]) -> None:
    """Add the deliveries' partitions that the instance does not know yet. A partition that
    exists is no error, not even when another process (the sensor, a load on the same instance)
    adds it at the same moment."""
    from sqlalchemy.exc import IntegrityError

    for key in keys:
        if instance.has_dynamic_partition(delivery_partitions.name, key):
            continue
        try:
            instance.add_dynamic_partitions(delivery_partitions.name, [key])
        except IntegrityError:
            if not instance.has_dynamic_partition(delivery_partitions.name, key):
                raise


def unpublished(warehouse_path: Path, loaded: list[landing.Delivery]) -> list[str]:
    """The files of the deliveries a load loaded that the published catalog's load log does
    not name with the same sha256: none, unless something other than this load wrote the
    warehouse. The check a load makes before it says that it loaded them."""
    logged = audit.published_digests(warehouse_path)
    return [
        f"{delivery.partition_key}/{name}"
        for delivery in loaded
        for name, digest in delivery.fingerprint().items()
        if logged.get(f"{delivery.partition_key}/{name}") != digest
    ]
