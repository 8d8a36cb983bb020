"""The code location: the Definitions of every concern, merged.

ingest (raw assets and their checks), dbt (models, seeds, tests as checks), lifetime_value
(the purchase model fitted between the two parts of the dbt build, its check, the value of
the customer base, and the return on value transfer with its check), publish (the published
warehouse, and the CRMs' write-back after it when $CVM_WRITEBACK_TARGETS is set),
automation (the nightly job, its schedule, the new-delivery sensor), the resources they
share, and the executor of launched runs (one process, one writer).

`defs` is a cached factory: importing this module does no dbt work; the Definitions (and the
dbt manifest they read, defs/dbt/project.py) are made when Dagster first loads them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.defs.automation.jobs import nightly_job
from orchestration.defs.automation.schedules import nightly_schedule
from orchestration.defs.automation.sensors import new_delivery_sensor
from orchestration.defs.dbt.assets import build_dbt_assets
from orchestration.defs.dbt.project import CvmDbtCliResource, project_at
from orchestration.defs.executor import writer_executor
from orchestration.defs.ingest.assets import raw_assets
from orchestration.defs.lifetime_value.assets import CLV_KEYS, lifetime_value_assets
from orchestration.defs.lifetime_value.payback import build_payback_asset
from orchestration.defs.publish.assets import build_publish_asset
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.writeback.assets import build_writeback_asset
from orchestration.lib.dbt_child import EXECUTABLE


def build_definitions(
    landing_dir: str | Path | None = None,
    warehouse_path: str | Path | None = None,
    dbt_project_dir: str | Path | None = None,
    engine_kind: str | None = None,
) -> dg.Definitions:
    """The deployment; the arguments override the environment (and, for tests, the dbt
    project). `engine_kind` is the engine dbt builds on (default $CVM_ENGINE, else duckdb)."""
    project = project_at(dbt_project_dir)
    dbt_models = build_dbt_assets(project)
    marts = [key for part in dbt_models for key, group in part.group_names_by_key.items()
             if group == "marts"]
    payback = build_payback_asset(marts)
    warehouse = WarehouseResource(
        landing_dir=str(settings.landing_dir(landing_dir)),
        warehouse_path=str(settings.warehouse_path(warehouse_path)),
        engine_kind=settings.engine_kind(engine_kind),
    )
    # the CRMs' write-back after publishing: only when $CVM_WRITEBACK_TARGETS names one
    targets = settings.writeback_targets()
    writeback = [build_writeback_asset(targets)] if targets else []
    return dg.Definitions(
        assets=[*raw_assets, *dbt_models, *lifetime_value_assets, payback,
                build_publish_asset([*marts, *CLV_KEYS, payback.key]), *writeback],
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        sensors=[new_delivery_sensor],
        # every launched run: its steps in one process, under the writer's lock from first to
        # last (defs/executor.py)
        executor=writer_executor(warehouse.store),
        resources={
            "warehouse": warehouse,
            # dbt as a child of the load that dies with it (lib/dbt_child.py)
            "dbt": CvmDbtCliResource(project_dir=project, dbt_executable=EXECUTABLE),
        },
    )


@dg.definitions
@functools.cache
def defs() -> dg.Definitions:
    """The deployment of the environment's settings, built when Dagster (`dagster dev`,
    `dagster definitions validate`) first asks for it and kept for the process: importing the
    code location prepares no dbt manifest and builds nothing."""
    return build_definitions()
