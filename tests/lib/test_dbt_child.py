"""`cvm-dbt` with $CVM_DBT_RUN_RESULTS (lib/dbt_child.py, as a load's build runs it): dbt writes
no JSON artifact of its own, the run results go to the file named, and the exit status is
that of dbt's command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration.lib.dbt_child import RUN_RESULTS_ENV
from orchestration.lib.dbt_server import SERVER_ENV
from orchestration.settings import DBT_PROJECT_DIR

CVM_DBT = str(Path(sys.executable).with_name("cvm-dbt"))


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != SERVER_ENV}  # dbt run by cvm-dbt
    env |= {"CVM_WAREHOUSE": str(tmp_path / "w.duckdb"), "DBT_WRITE_JSON": "false",
            RUN_RESULTS_ENV: str(tmp_path / "results" / "run_results.json")}
    return subprocess.run(
        [CVM_DBT, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_a_build_writes_its_run_results_alone(tmp_path):
    done = run(tmp_path, "seed", "--select", "service_catalogue")
    assert done.returncode == 0, done
    results = json.loads((tmp_path / "results" / "run_results.json").read_text())
    nodes = [(r["unique_id"], r["status"]) for r in results["results"]
             if not r["unique_id"].startswith("operation.")]  # the project's hooks besides
    assert nodes == [("seed.customer_value_warehouse.service_catalogue", "success")]
    assert not (tmp_path / "target" / "manifest.json").exists()
    assert (tmp_path / "target" / "partial_parse.msgpack").is_file()  # the parse is kept


def test_a_command_dbt_refuses_exits_2_saying_why_and_leaves_no_results(tmp_path):
    stale = tmp_path / "results" / "run_results.json"
    stale.parent.mkdir()
    stale.write_text("{}")  # an earlier build's
    done = run(tmp_path, "build", "--no-such-flag")
    assert done.returncode == 2  # dbt's exit status for an error that is not a node's
    assert "No such option" in done.stderr
    assert not stale.exists()
