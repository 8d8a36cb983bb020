"""The new-delivery sensor: one run per new or corrected landing folder."""

import json

import dagster as dg

from orchestration.defs.constants import NIGHTLY_JOB, delivery_partitions
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
    description="Requests one run per new or corrected landing folder, and adds the folder "
    "to the delivery partitions.",
)
def new_delivery_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    digests = landing.Digests(warehouse.store.landing_digests)
    deliveries = landing.scan(warehouse.landing, warn=context.log.warning, digests=digests)
    seen = json.loads(context.cursor) if context.cursor else {}
    requests, now_seen = new_delivery_requests(deliveries, seen)
    digests.save()
    cursor = json.dumps(now_seen, sort_keys=True)
    if not requests:
        context.update_cursor(cursor)
        return dg.SkipReason("no new or corrected delivery")
    return dg.SensorResult(
        run_requests=requests,
        cursor=cursor,
        dynamic_partitions_requests=[delivery_partitions.build_add_request(
            sorted({request.partition_key for request in requests})
        )],
    )
