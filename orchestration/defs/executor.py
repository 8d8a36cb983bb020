"""The executor of every run that Dagster launches (the schedule, the sensor, the UI, a
backfill): all steps in one process, under the warehouse's writer's lock from the first step to
the last.

A load is one writer from beginning to end (lib/warehouse/lock.py): another load that starts
meanwhile (a `cvm load`, a run of another Dagster instance) waits until this run ends, instead
of interleaving its steps with this run's. The steps take the lock again; within the run's
process that costs nothing. `cvm load` runs its runs in process (`execute_in_process`, which
brings its own executor) and holds the lock itself, around all of them.

Like `cvm load`, the run records every SIGINT and SIGTERM it receives (processes.
interrupts_recorded), so that one whose exception was swallowed on its way still stops dbt and
the publication.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
from dagster._core.definitions.executor_definition import (
    _core_in_process_executor_creation,
    in_process_executor,
)
from dagster._core.executor.in_process import InProcessExecutor

from orchestration.lib.processes import interrupts_recorded
from orchestration.lib.warehouse import catalog
from orchestration.lib.warehouse.lock import write_lock
from orchestration.lib.warehouse.store import Store


class WriterExecutor(InProcessExecutor):
    """Dagster's in-process executor, holding the writer's lock of `store` for the run."""

    def __init__(self, store: Store, base: InProcessExecutor):
        super().__init__(retries=base.retries,
                         step_dependency_config=base.step_dependency_config)
        self.store = store

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        run_id = plan_context.dagster_run.run_id
        with write_lock(self.store, what=f"Dagster run {run_id}",
                        on_wait=plan_context.log.info), interrupts_recorded():
            failed = False
            try:
                for event in super().execute(plan_context, execution_plan):
                    failed = failed or event.is_step_failure
                    yield event
            except BaseException:
                failed = True
                raise
            finally:
                if failed:  # nothing of a failed run stays: next catalog, new files
                    catalog.abandon_next(self.store)


def writer_executor(store: Store) -> dg.ExecutorDefinition:
    """The executor for the Definitions of the warehouse of `store`."""

    @dg.executor(name="cvm_writer", config_schema=in_process_executor.config_schema)
    def cvm_writer(init_context) -> WriterExecutor:
        return WriterExecutor(store,
                              _core_in_process_executor_creation(init_context.executor_config))

    return cvm_writer
