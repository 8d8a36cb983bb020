"""dagster-dbt without dbt-core in the load's process (orchestration/defs/dbt/without_dbt.py):
the build's parts select what dbt's own selection selects, and the process that makes the
Definitions imports no dbt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging import version

from orchestration.defs.dbt import without_dbt
from orchestration.defs.dbt.project import dbt_project, prepared
from orchestration.lib.warehouse.dbt_build import FORECAST_SOURCE, PARTS

PROJECT_ROOT = Path(__file__).parents[2]
SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"  # test_definitions.py's


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(prepared(dbt_project).manifest_path.read_text(encoding="utf-8"))


def _dbt_selects(select: str, exclude: str, manifest: dict, monkeypatch) -> set[str]:
    """dbt's own selection, as dagster-dbt makes it where dbt-core is imported (its version
    known, so that dbt sees the unit tests too)."""
    import dbt.version
    from dagster_dbt import utils

    monkeypatch.setattr(utils, "DBT_PYTHON_VERSION", version.parse(dbt.version.__version__))
    return set(utils._select_unique_ids_from_manifest(select, exclude, "", manifest, None))


@pytest.mark.parametrize("part", sorted(PARTS))
def test_a_part_selects_what_dbt_selects(part, manifest, monkeypatch):
    select, exclude = PARTS[part]
    ours = without_dbt.part_selection(select, exclude, None, manifest)
    assert ours == _dbt_selects(select, exclude or "", manifest, monkeypatch)
    # the parts split the project: no node in both, the forecast's readers in the second
    if part == "customer_value":
        facts = without_dbt.part_selection(*PARTS["facts"], None, manifest)
        assert not ours & facts
        assert "model.customer_value_warehouse.customer_value" in ours
        assert "model.customer_value_warehouse.fct_service_activities" in facts
        # a test of the forecast's readers goes with them
        assert "test.customer_value_warehouse.column_rules_customer_value" in {
            unique_id.rsplit(".", 1)[0] for unique_id in ours}


def test_one_table_of_a_source_and_what_follows_it(manifest, monkeypatch):
    table = next(source["name"] for source in manifest["sources"].values()
                 if f"source:{source['source_name']}" == FORECAST_SOURCE)
    selection = f"{FORECAST_SOURCE}.{table}+"
    ours = without_dbt.part_selection(selection, None, None, manifest)
    assert ours == _dbt_selects(selection, "", manifest, monkeypatch)
    assert ours == without_dbt.part_selection(*PARTS["customer_value"], None, manifest)


def test_any_other_selection_is_dbt_s(manifest, monkeypatch):
    for select, exclude in [("marts", ""), ("+customer_value", "resource_type:test"),
                            ("tag:nothing_has_this_tag", "")]:
        assert without_dbt.part_selection(select, exclude, None, manifest) is None
        assert without_dbt.select_unique_ids(select, exclude, "", None, manifest) \
            == _dbt_selects(select, exclude, manifest, monkeypatch)


def test_the_definitions_are_made_without_importing_dbt(manifest):
    """A fresh process, as `cvm load` makes it: the Definitions' dbt assets and checks are the
    manifest's models and seeds and the snapshot's checks on them, and no module of dbt-core
    was imported."""
    script = (
        "import json, sys\n"
        "from orchestration.defs import definitions\n"
        "parts = [a for a in definitions.defs().assets if getattr(a, 'op', None) is not None\n"
        "         and a.op.name.startswith('cvm_dbt')]\n"
        "print(json.dumps({\n"
        "    'ops': sorted(a.op.name for a in parts),\n"
        "    'assets': sorted(k.to_user_string() for a in parts for k in a.keys),\n"
        "    'checks': sorted(f'{k.asset_key.to_user_string()}:{k.name}'\n"
        "                     for a in parts for k in a.check_keys),\n"
        "    'dbt_modules': sorted({m.split('.')[0] for m in sys.modules\n"
        "                           if m.split('.')[0] in ('dbt', 'dbt_common')})}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, check=False)
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout.strip().splitlines()[-1])
    assert made["dbt_modules"] == []
    assert made["ops"] == ["cvm_dbt_customer_value", "cvm_dbt_models"]
    nodes = [node for node in manifest["nodes"].values()
             if node["resource_type"] in ("model", "seed")]
    assert len(made["assets"]) == len(set(made["assets"])) == len(nodes)
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert set(made["assets"]) <= set(snapshot["assets"])
    assert made["checks"] == sorted(check for check in snapshot["asset_checks"]
                                    if check.split(":")[0] in made["assets"])
