"""The dbt vars: one declared schema (lib/warehouse/dbt_vars.py), held to dbt_project.yml and
to the reference's table, and every override checked against it before anything runs.

The refusals need no dbt build: `cvm load` stops before Dagster starts, and a Dagster run of
the nightly job stops at its first step.
"""

from __future__ import annotations

import re

import dagster as dg
import pytest
import yaml

from orchestration.cli import main
from orchestration.defs.constants import DBT_OP, NIGHTLY_JOB, delivery_partitions
from orchestration.lib.warehouse import dbt_vars
from orchestration.lib.warehouse.build_state import BuildPlan
from orchestration.lib.warehouse.dbt_build import DbtBuild
from orchestration.lib.warehouse.dbt_vars import BY_NAME, INTERNAL_VARS, VARS, BadVars
from orchestration.lib.warehouse.fingerprint import VARS_ENV, effective_vars
from orchestration.lib.warehouse.store import Store
from orchestration.runner import run_load
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_DIR
from tests.e2e_fixtures import D1, write_delivery

REFERENCE = PROJECT_DIR / "docs" / "reference.md"


@pytest.fixture(autouse=True)
def _no_deployment_vars(monkeypatch):
    monkeypatch.delenv(VARS_ENV, raising=False)


# --- the schema and its copies --------------------------------------------------------------

def test_the_schema_declares_the_vars_of_dbt_project_yml_with_their_defaults():
    declared = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    assert [v.name for v in VARS] == list(declared)
    assert {v.name: v.default for v in VARS} == declared
    for var in VARS:  # a default is allowed by its own var
        assert var.accepts(var.default), var.name


def test_every_var_the_dbt_project_reads_is_declared():
    read = set()
    for folder in ("models", "macros", "tests", "analyses", "snapshots"):
        for path in (DBT_PROJECT_DIR / folder).rglob("*.sql"):
            read |= set(re.findall(r"(?<!\w)var\(\s*['\"](\w+)['\"]", path.read_text()))
    # share_var / grid_bands_var read the var whose name they are given
    for path in (DBT_PROJECT_DIR / "models").rglob("*.sql"):
        read |= set(re.findall(r"(?:share_var|grid_bands_var)\(\s*['\"](\w+)['\"]",
                               path.read_text()))
    assert read == set(BY_NAME) | set(INTERNAL_VARS)


def test_the_reference_table_is_the_one_generated_from_the_schema():
    """To accept a change of the schema: .venv/bin/python -m orchestration.lib.warehouse.dbt_vars"""
    assert dbt_vars.documented_table(REFERENCE) == dbt_vars.reference_table()


def test_the_generated_table_by_hand(tmp_path):
    """Two rows read by hand, and the writer replaces exactly the table after the heading."""
    rows = dbt_vars.reference_table().splitlines()
    assert rows[0] == "| var | type | allowed | default | meaning |"
    assert rows[2].startswith("| `period_grain` | text | `year` or `quarter` | `year` | ")
    assert rows[8].startswith(
        "| `classic_value_threshold_eur` | decimal or null | `null` or an amount in EUR with at "
        "most 6 decimal places, less than 10^12 in size | `null` | ")
    page = tmp_path / "reference.md"
    page.write_text("# R\n\n### dbt vars\nText.\n\n| var |\n|---|\n| old |\n\nAfter.\n")
    dbt_vars.write_reference_table(page)
    assert page.read_text() == ("# R\n\n### dbt vars\nText.\n\n" + dbt_vars.reference_table()
                                + "\nAfter.\n")


