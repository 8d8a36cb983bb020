"""The dbt project Dagster runs, and its manifest.

The manifest is dagster-dbt's to prepare: `dagster dev` (`make ui`) re-parses the project on
every load (`prepare_if_dev`); `make` prepares it before a demo or a test run with
`dagster-dbt project prepare-and-package --file orchestration/defs/dbt/project.py` whenever a
file of the dbt project changed. A project without a manifest (a fresh clone outside `make`,
or another project directory) is prepared once, when the Definitions are built.
"""

import contextlib
import importlib.metadata
import os
import sys
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from orchestration.settings import DBT_PROJECT_DIR

# the dbt next to this interpreter: the venv's, whether or not the venv is on PATH
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class CvmDbtCliResource(DbtCliResource):
    """dbt as dagster-dbt runs it, less two fixed costs of every run that the project does not
    need: asking the dbt executable for its version (a process of its own), and a dbt adapter
    in this process, with every macro parsed (it serves to fetch row counts and column
    metadata, which the project does not ask for)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def prepared(project: DbtProject) -> DbtProject:
    """The project, with a manifest: prepared by dagster-dbt when it has none yet."""
    if not project.manifest_path.exists():
        # dagster-dbt's preparer runs the `dbt` on PATH: make it the one next to Python
        path = f"{Path(DBT_EXECUTABLE).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        with environment(PATH=path):
            project.preparer.prepare(project)
    return project


def project_at(project_dir: str | Path | None) -> DbtProject:
    """The project in `project_dir` (default: the project's own), prepared."""
    if project_dir is None:
        return prepared(dbt_project)
    return prepared(DbtProject(project_dir=project_dir, profiles_dir=project_dir))
