"""The new-delivery sensor: one run per new or corrected landing folder."""

import json

import dagster as dg

from orchestration.defs.constants import NIGHTLY_JOB
from orchestration.defs.resources import WarehouseResource
from orchestration.lib import landing


def new_delivery_requests(
    deliveries: list[landing.Delivery], seen: dict[str, list]
) -> tuple[list[dg.RunRequest], dict[str, list]]:
    """One run per delivery whose files are new or changed since ``seen``.

    ``seen`` (the sensor's cursor) maps a folder to [run key of its files, revision]. The run
    key joins the folder with its files' sha256: the same bytes again give the same key and no
    run; a corrected re-delivery gives a new key and a run. The revision counts the changes of
    a folder, so that even a folder changed back to earlier bytes is run again.
    """
    requests, now_seen = [], dict(seen)
    for delivery in deliveries:
        key = delivery.run_key()
        previous = seen.get(delivery.partition_key)
        if previous and previous[0] == key:
            continue
        revision = previous[1] + 1 if previous else 1
        now_seen[delivery.partition_key] = [key, revision]
        run_key = key if revision == 1 else f"{key}:r{revision}"
        requests.append(dg.RunRequest(run_key=run_key, partition_key=delivery.partition_key))
    return requests, now_seen


@dg.sensor(
    job_name=NIGHTLY_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Requests one run per new or corrected landing folder.",
)
def new_delivery_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    deliveries = landing.scan(warehouse.landing, warn=context.log.warning)
    seen = json.loads(context.cursor) if context.cursor else {}
    requests, now_seen = new_delivery_requests(deliveries, seen)
    context.update_cursor(json.dumps(now_seen, sort_keys=True))
    if not requests:
        return dg.SkipReason("no new or corrected delivery")
    return requests
