"""Dagster constants shared by several concerns: the writers' pool, the delivery partitions,
the ingest group, the nightly job's name and the session tag."""

import dagster as dg

# One writer at a time: every asset that writes the warehouse runs in this pool; every pool
# has the limit 1 in orchestration/dagster.yaml (`default_limit`).
WAREHOUSE_POOL = "cvm_warehouse"

# The partitions are the deliveries: one per landing folder (named after its extract date,
# any valid date), added by the schedule, the sensor and `cvm load` as folders arrive.
delivery_partitions = dg.DynamicPartitionsDefinition(name="deliveries")

# The group of the raw assets: what `cvm load` materialises for every delivery.
INGEST_GROUP = "ingest"

NIGHTLY_JOB = "nightly_job"

# Runs that prepare one next catalog together (the runs of one `cvm load`) share this tag's
# value; a run without it is a session of its own.
SESSION_TAG = "cvm/session"


def session_of(context) -> str:
    """The session a run belongs to: its tag, else its own run id."""
    return context.run.tags.get(SESSION_TAG) or context.run_id


def raw_asset_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity])
