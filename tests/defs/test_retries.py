"""Retries: a busy warehouse is retried, a refused file fails at once."""

from __future__ import annotations

import multiprocessing
import threading
import time

import dagster as dg
import duckdb

from orchestration.defs.constants import SESSION_TAG, delivery_partitions
from orchestration.defs.ingest.assets import raw_assets
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.warehouse.lock import write_lock
from orchestration.lib.warehouse.store import Store
from tests.e2e_fixtures import D1, D2, write_delivery


def _instance(*partitions: str) -> dg.DagsterInstance:
    """A throw-away instance that knows the deliveries as partitions."""
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(delivery_partitions.name, list(partitions))
    return instance


def _resource(tmp_path):
    return WarehouseResource(
        landing_dir=str(tmp_path / "landing"),
        warehouse_path=str(tmp_path / "warehouse.duckdb"),
        lock_timeout_s=0.3,
        retry_wait_s=0.5,
        transient_retries=10,
    )


def _retries(result):
    return [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def _hold_until(store, release, ready):
    with write_lock(store):
        ready.set()
        deadline = time.monotonic() + 120
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def test_a_busy_warehouse_is_retried_until_it_is_free(tmp_path):
    """Another process holds the writer's lock until the run has been retried once (however
    slowly a busy machine starts the run), then frees it: the run waits, retries and lands."""
    write_delivery(tmp_path / "landing", D1)
    resource = _resource(tmp_path)
    release, ready = tmp_path / "release", multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_until,
                                     args=(resource.store, release, ready))
    holder.start()
    assert ready.wait(30), "the other process did not get the lock"
    instance, results = _instance(D1), []
    run = threading.Thread(target=lambda: results.append(dg.materialize(
        raw_assets, partition_key=D1, resources={"warehouse": resource}, raise_on_error=False,
        instance=instance)))
    run.start()
    deadline = time.monotonic() + 120
    while not _retried(instance) and run.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    release.touch()
    run.join(300)
    holder.join(30)
    (result,) = results
    assert result.success
    assert len(_retries(result)) >= 1


def _retried(instance: dg.DagsterInstance) -> bool:
    return any(record.dagster_event and record.dagster_event.event_type_value
               == "STEP_UP_FOR_RETRY"
               for run in instance.get_runs() for record in instance.all_logs(run.run_id))


def test_a_refused_file_is_not_retried(tmp_path):
    folder = tmp_path / "landing" / D1
    folder.mkdir(parents=True)
    (folder / "customers.csv").write_text("customer_id,customer_since\nC1,2020-01-01\n")
    result = dg.materialize(
        raw_assets, partition_key=D1, resources={"warehouse": _resource(tmp_path)},
        raise_on_error=False, instance=_instance(D1),
    )
    assert not result.success
    assert _retries(result) == []
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    description = failure.step_failure_data.user_failure_data.description
    assert f"{D1}/customers.csv" in description and "customer_name" in description


def _materialize(landing, published, partition, queue):
    resource = WarehouseResource(landing_dir=str(landing), warehouse_path=str(published))
    # one session, as the runs of one `cvm load`: both prepare the same next catalog
    result = dg.materialize(raw_assets, partition_key=partition,
                            resources={"warehouse": resource}, raise_on_error=False,
                            instance=_instance(partition), tags={SESSION_TAG: "one load"})
    queue.put((partition, result.success, len(_retries(result))))


def test_two_runs_at_once_write_one_after_the_other(tmp_path):
    """Two runs on one warehouse at the same time: the second waits for the writer's lock
    (DuckDB itself would refuse a second writing process) and both loads land."""
    landing = tmp_path / "landing"
    write_delivery(landing, D1)
    write_delivery(landing, D2)
    published = tmp_path / "warehouse.duckdb"
    queue = multiprocessing.Queue()
    runs = [multiprocessing.Process(target=_materialize, args=(landing, published, d, queue))
            for d in (D1, D2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(120)
    outcomes = sorted(queue.get(timeout=5) for _ in runs)
    assert outcomes == [(D1, True, 0), (D2, True, 0)]
    con = duckdb.connect(str(Store(published, "duckdb").next_catalog), read_only=True)
    files = {r[0] for r in con.execute("select source_file from audit.load_log").fetchall()}
    con.close()
    assert files == {f"{D1}/customers.csv", f"{D1}/orders.csv",
                     f"{D1}/service_activities.csv", f"{D2}/customers.csv",
                     f"{D2}/orders.csv", f"{D2}/service_activities.csv"}
