"""The nightly schedule: every delivery the published warehouse lacks, in date order; or, when
the rules changed and nothing new arrived, one run that rebuilds with the new rules."""

import dagster as dg

from orchestration import settings
from orchestration.defs.constants import NIGHTLY_JOB, delivery_partitions
from orchestration.defs.resources import WarehouseResource
from orchestration.lib import audit, landing
from orchestration.lib.warehouse import catalog
from orchestration.lib.warehouse.fingerprint import effective_vars, rules_fingerprint


@dg.schedule(
    job_name=NIGHTLY_JOB,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Berlin",
    description="02:00 Europe/Berlin: load the newest delivery, and any earlier one that the "
    "published warehouse does not hold yet, in date order; build, check and publish. With "
    "nothing new but changed rules (models, seeds, dbt vars), rebuild and publish.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    digests = landing.Digests(warehouse.store.landing_digests)
    deliveries = landing.scan(warehouse.landing, warn=context.log.warning, digests=digests)
    todo = landing.pending(deliveries, audit.loaded_files(audit.read_load_log(warehouse.published)))
    digests.save()
    if todo:
        # the partitions are the deliveries: register the new ones
        context.instance.add_dynamic_partitions(
            delivery_partitions.name, [delivery.partition_key for delivery in todo]
        )
        # one run per delivery; the run queue (limit 1) starts them one after the other
        return [
            dg.RunRequest(run_key=delivery.run_key(), partition_key=delivery.partition_key)
            for delivery in todo
        ]
    published = catalog.read_state(warehouse.published)
    fingerprint = rules_fingerprint(settings.DBT_PROJECT_DIR,
                                    effective_vars(landing=warehouse.landing))
    if deliveries and published is not None and published.rules_fingerprint != fingerprint:
        latest = deliveries[-1].partition_key
        return dg.RunRequest(run_key=f"rules:{fingerprint[:16]}", partition_key=latest)
    return dg.SkipReason(f"nothing new in {warehouse.landing}")
