"""The nightly schedule and the new-delivery sensor."""


import json

import dagster as dg

from orchestration import landing
from orchestration.resources import WarehouseResource

NIGHTLY_JOB = "nightly_job"


@dg.schedule(
    job_name=NIGHTLY_JOB,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Berlin",
    description="02:00 Europe/Berlin: load the newest delivery, build, check and publish.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    deliveries, _ = landing.scan(warehouse.landing)
    if not deliveries:
        return dg.SkipReason(f"no delivery in {warehouse.landing}")
    newest = deliveries[-1]
    return dg.RunRequest(run_key=newest.run_key(), partition_key=newest.partition_key)


def new_delivery_requests(
    deliveries: list[landing.Delivery], seen: dict[str, str]
) -> tuple[list[dg.RunRequest], dict[str, str]]:
    """One run per delivery whose files are new or changed since ``seen`` (folder -> run key).

    The run key joins the folder with its files' sha256: the same bytes again give the same
    key (Dagster never runs a key twice), a corrected re-delivery gives a new one.
    """
    requests, now_seen = [], dict(seen)
    for delivery in deliveries:
        key = delivery.run_key()
        if seen.get(delivery.partition_key) == key:
            continue
        now_seen[delivery.partition_key] = key
        requests.append(dg.RunRequest(run_key=key, partition_key=delivery.partition_key))
    return requests, now_seen


@dg.sensor(
    job_name=NIGHTLY_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests one run per new or corrected landing folder.",
)
def new_delivery_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    deliveries, ignored = landing.scan(warehouse.landing)
    for name in ignored:
        context.log.warning(f"{warehouse.landing / name}: not a date (YYYY-MM-DD), ignored")
    seen = json.loads(context.cursor) if context.cursor else {}
    requests, now_seen = new_delivery_requests(deliveries, seen)
    context.update_cursor(json.dumps(now_seen, sort_keys=True))
    if not requests:
        return dg.SkipReason("no new or corrected delivery")
    return requests
