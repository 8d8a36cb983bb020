"""Dagster constants shared by several concerns: the writers' pool, the delivery partitions,
the ingest group, the nightly job's name and the session tag."""

from pathlib import Path

import dagster as dg

from orchestration.lib.progress import report
from orchestration.lib.warehouse.fingerprint import BadVars, effective_vars

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

# The process that runs a run in process (`cvm load`): host, pid and start time
# (lib/processes.py). A run still STARTED whose process is gone was killed: the next load marks
# it failed and frees its slot in the writers' pool.
PROCESS_TAG = "cvm/process"


def session_of(context) -> str:
    """The session a run belongs to: its tag, else its own run id."""
    return context.run.tags.get(SESSION_TAG) or context.run_id


def raw_asset_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity])


PUBLISHED_KEY = dg.AssetKey(["published_warehouse"])  # the publish asset
DBT_OP = "cvm_dbt_models"  # the op of the dbt assets, configured by BuildConfig
VARS_ORIGIN = "vars"  # how an error names the BuildConfig's vars


def run_vars(context, landing: Path | None = None) -> dict:
    """The dbt vars of this run (`$CVM_DBT_VARS`, then its BuildConfig's `vars`), checked
    against the vars' schema (lib/warehouse/dbt_vars.py), and the controllers' reference files
    of the landing root (lib/warehouse/reference_inputs.py). A var that is unknown or not
    allowed, or a reference row that breaks a rule, fails the step at once, before anything
    is written, with the one line that `cvm load` prints for it."""
    config = context.run.run_config.get("ops", {}).get(DBT_OP, {}).get("config", {})
    try:
        return effective_vars(config.get("vars", ""), VARS_ORIGIN, landing)
    except BadVars as error:
        report(f"  FAILED: {error}", context)
        raise dg.Failure(description=str(error), allow_retries=False) from None
