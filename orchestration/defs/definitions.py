"""The code location: the Definitions of every concern, merged.

ingest (raw assets and their checks), dbt (models, seeds, tests as checks), lifetime_value
(the purchase model fitted on the marts, and its check), publish (the published warehouse),
automation (the nightly job, its schedule, the new-delivery sensor), the resources they
share, and the executor of launched runs (one process, one writer).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.defs.automation.jobs import nightly_job
from orchestration.defs.automation.schedules import nightly_schedule
from orchestration.defs.automation.sensors import new_delivery_sensor
from orchestration.defs.dbt.assets import build_dbt_assets
from orchestration.defs.dbt.project import DBT_CHILD, CvmDbtCliResource, project_at
from orchestration.defs.executor import writer_executor
from orchestration.defs.ingest.assets import raw_assets
from orchestration.defs.lifetime_value.assets import build_lifetime_value_assets
from orchestration.defs.publish.assets import build_publish_asset
from orchestration.defs.resources import WarehouseResource


def build_definitions(
    landing_dir: str | Path | None = None,
    warehouse_path: str | Path | None = None,
    dbt_project_dir: str | Path | None = None,
    engine: str | None = None,
) -> dg.Definitions:
    """The deployment; the arguments override the environment (and, for tests, the dbt
    project). `engine` is the one dbt builds on (default $CVM_ENGINE, else duckdb)."""
    project = project_at(dbt_project_dir)
    dbt_models = build_dbt_assets(project)
    marts = [key for key, group in dbt_models.group_names_by_key.items() if group == "marts"]
    lifetime_value = build_lifetime_value_assets(marts)
    published = settings.warehouse_path(warehouse_path)
    return dg.Definitions(
        assets=[*raw_assets, dbt_models, lifetime_value,
                build_publish_asset([*marts, *lifetime_value.keys])],
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        sensors=[new_delivery_sensor],
        # every launched run: its steps in one process, under the writer's lock from first to
        # last (defs/executor.py)
        executor=writer_executor(published),
        resources={
            "warehouse": WarehouseResource(
                landing_dir=str(settings.landing_dir(landing_dir)),
                warehouse_path=str(published),
                engine=settings.engine(engine),
            ),
            "dbt": CvmDbtCliResource(project_dir=project, dbt_executable=DBT_CHILD),
        },
    )


defs = build_definitions()