# --- the check ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line", [
    # a value of the wrong type
    ("{mask_personal_data: no_thanks}",
     "--vars: mask_personal_data = \"no_thanks\" is not allowed (allowed: 'true' or 'false')"),
    ("{grid_classic_value_bands: '3'}",
     "--vars: grid_classic_value_bands = \"3\" is not allowed "
     "(allowed: a whole number from 2 to 10)"),
    ("{new_customer_months: 12.5}",
     "--vars: new_customer_months = 12.5 is not allowed (allowed: a whole number from 0 to 120)"),
    # out of range
    ("{abc_a_cutoff: 2}",
     "--vars: abc_a_cutoff = 2 is not allowed (allowed: a decimal from 0 to 1 with at most 9 "
     "decimal places, at most abc_b_cutoff)"),
    ("{target_share_of_wallet: 0.1234567891}",
     "--vars: target_share_of_wallet = 0.1234567891 is not allowed (allowed: a decimal from 0 "
     "to 1 with at most 9 decimal places)"),
    ("{grid_value_transfer_bands: 11}",
     "--vars: grid_value_transfer_bands = 11 is not allowed "
     "(allowed: a whole number from 2 to 10)"),
    ("{value_transfer_threshold_eur: 1000000000000}",
     "--vars: value_transfer_threshold_eur = 1000000000000 is not allowed (allowed: 'null' or "
     "an amount in EUR with at most 6 decimal places, less than 10^12 in size)"),
    # not one of the choices
    ("{period_grain: month}",
     "--vars: period_grain = \"month\" is not allowed (allowed: 'year' or 'quarter')"),
    ("{running_period_basis: null}",
     "--vars: running_period_basis = null is not allowed (allowed: 'full' or 'to_date')"),
    # strings that would end up in SQL
    ("{period_grain: \"year' OR 1=1 --\"}",
     "--vars: period_grain = \"year' OR 1=1 --\" is not allowed "
     "(allowed: 'year' or 'quarter')"),
    ("{classic_value_threshold_eur: '0) or (1=1'}",
     "--vars: classic_value_threshold_eur = \"0) or (1=1\" is not allowed (allowed: 'null' or "
     "an amount in EUR with at most 6 decimal places, less than 10^12 in size)"),
    # unknown vars
    ("{as_of: \"2024-01-01' OR 1=1 --\"}",
     "--vars: unknown var as_of (= \"2024-01-01' OR 1=1 --\"); the known vars are "
     + ", ".join(BY_NAME)),
    ("{perod_grain: quarter}",
     "--vars: unknown var perod_grain (= \"quarter\"); did you mean period_grain?"),
    # two vars that disagree: the A cut-off above the default B cut-off 0.95
    ("{abc_a_cutoff: 0.96}",
     "--vars: abc_a_cutoff = 0.96 is not allowed (allowed: at most abc_b_cutoff, which is "
     "0.95)"),
])
def test_a_var_that_is_not_allowed_is_refused_in_one_line(text, line):
    with pytest.raises(BadVars) as refused:
        effective_vars(text)
    assert str(refused.value) == line


def test_allowed_values_pass_as_given():
    text = ("{period_grain: quarter, abc_a_cutoff: 0.7, abc_b_cutoff: 1, new_customer_months: 0,"
            " target_share_of_wallet: 0.123456789, classic_value_basis: contribution_margin,"
            " classic_value_threshold_eur: -1500.25, value_transfer_threshold_eur: 2000,"
            " running_period_basis: to_date, grid_classic_value_bands: 10,"
            " grid_value_transfer_bands: 3, mask_personal_data: false}")
    assert effective_vars(text) == {
        "period_grain": "quarter", "abc_a_cutoff": 0.7, "abc_b_cutoff": 1,
        "new_customer_months": 0, "target_share_of_wallet": 0.123456789,
        "classic_value_basis": "contribution_margin", "classic_value_threshold_eur": -1500.25,
        "value_transfer_threshold_eur": 2000, "running_period_basis": "to_date",
        "grid_classic_value_bands": 10, "grid_value_transfer_bands": 3,
        "mask_personal_data": False}
    assert effective_vars("{classic_value_threshold_eur: null}") == {
        "classic_value_threshold_eur": None}
    assert effective_vars("") == {}


def test_the_deployment_s_vars_are_checked_and_named(monkeypatch):
    monkeypatch.setenv(VARS_ENV, "{period_grain: quarterly}")
    with pytest.raises(BadVars, match=r"^CVM_DBT_VARS: period_grain = \"quarterly\" is not"):
        effective_vars("{abc_a_cutoff: 0.7}")
    # a run's vars go over the deployment's, and the two are checked together
    monkeypatch.setenv(VARS_ENV, "{abc_b_cutoff: 0.6, period_grain: quarter}")
    assert effective_vars("{abc_a_cutoff: 0.5}") == {
        "abc_b_cutoff": 0.6, "period_grain": "quarter", "abc_a_cutoff": 0.5}
    with pytest.raises(BadVars) as refused:
        effective_vars("{abc_a_cutoff: 0.7}")
    assert str(refused.value) == ("--vars: abc_a_cutoff = 0.7 is not allowed "
                                  "(allowed: at most abc_b_cutoff, which is 0.6)")


