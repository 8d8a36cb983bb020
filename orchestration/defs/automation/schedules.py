"""The nightly schedule: every delivery the published warehouse lacks, in date order."""

import dagster as dg

from orchestration.defs.constants import NIGHTLY_JOB
from orchestration.defs.resources import WarehouseResource
from orchestration.lib import audit, landing


@dg.schedule(
    job_name=NIGHTLY_JOB,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Berlin",
    description="02:00 Europe/Berlin: load the newest delivery, and any earlier one that the "
    "published warehouse does not hold yet, in date order; build, check and publish.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    deliveries = landing.scan(warehouse.landing, warn=context.log.warning)
    todo = landing.pending(deliveries, audit.loaded_files(audit.read_load_log(warehouse.published)))
    if not todo:
        return dg.SkipReason(f"nothing new in {warehouse.landing}")
    # one run per delivery; the run queue (limit 1) starts them one after the other
    return [
        dg.RunRequest(run_key=delivery.run_key(), partition_key=delivery.partition_key)
        for delivery in todo
    ]
