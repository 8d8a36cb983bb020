"""A run of the nightly job as Dagster launches one (the schedule, the sensor, the UI): through
the job's own executor (`dg.execute_job`), not `execute_in_process`. For the tests of the one
writer: `python -m tests.launched_run_fixtures PARTITION` with $DAGSTER_HOME, $CVM_LANDING_DIR and
$CVM_WAREHOUSE set. Prints `run <id> success|failure` and exits 0 or 1."""

from __future__ import annotations

import sys

import dagster as dg


def nightly_job():
    from orchestration.defs.constants import NIGHTLY_JOB
    from orchestration.defs.definitions import build_definitions

    return build_definitions().resolve_job_def(NIGHTLY_JOB)


def main(partition: str) -> int:
    from orchestration.runner import instance_for_cli, register_deliveries

    instance = instance_for_cli()
    register_deliveries(instance, [partition])
    with dg.execute_job(dg.reconstructable(nightly_job), instance,
                        tags={"dagster/partition": partition}) as result:
        print(f"run {result.run_id} {'success' if result.success else 'failure'}", flush=True)
        return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
