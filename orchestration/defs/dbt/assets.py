"""The dbt project as Dagster assets; dbt tests become asset checks (error severity blocks)."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.defs.constants import WAREHOUSE_POOL
from orchestration.defs.dbt.project import environment
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.progress import report


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


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    """The dbt project's models, seeds and tests as assets and checks; `project` has a
    manifest (project.py)."""

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
            with environment(CVM_WAREHOUSE=str(work)):
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
