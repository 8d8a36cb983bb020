"""Dagster constants shared by several concerns: the writers' pool, the delivery partitions,
the ingest group and the nightly job's name."""

import dagster as dg

# One writer at a time: every asset that writes the DuckDB file runs in this pool, whose limit
# is 1 in orchestration/dagster.yaml.
WAREHOUSE_POOL = "cvm_warehouse"

# Deliveries are daily folders named after their extract date.
delivery_partitions = dg.DailyPartitionsDefinition(
    start_date="2015-01-01", timezone="Europe/Berlin", end_offset=1
)

# The group of the raw assets: what `cvm load` materialises for every delivery.
INGEST_GROUP = "ingest"

NIGHTLY_JOB = "nightly_job"


def raw_asset_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity])
