"""The nightly job: one delivery (a partition) loaded, built, checked and published."""

import dagster as dg

from orchestration.defs.constants import NIGHTLY_JOB, delivery_partitions

nightly_job = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=dg.AssetSelection.all(),
    partitions_def=delivery_partitions,
    description="Load one delivery (partition = extract date), build the warehouse with "
    "dbt, run every check, publish.",
)
