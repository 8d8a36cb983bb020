"""The Dagster deployment: ingest, dbt, checks, publishing, the schedule and the sensor."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from orchestration import settings
from orchestration.assets_dbt import DBT_EXECUTABLE, build_dbt_assets, dbt_project
from orchestration.assets_ingest import delivery_partitions, raw_assets
from orchestration.assets_publish import build_publish_asset
from orchestration.resources import WarehouseResource
from orchestration.schedules import NIGHTLY_JOB, new_delivery_sensor, nightly_schedule


def build_definitions(
    landing_dir: str | Path | None = None,
    warehouse_path: str | Path | None = None,
    dbt_project_dir: str | Path | None = None,
) -> dg.Definitions:
    """The deployment; the arguments override the environment (and, for tests, the dbt
    project)."""
    project = (
        DbtProject(project_dir=dbt_project_dir, profiles_dir=dbt_project_dir)
        if dbt_project_dir
        else dbt_project
    )
    dbt_models = build_dbt_assets(project)
    marts = [
        key for key, group in dbt_models.group_names_by_key.items() if group == "marts"
    ]
    published = build_publish_asset(marts)
    nightly_job = dg.define_asset_job(
        NIGHTLY_JOB,
        selection=dg.AssetSelection.all(),
        partitions_def=delivery_partitions,
        description="Load one delivery (partition = extract date), build the warehouse with "
        "dbt, run every check, publish.",
    )
    return dg.Definitions(
        assets=[*raw_assets, dbt_models, published],
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        sensors=[new_delivery_sensor],
        resources={
            "warehouse": WarehouseResource(
                landing_dir=str(settings.landing_dir(landing_dir)),
                warehouse_path=str(settings.warehouse_path(warehouse_path)),
            ),
            "dbt": DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE),
        },
    )


defs = build_definitions()
