"""The Dagster Definitions load, and what they hold is snapshotted so that drift shows.

To accept an intended change: CVM_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest
tests/defs/test_definitions.py, then review the diff of tests/defs/snapshots/definitions.json.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs import definitions
from orchestration.defs.constants import WAREHOUSE_POOL
from orchestration.defs.dbt import project
from tests.ingest_fixtures import run_python

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return definitions.defs()  # the code location's factory, as Dagster loads it


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def test_importing_the_code_location_does_no_dbt_work(monkeypatch):
    """The Definitions are made when Dagster asks for them, once per process: importing the
    module prepares no manifest."""
    def refuse(_project):
        raise AssertionError("the dbt manifest was prepared on import")

    monkeypatch.setattr(project, "prepared", refuse)
    module = importlib.reload(definitions)
    with pytest.raises(AssertionError, match="prepared on import"):
        module.defs()  # the factory does the work, when called
    monkeypatch.undo()
    assert module.defs() is module.defs()  # and does it once


def test_the_definitions_leave_the_purchase_model_s_libraries_to_its_assets():
    """numpy, pandas and scipy (about 1.3 s of imports) are imported by the assets that fit
    the purchase model and compute the payback, when they run, not with the definitions; and
    import_in_background imports them."""
    script = (
        "import sys, threading\n"
        "from orchestration.defs.definitions import build_definitions\n"
        "build_definitions()\n"
        "heavy = ('numpy', 'pandas', 'scipy', 'orchestration.lib.clv.build')\n"
        "print('with the definitions:', sorted(m for m in heavy if m in sys.modules))\n"
        "from orchestration.lib.clv import import_in_background\n"
        "import_in_background()\n"
        "for thread in threading.enumerate():\n"
        "    if thread.name == 'cvm-import-purchase-model':\n"
        "        thread.join(60)\n"
        "print('in the background:', sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = run_python(script)
    assert "with the definitions: []" in out, out
    assert "in the background: ['numpy', 'orchestration.lib.clv.build', 'pandas', 'scipy']" \
        in out, out


def _describe(graph, defs) -> dict:
    return {
        "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
        "asset_checks": sorted(
            f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys
        ),
        "jobs": sorted(job.name for job in defs.resolve_all_job_defs()
                       if not job.name.startswith("__")),
        "schedules": sorted(s.name for s in defs.schedules or []),
        "sensors": sorted(s.name for s in defs.sensors or []),
    }


def test_definitions_match_the_snapshot(graph, defs):
    current = _describe(graph, defs)
    if os.environ.get("CVM_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_every_mart_of_the_reference_is_an_asset(graph):
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for mart in ("dim_customers", "dim_customers_history", "dim_service_types",
                 "fct_service_activities",
                 "fct_value_transfers", "fct_order_lines", "customer_value",
                 "segment_migration", "segment_summary", "customer_cockpit"):
        assert f"marts/{mart}" in keys
    for raw in ("customers", "orders", "service_activities"):
        assert f"raw/{raw}" in keys


def test_raw_assets_are_partitioned_by_delivery_and_carry_gx_checks(graph):
    for entity in ("customers", "orders", "service_activities"):
        node = graph.get(dg.AssetKey(["raw", entity]))
        # the partitions are the deliveries that exist, not a calendar
        assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
        assert node.partitions_def.name == "deliveries"
        checks = {k.name for k in node.check_keys}
        assert {"great_expectations", "load_reconciles"} <= checks


def test_every_writer_is_in_the_single_writer_pool(defs):
    pools = {}
    for assets_def in defs.assets:
        for key in assets_def.keys:
            pools[key.to_user_string()] = assets_def.op.pool
    assert pools and all(pool == WAREHOUSE_POOL for pool in pools.values()), pools


def test_error_severity_dbt_tests_are_blocking_checks(graph, defs):
    specs = {}
    for assets_def in defs.assets:
        for spec in assets_def.check_specs:
            specs[f"{spec.asset_key.to_user_string()}:{spec.name}"] = spec.blocking
    # a generic error test and a singular reconciliation test attached through dbt meta
    assert specs["marts/customer_value:column_rules_customer_value"] is True
    assert specs[
        "marts/customer_value:assert_value_transfer_ledger_reconciles_with_customer_value"
    ] is True
    # the warn-severity report of unpriced activities does not block
    assert specs[
        "marts/fct_service_activities:assert_unpriced_activities_are_reported"
    ] is False


def test_the_purchase_model_is_fitted_between_the_two_parts_of_the_dbt_build(graph, defs):
    """The fit reads customer_purchase_summary (first part) and writes the forecast that the
    potential (second part) reads; the parts are two ops, so the fit runs between them."""
    def key(name):
        return dg.AssetKey(name.split("/"))

    def op_of(name):
        return next(a.op.name for a in defs.assets if key(name) in a.keys)

    forecast = key("purchase_model/annual_forecast")
    assert graph.get(forecast).parent_keys == {key("marts/customer_purchase_summary")}
    assert forecast in graph.get(key("intermediate/int_purchase_model_forecast")).parent_keys
    assert op_of("marts/customer_purchase_summary") == op_of("marts/fct_value_transfers") \
        == "cvm_dbt_models"
    assert op_of("marts/customer_value") == op_of("marts/segment_migration") \
        == "cvm_dbt_customer_value"
    assert op_of("purchase_model/annual_forecast") == "customer_lifetime_value_fit"
    assert graph.get(key("marts/customer_equity")).parent_keys >= {
        key("marts/customer_value"), key("marts/customer_lifetime_value")}


def test_schedule_and_sensor_target_the_nightly_job(defs):
    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert schedule.job_name == "nightly_job"
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Europe/Berlin")
    assert defs.resolve_sensor_def("new_delivery_sensor").job_name == "nightly_job"
