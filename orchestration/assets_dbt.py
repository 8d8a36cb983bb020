"""The dbt project as Dagster assets; dbt tests become asset checks (error severity blocks)."""


import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.assets_ingest import WAREHOUSE_POOL
from orchestration.progress import report
from orchestration.resources import WarehouseResource
from orchestration.settings import DBT_PROJECT_DIR

# the dbt next to this interpreter: the venv's, whether or not the venv is on PATH
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for folder in ("models", "seeds", "macros", "tests", "snapshots", "analyses"):
        for path in (project_dir / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        newest = max(newest, (project_dir / name).stat().st_mtime)
    return newest


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project when its manifest is missing or older than its sources."""
    manifest = project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(
        Path(project.project_dir)
    ):
        subprocess.run(
            [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(project.project_dir),
             "--profiles-dir", str(project.profiles_dir), "--target-path",
             str(manifest.parent)],
            check=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
    return manifest


class CvmDbtTranslator(DagsterDbtTranslator):
    """dbt folders become asset groups; dbt sources are the ingest's raw assets."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        if resource_type == "model" and len(fqn) > 2:
            return fqn[1]  # staging | intermediate | marts
        return super().get_group_name(dbt_resource_props)


translator = CvmDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
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


def build_dbt_assets(project: DbtProject = dbt_project) -> dg.AssetsDefinition:
    ensure_manifest(project)

    @dbt_assets(
        manifest=project.manifest_path,
        dagster_dbt_translator=translator,
        project=project,
        pool=WAREHOUSE_POOL,
    )
    def cvm_dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        with warehouse.retry_transient(), warehouse.exclusive() as work:
            report("  dbt build (seeds, staging, intermediate, marts, tests) ...", context)
            # dbt writes the work copy; the published file is only ever replaced by publish.
            with _env(CVM_WAREHOUSE=str(work)):
                invocation = dbt.cli(["build"], context=context, raise_on_error=False)
            yield from invocation.stream()
            if not invocation.is_successful():
                failures = _failed_nodes(invocation)
                report(f"  dbt build FAILED: {', '.join(failures) or 'see the dbt log'}", context)
                raise dg.Failure(
                    description="dbt build failed; blocking checks or models that failed: "
                    + (", ".join(failures) or "see the dbt log"),
                    allow_retries=False,
                )
            report("  dbt build passed", context)

    return cvm_dbt_models


def _failed_nodes(invocation) -> list[str]:
    try:
        results = invocation.get_artifact("run_results.json").get("results", [])
    except Exception:  # the artifact may be missing after a crash
        return []
    failed = []
    for r in results:
        if r.get("status") in {"error", "fail", "runtime error"}:
            message = (r.get("message") or "").strip().splitlines()
            failed.append(f"{r['unique_id']} ({message[-1].strip() if message else r['status']})")
    return failed
