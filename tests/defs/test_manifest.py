"""The dbt manifest follows the dbt project's files.

The Definitions are built from the manifest. A manifest prepared before a model was added
does not know that model: dbt then builds a node the Definitions have no asset for, and the
load crashed with a KeyError. The manifest is prepared again whenever the project's files
differ from those it was prepared from, and only then.
"""

from __future__ import annotations

import json
import shutil

import pytest

from orchestration.defs.dbt.project import MANIFEST_SOURCES, project_at
from orchestration.settings import DBT_PROJECT_DIR

pytestmark = pytest.mark.slow


def _models(project) -> set[str]:
    manifest = json.loads(project.manifest_path.read_text(encoding="utf-8"))
    return {node["name"] for node in manifest["nodes"].values()
            if node["resource_type"] == "model"}


def test_the_manifest_is_prepared_again_when_a_project_file_changed(tmp_path):
    folder = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, folder,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    project = project_at(folder)
    assert "fct_order_lines" in _models(project)
    assert "int_added_later" not in _models(project)
    stamp = project.manifest_path.with_name(MANIFEST_SOURCES)
    prepared_at = project.manifest_path.stat().st_mtime_ns

    # nothing changed: the manifest is kept as it is (no second `dbt parse`)
    assert project_at(folder).manifest_path.stat().st_mtime_ns == prepared_at

    # a model added after the manifest was prepared: the next start knows it
    (folder / "models" / "intermediate" / "int_added_later.sql").write_text(
        "select 1 as answer\n", encoding="utf-8")
    before = stamp.read_text(encoding="utf-8")
    assert "int_added_later" in _models(project_at(folder))
    assert stamp.read_text(encoding="utf-8") != before

    # and taken away again: the manifest forgets it
    (folder / "models" / "intermediate" / "int_added_later.sql").unlink()
    assert "int_added_later" not in _models(project_at(folder))
