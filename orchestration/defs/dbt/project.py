"""The dbt project Dagster runs, and its manifest.

The Definitions read the manifest; a manifest older than the project's files would name
models that no longer exist, or miss new ones (dbt then reports nodes the Definitions do not
know). So the manifest is prepared (by dagster-dbt, `dbt parse`) whenever it is missing or
the project's files differ from those it was prepared from: a digest of them is kept beside
it (`target/manifest.sources`). `dagster dev` (`make ui`) loads the code location again on
every reload, and so prepares the manifest again when a file changed.

dbt is always the one beside this Python (the venv's), whether or not the venv is activated:
dagster-dbt's own `prepare_if_dev` looks for `dbt` on PATH, and under `dagster dev` without an
activated venv the code location failed to load, so it is not used. The manifest is prepared
through CvmDbtCliResource (CvmDbtProjectPreparer): this process has no dbt-core to make an
adapter with (without_dbt.py).
"""

import contextlib
import importlib.metadata
import os
import sys
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from packaging import version

from orchestration.lib.warehouse.fingerprint import sources_digest
from orchestration.settings import DBT_PROJECT_DIR

# the dbt next to this interpreter: the venv's, whether or not the venv is on PATH
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
MANIFEST_SOURCES = "manifest.sources"  # beside the manifest: the digest it was prepared from

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


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


class CvmDbtProjectPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (`dbt parse`), run by CvmDbtCliResource: dagster-dbt's own
    resource would create a dbt adapter in this process, which has no dbt-core
    (without_dbt.py)."""

    def _prepare_manifest(self, project: DbtProject) -> None:
        CvmDbtCliResource(project_dir=project).cli(
            self._prepare_project_cli_args, target_path=project.target_path).wait()
        self._invalidate_seeds_in_partial_parse(project)


def prepared(project: DbtProject) -> DbtProject:
    """The project, with a manifest of its files as they are: prepared by dagster-dbt when it
    has none, or when the files changed since (see the module docstring)."""
    stamp = project.manifest_path.with_name(MANIFEST_SOURCES)
    digest = sources_digest(project.project_dir)
    current = (project.manifest_path.exists() and stamp.exists()
               and stamp.read_text(encoding="utf-8").strip() == digest)
    if not current:
        # dagster-dbt's preparer runs the `dbt` on PATH: make it the one next to Python
        path = f"{Path(DBT_EXECUTABLE).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        with environment(PATH=path):
            CvmDbtProjectPreparer().prepare(project)
        stamp.write_text(digest + "\n", encoding="utf-8")
    return project


def project_at(project_dir: str | Path | None) -> DbtProject:
    """The project in `project_dir` (default: the project's own), prepared."""
    if project_dir is None:
        return prepared(dbt_project)
    return prepared(DbtProject(project_dir=project_dir, profiles_dir=project_dir))
