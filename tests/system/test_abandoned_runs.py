"""A run whose process is gone is marked failed, and its slot in the writers' pool is freed.

`cvm load` killed outright leaves its run STARTED in the Dagster instance, holding the one slot
of the pool `cvm_warehouse`: every later run would wait for it for ever. The next load finds
such runs by their process tag (tests/system/test_interrupts.py does it with real processes).
"""

from __future__ import annotations

import multiprocessing
import time

from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus
from dagster._core.test_utils import instance_for_test

from orchestration.defs.constants import NIGHTLY_JOB, PROCESS_TAG, WAREHOUSE_POOL
from orchestration.lib import processes
from orchestration.runner import fail_abandoned_runs


def _gone() -> str:
    """The token of a process that has ended."""
    child = multiprocessing.Process(target=time.sleep, args=(0,))
    child.start()
    token = processes.token(child.pid)
    child.join()
    return token


def test_a_run_of_a_gone_process_is_failed_and_its_slot_freed():
    with instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
        runs = {
            "killed": {PROCESS_TAG: _gone()},
            "running": {PROCESS_TAG: processes.token()},  # this process: still running
            "webserver": {},  # no process tag: Dagster's own monitoring watches it
        }
        for name, tags in runs.items():
            instance.add_run(DagsterRun(job_name=NIGHTLY_JOB, run_id=name.ljust(32, "0"),
                                        status=DagsterRunStatus.STARTED, tags=tags))
        storage.claim_concurrency_slot(WAREHOUSE_POOL, "killed".ljust(32, "0"), "publish")
        said: list[str] = []

        assert fail_abandoned_runs(instance, said.append) == 1

        status = {name: instance.get_run_by_id(name.ljust(32, "0")).status for name in runs}
        assert status == {"killed": DagsterRunStatus.FAILURE,
                          "running": DagsterRunStatus.STARTED,
                          "webserver": DagsterRunStatus.STARTED}
        assert storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots == []
        assert said == [f"run {'killed'.ljust(32, '0')} of an earlier load that was killed: "
                        "marked failed, its slot in the writers' pool freed"]