def test_valid_vars_reach_dbt(tmp_path):
    plan = BuildPlan(full=True, reason="test", added={}, retired={})
    args = DbtBuild(Store(tmp_path / "w.duckdb", "duckdb"), plan,
                    effective_vars("{period_grain: quarter, mask_personal_data: false}")).args
    assert args[-2:] == ["--vars", '{"mask_personal_data": false, "period_grain": "quarter"}']


# --- cvm load: refused before anything runs -------------------------------------------------

def _written(root) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("text, named", [
    ("{abc_a_cutoff: 2}", "abc_a_cutoff = 2"),                             # out of range
    ("{mask_personal_data: no_thanks}", "mask_personal_data = \"no_thanks\""),  # bad type
    ("{period_grain: month}", "period_grain = \"month\""),                  # bad choice
    ("{period_grain: \"year' OR 1=1 --\"}", "period_grain = \"year' OR 1=1 --\""),  # SQL
    ("{no_such_var: 1}", "unknown var no_such_var (= 1)"),                 # unknown
])
def test_cvm_load_refuses_bad_vars_with_exit_2_before_anything_runs(
        tmp_path, monkeypatch, capsys, text, named):
    landing, warehouse = tmp_path / "landing", tmp_path / "out" / "warehouse.duckdb"
    write_delivery(landing, D1)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert main(["load", "--landing", str(landing), "--warehouse", str(warehouse),
                 "--vars", text]) == 2
    failed = [line for line in capsys.readouterr().out.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and failed[0].startswith(f"FAILED: --vars: {named}")
    # nothing published, nothing of the store written, no Dagster instance made
    assert not warehouse.exists()
    assert _written(tmp_path / "out") == []
    assert not (tmp_path / "dagster_home").exists()


def test_run_load_refuses_before_scanning_the_landing(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write_delivery(landing, D1)
    lines: list[str] = []
    instance = dg.DagsterInstance.ephemeral()
    outcome = run_load(landing, warehouse, echo=lines.append, instance=instance,
                       dbt_vars="{perod_grain: quarter}")
    assert outcome.exit_code == 2 and not outcome.published and outcome.loaded == []
    assert lines == ["FAILED: --vars: unknown var perod_grain (= \"quarter\"); "
                     "did you mean period_grain?"]
    assert instance.get_runs() == []
    assert not Store(warehouse, "duckdb").landing_digests.exists()


def test_run_load_with_valid_vars_goes_on(tmp_path):
    """Valid vars pass the check: with no delivery and nothing published, nothing to do."""
    (tmp_path / "landing").mkdir()
    lines: list[str] = []
    outcome = run_load(tmp_path / "landing", tmp_path / "warehouse.duckdb", echo=lines.append,
                       dbt_vars="{period_grain: quarter, abc_a_cutoff: 0.7}")
    assert outcome.exit_code == 0
    assert lines == [f"no deliveries in {tmp_path / 'landing'}"]


# --- a Dagster run with bad vars ------------------------------------------------------------

def test_a_dagster_run_with_bad_vars_fails_at_its_first_step(tmp_path):
    """As a run launched from the UI: the nightly job for one delivery, its BuildConfig's vars
    out of range. The first step (a raw asset) fails with the line `cvm load` prints; nothing
    is loaded, no next catalog is opened."""
    from orchestration.defs.definitions import build_definitions

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    write_delivery(landing, D1)
    defs = build_definitions(landing, warehouse)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(delivery_partitions.name, [D1])
    result = defs.resolve_job_def(NIGHTLY_JOB).execute_in_process(
        partition_key=D1, instance=instance, raise_on_error=False,
        run_config={"ops": {DBT_OP: {"config": {"vars": "{grid_value_transfer_bands: 1}"}}}},
    )
    assert not result.success
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures
    line = ("vars: grid_value_transfer_bands = 1 is not allowed "
            "(allowed: a whole number from 2 to 10)")
    assert {e.step_key for e in failures} <= {f"raw__{n}" for n in
                                              ("customers", "orders", "service_activities")}
    for event in failures:
        assert event.step_failure_data.user_failure_data.description == line
    assert not [e for e in result.all_events if e.is_step_success]
    assert not warehouse.exists()
    store = Store(warehouse, "duckdb").root
    assert not store.exists() or _written(store) == []
