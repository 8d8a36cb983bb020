"""`make ui`'s code location loads without an activated venv.

`dagster dev` loads the code location in a process of its own, with the environment it was
started in: on a fresh clone that is a PATH without the venv's bin folder. The definitions are
loaded here the same way (`dagster definitions validate`, as under `dagster dev`), in an
environment that holds nothing but a system PATH.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_DIR

pytestmark = pytest.mark.slow


def test_the_code_location_loads_with_the_venv_off_the_path(tmp_path):
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    clean_env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(PROJECT_DIR),
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_IS_DEV_CLI": "1",  # what `dagster dev` sets for its code servers
        "CVM_LANDING_DIR": str(tmp_path / "landing"),
        "CVM_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    }
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.defs.definitions"],
        cwd=PROJECT_DIR, env=clean_env, capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "not found on PATH" not in output
